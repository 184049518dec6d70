"""Registration codes and unit codes (issue 14): reserved; filled in by that work.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 16:00:00
"""

from collections.abc import Sequence

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
