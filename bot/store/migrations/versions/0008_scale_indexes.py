"""Indexes for a province (issue 19, item 4): what `/tiendo`, the console's overview and the
outbox's look ask of 120,000 deliveries and 185,000 answers is read from an index alone.

- deliveries (campaign, kind, reference, status): how each delivery went (`outbox.statuses`)
  and the counts by status, without reading the rows;
- deliveries (status, due_at, campaign, kind) replaces (status, due_at): what goes out next
  (`outbox.upcoming`) is counted by kind from the index; claims use it as before;
- answers (campaign, unit_id, item, replaced_at) replaces (campaign, unit_id, item): each unit's
  current answers are counted without reading the rows.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 22:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_deliveries_campaign_kind_reference_status",
        "deliveries",
        ["campaign", "kind", "reference", "status"],
    )
    op.create_index(
        "ix_deliveries_status_due_at_campaign_kind",
        "deliveries",
        ["status", "due_at", "campaign", "kind"],
    )
    op.drop_index("ix_deliveries_status_due_at", table_name="deliveries")
    op.create_index("ix_answers_current", "answers", ["campaign", "unit_id", "item", "replaced_at"])
    op.drop_index("ix_answers_unit_item", table_name="answers")


def downgrade() -> None:
    op.create_index("ix_answers_unit_item", "answers", ["campaign", "unit_id", "item"])
    op.drop_index("ix_answers_current", table_name="answers")
    op.create_index("ix_deliveries_status_due_at", "deliveries", ["status", "due_at"])
    op.drop_index("ix_deliveries_status_due_at_campaign_kind", table_name="deliveries")
    op.drop_index("ix_deliveries_campaign_kind_reference_status", table_name="deliveries")
