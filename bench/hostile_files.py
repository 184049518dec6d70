"""Booby-trapped files at full size (issue 14, item 5): how long `loa` takes to refuse them, and
the most memory its process held.

    .venv/bin/python bench/hostile_files.py

Each file is handed to a fresh `python -m bot` process: the 342-byte campaign YAML whose nine
nested aliases expand to 9**9 strings (`loa check`), and a 1 KB `.docx` whose document part
inflates to 1 GB of zeros (bzip2, which zipfile and so python-docx read; `loa import-plan`).
Printed per case: exit status, seconds, peak resident memory of the child (ru_maxrss), and the
first line it wrote. Goal: exit 2, under 2 s, under 300 MB.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GIGABYTE = 2**30


def alias_bomb(folder: Path) -> Path:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    path = folder / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def zip_bomb(folder: Path) -> Path:
    """A minimal Word package whose document part is 1 GB of zeros."""
    path = folder / "bomb.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_BZIP2) as archive:  # zeros: about 1 KB a GB
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        with archive.open("word/document.xml", "w", force_zip64=True) as part:
            chunk = bytes(2**24)
            for _ in range(GIGABYTE // len(chunk)):
                part.write(chunk)
    return path


def refuse(*argv: str) -> str:
    """Run `loa ARGV` alone; what it did, in one line."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "bot", *argv], cwd=ROOT, capture_output=True, text=True
    )
    seconds = time.perf_counter() - began
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KB, the largest child so far
    said = (done.stdout + done.stderr).strip().splitlines()[:1]
    note = "" if peak > before else " (not above an earlier child)"
    return (
        f"exit {done.returncode} | {seconds:.2f} s | peak {peak / 1024:.0f} MB{note} | "
        f"{said[0][:150] if said else ''}"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        yaml_bomb = alias_bomb(Path(folder))
        print(f"alias bomb, {yaml_bomb.stat().st_size} bytes: {refuse('check', str(yaml_bomb))}")
        docx_bomb = zip_bomb(Path(folder))
        size = docx_bomb.stat().st_size
        print(f"zip bomb, {size:,} bytes -> 1 GB: {refuse('import-plan', str(docx_bomb))}")


if __name__ == "__main__":
    main()
