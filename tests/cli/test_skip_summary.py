"""`make test` without PostgreSQL: the skipped PostgreSQL variants fold into one summary line."""

import os
import subprocess
import sys

from tests.conftest import ROOT


def test_skips_without_test_database_url_fold_into_one_line():
    env = {k: v for k, v in os.environ.items() if k != "TEST_DATABASE_URL"}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/store/test_db.py"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    skipped = [line for line in run.stdout.splitlines() if line.startswith("SKIPPED")]
    assert run.returncode == 0, run.stdout
    assert len(skipped) == 1, skipped
    assert "TEST_DATABASE_URL is not set" in skipped[0]
    count = int(skipped[0].split("[")[1].split("]")[0])
    assert count > 5 and f"{count} skipped" in run.stdout
