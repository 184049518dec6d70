"""What every operation works on: one campaign, its database, its clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.campaign.model import Campaign
from bot.delivery.clock import Clock
from bot.store.db import Database
from bot.store.defaults import PhotoSettings


def _nobody_sending() -> None:
    """Without a running sender (the command line) the outbox is looked at by `loa run`."""


@dataclass(frozen=True)
class Env:
    db: Database
    campaign: Campaign
    campaign_key: str  # names the campaign in outbox keys and answers
    clock: Clock = field(default_factory=Clock)
    # Something new is due (a broadcast, a registration): the running sender looks now.
    wake: Callable[[], None] = _nobody_sending
    # units' photos: where, how many, how large
    photos: PhotoSettings = field(default_factory=PhotoSettings)

    @property
    def photos_folder(self) -> Path:
        """Where the photos' files are: `LOA_PHOTOS_DIR`, else beside the SQLite file."""
        return self.photos.folder_for(self.db.file)
