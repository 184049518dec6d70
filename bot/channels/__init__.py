"""Chat platforms behind one protocol: `base.Channel`; Telegram and Zalo adapters."""
