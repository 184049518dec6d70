"""Delivery under faults (issue 13): claims fenced by the sender's epoch.

Each `loa run` takes the next epoch at start; a claim stores it, and recording or sending a row
checks it in the same statement, so a process that lost its instance lock cannot record or send
rows released after it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("claim", sa.Integer(), nullable=True))
    epoch = op.create_table(
        "sender_epoch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sender_epoch")),
    )
    op.bulk_insert(epoch, [{"id": 1, "epoch": 0}])


def downgrade() -> None:
    op.drop_table("sender_epoch")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("claim")
