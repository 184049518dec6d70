"""The store's defaults, defined once: where the database is when `DATABASE_URL` is unset, and
where units' photos are kept.

Light on purpose (no database library imported), so reading the settings stays cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATABASE_URL = "sqlite:///var/loa.db"

PHOTOS_FOLDER = "photos"  # beside the SQLite file (`var/photos`), or under `var/` on a server
PHOTOS_PER_UNIT = 10  # photos a unit keeps at most: "a few representative photos"
PHOTO_MAX_BYTES = 10 * 1024 * 1024  # a download or upload larger than this is refused unread


@dataclass(frozen=True)
class PhotoSettings:
    """Where units' photos are kept and how many, how large (`LOA_PHOTOS_DIR`,
    `LOA_PHOTOS_PER_UNIT`, `LOA_PHOTO_MAX_BYTES`)."""

    folder: Path | None = None  # None: `default_photos_folder` of the database
    per_unit: int = PHOTOS_PER_UNIT
    max_bytes: int = PHOTO_MAX_BYTES

    def folder_for(self, database_file: str | None) -> Path:
        """The folder set, else `photos` beside the SQLite file, else `var/photos`."""
        if self.folder is not None:
            return self.folder
        beside = Path(database_file).parent if database_file else Path("var")
        return beside / PHOTOS_FOLDER
