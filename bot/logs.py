"""Logging that never prints a secret.

Libraries log request URLs (httpx: `POST https://api.telegram.org/bot<TOKEN>/sendMessage`), and
a wrong webhook secret ends up in PTB's debug lines. Rather than trusting every logger, a filter
on our handler masks every known secret in every record, whatever logger produced it.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import TextIO

MASK = "***"


class Redact(logging.Filter):
    """Replace each secret (tokens, webhook secret) with `***` in the formatted message."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = message
        for secret in self.secrets:
            masked = masked.replace(secret, MASK)
        if masked != message or record.exc_info:
            if record.exc_info:  # tracebacks can quote URLs too
                formatter = logging.Formatter()
                masked += "\n" + formatter.formatException(record.exc_info)
                for secret in self.secrets:
                    masked = masked.replace(secret, MASK)
                record.exc_info = None
                record.exc_text = None
            record.msg, record.args = masked, None
        return True


def setup(
    secrets: Iterable[str], level: int = logging.INFO, stream: TextIO | None = None
) -> logging.Handler:
    """One handler on the root logger, masking `secrets`; quiet the chattiest libraries."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(Redact(secrets))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("httpx", "httpcore", "apscheduler", "aiosqlite"):
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
    # PTB logs every 429 with a traceback before raising it; the dispatcher handles and logs it.
    logging.getLogger("telegram.ext.AIORateLimiter").setLevel(logging.CRITICAL)
    return handler
