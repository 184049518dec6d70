"""Plan import (`loa import-plan`): a plan document read into a campaign draft.

reading.py (file -> plain lines) -> outline.py (numbering depth, clauses), dates.py (Vietnamese
dates and times), decoys.py (dates that are not the plan's own) -> extract.py with ceremony.py and
deadlines.py (a `PlanDraft`, fields.py) -> draft.py (campaign YAML, every gap commented).
"""

from __future__ import annotations

from pathlib import Path

from bot.campaign.plan.draft import draft_yaml
from bot.campaign.plan.extract import extract
from bot.campaign.plan.fields import PlanDraft
from bot.campaign.plan.reading import read_lines

__all__ = ["PlanDraft", "draft_yaml", "read_plan"]


def read_plan(path: Path) -> PlanDraft:
    """Read and extract a plan; Invalid when the file cannot be read."""
    return extract(read_lines(path))
