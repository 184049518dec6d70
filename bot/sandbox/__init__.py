"""Local fake Bot API servers (Telegram, later Zalo) for the demo, the tests and the benchmarks."""
