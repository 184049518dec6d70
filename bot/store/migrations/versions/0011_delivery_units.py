"""Deliveries by unit (issue 19): a commune coordinator's `/tiendo` and overview count the
outbox rows of the commune's units, a few thousand of a province's 114,000. Without an index on
`unit_id` each of those counts read the whole outbox (107 ms of a 244 ms overview); removing a
unit, whose rows go with it, did too.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 01:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_deliveries_unit_id_campaign_status", "deliveries", ["unit_id", "campaign", "status"]
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_unit_id_campaign_status", table_name="deliveries")
