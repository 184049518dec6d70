"""The end-to-end worlds (Telegram, and Zalo beside it) for the hostile-input tests."""

from tests.e2e.conftest import clock, database, sandbox, world  # noqa: F401
from tests.e2e.test_zalo import mixed, zalo  # noqa: F401
