"""What each campaign's last full plan was made from (issue 19, item 4): a restart with the same
campaign and chats skips reading the province's 114,000 outbox rows (`bot.delivery.replan`).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "plan_marks",
        sa.Column("campaign", sa.String(length=128), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("planned_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("campaign", name=op.f("pk_plan_marks")),
    )


def downgrade() -> None:
    op.drop_table("plan_marks")
