"""The photos' settings: LOA_PHOTOS_DIR, LOA_PHOTOS_PER_UNIT, LOA_PHOTO_MAX_BYTES, their
defaults, and a Vietnamese sentence for a value that cannot be used."""

from pathlib import Path

import pytest

from bot.config import Settings
from bot.errors import Invalid
from bot.messages import describe
from bot.store.defaults import PhotoSettings


def settings(**values: str) -> Settings:
    return Settings.from_env(values, env_file="/nonexistent")


def test_by_default_ten_photos_of_up_to_10_mb_beside_the_database():
    assert settings().photos == PhotoSettings(None, 10, 10 * 1024 * 1024)
    assert settings().photos.folder_for("/srv/loa/var/loa.db") == Path("/srv/loa/var/photos")


def test_each_setting_is_read():
    found = settings(
        LOA_PHOTOS_DIR="/data/anh", LOA_PHOTOS_PER_UNIT="4", LOA_PHOTO_MAX_BYTES="5000"
    )
    assert found.photos == PhotoSettings(Path("/data/anh"), 4, 5000)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("LOA_PHOTOS_PER_UNIT", "0"),
        ("LOA_PHOTOS_PER_UNIT", "mười"),
        ("LOA_PHOTOS_PER_UNIT", "-3"),
        ("LOA_PHOTO_MAX_BYTES", "10MB"),
        ("LOA_PHOTO_MAX_BYTES", "100"),
        ("LOA_PHOTO_MAX_BYTES", str(10**12)),
    ],
)
def test_a_count_that_cannot_be_used_is_refused_in_words(name, value):
    with pytest.raises(Invalid) as caught:
        settings(**{name: value})
    [problem] = caught.value.problems
    assert problem.path == (name,)
    assert f"“{value}” không hợp lệ: cần một số nguyên từ" in describe(problem)
