"""Unit codes are unique whatever their case (issue 14): "TH-UPPER" and "th-upper" are one unit.

`units.code_key` holds the code in lower case, unique. A database already holding two codes that
differ only in case is refused, naming them: which of the two a coordinator's `/huydangky
th-upper` meant cannot be decided here, so the office renames one and upgrades again. Nothing is
changed before that.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from alembic.util import CommandError

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    _refuse_codes_differing_by_case()
    with op.batch_alter_table("units") as batch:
        batch.add_column(sa.Column("code_key", sa.String(length=64), nullable=True))
    op.execute("UPDATE units SET code_key = lower(code)")
    with op.batch_alter_table("units") as batch:
        batch.alter_column("code_key", existing_type=sa.String(length=64), nullable=False)
        batch.create_unique_constraint(op.f("uq_units_code_key"), ["code_key"])


def downgrade() -> None:
    with op.batch_alter_table("units") as batch:
        batch.drop_constraint(op.f("uq_units_code_key"), type_="unique")
        batch.drop_column("code_key")


def _refuse_codes_differing_by_case() -> None:
    rows = op.get_bind().execute(
        sa.text(
            "SELECT lower(code), code FROM units WHERE lower(code) IN "
            "(SELECT lower(code) FROM units GROUP BY lower(code) HAVING count(*) > 1) "
            "ORDER BY lower(code), code"
        )
    )
    clashes: dict[str, list[str]] = {}
    for key, code in rows:
        clashes.setdefault(key, []).append(code)
    if clashes:
        from bot.errors import Problem
        from bot.messages import describe

        codes = [" / ".join(same) for same in clashes.values()]
        raise CommandError(describe(Problem((), "unit_codes_differ_by_case", {"codes": codes})))
