"""Reading the files a coordinator hands Loa, and saying in words why one cannot be read.

The operating system says it in English (`[Errno 21] Is a directory`, `'utf-8' codec can't decode
byte 0xcc`); a `Problem` here says it in Vietnamese first (messages/errors.yaml), the system's
words after as the detail.
"""

from __future__ import annotations

import errno
from pathlib import Path

from bot.errors import Invalid, Problem

_REASONS = {
    errno.ENOENT: "file_missing",
    errno.ENOTDIR: "file_missing",
    errno.EISDIR: "file_is_folder",
    errno.EACCES: "file_forbidden",
    errno.EPERM: "file_forbidden",
}


def read_bytes(path: Path) -> bytes:
    """The file's bytes; raises `Invalid` saying why it cannot be read."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise Invalid([unreadable(path, exc)]) from None


def read_utf8(path: Path) -> str:
    """A UTF-8 text file (a byte-order mark, as Windows' Notepad writes, is dropped)."""
    data = read_bytes(path)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid([not_utf8(path, exc)]) from None


def unreadable(path: str | Path, exc: OSError) -> Problem:
    code = _REASONS.get(exc.errno or 0, "file_unreadable")
    return Problem((), code, {"detail": exc.strerror or str(exc)}, str(path), 1)


def not_utf8(path: str | Path, exc: UnicodeDecodeError) -> Problem:
    """Where the first byte that is not UTF-8 is: its line, and the byte as a hex number."""
    line = exc.object[: exc.start].count(b"\n") + 1
    ctx = {"byte": f"0x{exc.object[exc.start]:02X}", "detail": str(exc)}
    return Problem((), "file_not_utf8", ctx, str(path), line)
