from pathlib import Path

import pytest

from bot.campaign.loader import load_campaign
from bot.campaign.model import Campaign

ROOT = Path(__file__).resolve().parent.parent
SCHEDULES = ROOT / "schedules"

SEEDS = {
    "gia-lam": "2020-gia-lam.yaml",
    "lac-thuy": "2023-lac-thuy.yaml",
    "quan-12": "2021-quan-12.yaml",
    "khanh-hoa": "2021-khanh-hoa.yaml",
    "brvt": "2022-ba-ria-vung-tau.yaml",
}


@pytest.fixture(scope="session")
def seeds() -> dict[str, Campaign]:
    return {key: load_campaign(SCHEDULES / name) for key, name in SEEDS.items()}
