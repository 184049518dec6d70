"""Local fake Bot API servers (Telegram, Zalo) for the demo, the tests and the benchmarks."""
