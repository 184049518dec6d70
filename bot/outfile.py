"""Writing a file a person asked for (`loa export -o`, `loa import-plan -o`): whole or not at all,
never through a link someone planted, never over a device, and never over an existing file
unless told to (`--force`): a hand-edited campaign file is worth more than a fresh draft.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from bot.errors import Invalid, Problem


def write_whole(path: Path, write: Callable[[BinaryIO], None], *, force: bool = False) -> None:
    """`write` into a new file beside `path`, then put it in `path`'s place.

    The temporary file is made exclusively (a random name, O_EXCL: a planted symlink is never
    followed) and readable by its owner only. Raises `Invalid` (`output_exists`,
    `output_not_a_file`) before writing anything, and lets an `OSError` through for the caller
    to word (no such folder, no permission, disk full).
    """
    _may_replace(path, force)
    handle, partial = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        _may_replace(path, force)  # again: something may have appeared while writing
        os.replace(partial, path)
    finally:
        Path(partial).unlink(missing_ok=True)  # gone once moved; half a file never stays


def _may_replace(path: Path, force: bool) -> None:
    try:
        found = path.lstat()  # a symlink itself, not where it points
    except FileNotFoundError:
        return
    if not stat.S_ISREG(found.st_mode):
        raise Invalid([Problem((), "output_not_a_file", {"file": str(path)})])
    if not force:
        raise Invalid([Problem((), "output_exists", {"file": str(path)})])
