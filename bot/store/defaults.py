"""The store's default, defined once: where the database is when `DATABASE_URL` is unset.

Light on purpose (no database library imported), so reading the settings stays cheap.
"""

DEFAULT_DATABASE_URL = "sqlite:///var/loa.db"
