"""What docs/deploy.md and deploy/ tell an office to run: the files exist, agree with each
other and with Loa's settings, and the README's quick start comes first."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
GUIDE = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")


def test_the_guide_is_in_vietnamese_and_english_and_covers_running_it_for_real():
    vietnamese, english = GUIDE.split("## English")
    for text in (vietnamese, english):
        for needed in ("deploy/loa.service", "deploy/compose.yaml", "loa db upgrade",
                       "sqlite3 var/loa.db \".backup", "pg_dump", "pg_restore",
                       "journalctl -u loa", "logs -f loa", "var/loa.db-wal"):  # fmt: skip
            assert needed in text, needed
    assert "Sao lưu và khôi phục" in vietnamese and "Backup and restore" in english


def test_the_systemd_unit_runs_loa_from_its_checkout_with_its_data_writable():
    unit = (ROOT / "deploy" / "loa.service").read_text(encoding="utf-8")
    lines = {line.split("=", 1)[0]: line.split("=", 1)[1] for line in unit.splitlines()
             if "=" in line and not line.startswith("#")}  # fmt: skip
    assert lines["ExecStart"] == f"{lines['WorkingDirectory']}/.venv/bin/loa run"
    assert lines["ReadWritePaths"] == f"{lines['WorkingDirectory']}/var"  # where var/loa.db is
    assert "EnvironmentFile" not in lines  # Loa reads .env itself, comments and all
    assert "[Install]" in unit and lines["WantedBy"] == "multi-user.target"


def test_the_container_setup_runs_loa_beside_postgresql():
    compose = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text(encoding="utf-8"))
    loa, db = compose["services"]["loa"], compose["services"]["db"]
    assert loa["environment"]["DATABASE_URL"].startswith("postgresql://loa:")
    assert loa["depends_on"]["db"]["condition"] == "service_healthy"
    assert db["image"].startswith("postgres:") and "pgdata" in compose["volumes"]
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    assert "LOA_MESSAGES=/app/messages" in dockerfile  # an installed package needs the pointer
    assert ".env" not in [line.split()[1] for line in dockerfile.splitlines()
                          if line.startswith("COPY")]  # fmt: skip
    for line in dockerfile.splitlines():
        if line.startswith("COPY"):
            assert all((ROOT / source).exists() for source in line.split()[1:-1]), line


def test_the_readme_opens_with_the_vietnamese_quick_start():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quick = readme.index("## Bắt đầu nhanh")
    assert quick < readme.index("## Set up")
    start = readme[quick : readme.index("## Set up")]
    for needed in ("@BotFather", "/newbot", "Zalo Bot", "bot.zaloplatforms.com", ".env",
                   "LOA_ADMINS", "make run", "docs/deploy.md"):  # fmt: skip
        assert needed in start, needed
