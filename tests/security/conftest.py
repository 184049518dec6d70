"""The end-to-end world (the real bot against the sandbox Bot API) for the hostile-input tests."""

from tests.e2e.conftest import clock, database, sandbox, world  # noqa: F401  (fixtures)
