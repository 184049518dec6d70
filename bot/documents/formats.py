"""The export's file formats and their writers (openpyxl and python-docx load on demand)."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import BinaryIO

from bot.stats.export import Export

FORMATS = ("xlsx", "csv", "docx")


def writer(fmt: str) -> Callable[[Export, BinaryIO], None]:
    """The function that writes `fmt` ("xlsx", "csv" or "docx") to a binary stream."""
    if fmt == "xlsx":
        from bot.documents import workbook

        return workbook.build
    if fmt == "csv":
        from bot.documents import longform

        return longform.build
    if fmt == "docx":
        from bot.documents import report

        return report.build
    raise ValueError(f"no such export format: {fmt!r}")


def written(export: Export, fmt: str) -> bytes:
    """The whole file in memory (a chat sends it as one document)."""
    out = io.BytesIO()
    writer(fmt)(export, out)
    return out.getvalue()
