"""The web's secrets: one-time sign-in links, sessions and download links (issue 17).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "web_tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("holder", sa.String(length=96), nullable=False),
        sa.Column("scope", sa.String(length=255), nullable=True),
        sa.Column("csrf", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_tickets")),
        sa.UniqueConstraint("digest", name=op.f("uq_web_tickets_digest")),
    )
    op.create_index("ix_web_tickets_expires_at", "web_tickets", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_web_tickets_expires_at", table_name="web_tickets")
    op.drop_table("web_tickets")
