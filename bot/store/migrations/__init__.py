"""Alembic migrations of bot/store/models.py (a package so that wheels include env.py)."""
