"""Loa's database: SQLAlchemy models, sessions, Alembic migrations, and the queries on them."""
