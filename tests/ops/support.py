"""A campaign's environment over a test database: units imported, some chats bound."""

import datetime as dt

from bot.campaign.loader import load_campaign
from bot.campaign.units import Unit as CsvUnit
from bot.delivery.clock import Clock
from bot.ops import units as unit_ops
from bot.ops.env import Env
from bot.ops.figures import Place
from bot.store import chats
from bot.store.units import unit_by_code
from tests.conftest import SCHEDULES, SEEDS

VN = dt.timezone(dt.timedelta(hours=7))
KEY = "lac-thuy-2023"


class StillClock(Clock):
    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def now(self) -> dt.datetime:
        return self.at


class Wakes:
    """The sender's wake-up, counted."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


def environment(db, at=dt.datetime(2023, 10, 4, 9, tzinfo=VN)) -> Env:
    return Env(db, load_campaign(SCHEDULES / SEEDS["lac-thuy"]), KEY, StillClock(at), Wakes())


async def with_units(env: Env, *units: tuple[str, str] | tuple[str, str, str]) -> None:
    """Units (code, type[, parent]) imported as the office's file would."""
    rows = [CsvUnit(code, f"Đơn vị {code}", *rest) for code, *rest in units]
    await unit_ops.import_units(env.db, rows, source="units.csv", actor="test")


async def bound(env: Env, code: str, chat_id: str, active: bool = True) -> Place:
    """A Telegram group registered to the unit `code`."""
    async with env.db.session() as session, session.begin():
        chat = await chats.meet(session, "telegram", chat_id, "group", f"Nhóm {code}")
        unit = await unit_by_code(session, code)
        assert unit is not None and await chats.bind(session, chat, unit)
        if not active:
            chats.deactivate(chat)
    return Place(chat.id, unit)


def jpeg(colour=(200, 40, 40), size=(640, 480), gps: bool = False) -> bytes:
    """A plain JPEG of one colour; with `gps`, carrying a GPS position in its EXIF."""
    import io

    from PIL import Image

    exif = Image.Exif()
    if gps:
        exif.get_ifd(0x8825).update({1: "N", 2: (21.0, 1.0, 30.0)})
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()
