"""History drift from a ledger built directly (no database): HIS002-HIS004 and PEN001, whole."""

from __future__ import annotations

from pathlib import Path

from infra.drift.check import history_findings
from infra.drift.findings import DriftFinding
from infra.history.files import read_migrations
from infra.ledger.read import LedgerState
from infra.ledger.schema import AppliedMigration


def _history(tmp_path: Path, names: list[str], applied: dict[str, str | None]) -> list[DriftFinding]:
    folder = tmp_path / "migrations"
    folder.mkdir()
    for name in names:
        (folder / name).write_text(f"-- {name}\nCREATE TABLE t_{name[:4]} (id INTEGER PRIMARY KEY);\n")
    files = read_migrations(folder)
    by_name = {file.name: file for file in files}
    rows = [AppliedMigration(name, "2026-11-22 05:00:00", by_name[name].sha256 if sha == "file" else sha)
            for name, sha in applied.items()]
    return history_findings("staging", files, LedgerState(rows, has_checksum_table=True), folder)


def test_each_history_finding_has_its_change_area_and_severity(tmp_path):
    """Guards against a history finding carrying the wrong change (edited, missing, out of order),
    area or severity, and against an out-of-order file also being listed as pending."""
    findings = _history(tmp_path, ["0001_a.sql", "0002_b.sql", "0004_d.sql", "0005_e.sql"],
                        {"0001_a.sql": "0" * 64, "0003_c.sql": "f" * 64, "0004_d.sql": "file"})
    folder = tmp_path / "migrations"
    assert [(f.code, f.environment, f.area, f.change, f.object, f.cause, f.severity) for f in findings] == [
        ("HIS002", "staging", "history", "changed", "migration 0001_a.sql", "", "drift"),
        ("HIS003", "staging", "history", "missing", "migration 0003_c.sql", "", "drift"),
        ("HIS004", "staging", "history", "pending", "migration 0002_b.sql", "", "drift"),
        ("PEN001", "staging", "history", "pending", "migration 0005_e.sql", "", "notice"),
    ]
    assert findings[1].detail == (f"migration 0003_c.sql is recorded as applied in staging but {folder / '0003_c.sql'} is missing")
    assert findings[3] == DriftFinding("PEN001", "staging", "history", "pending", "migration 0005_e.sql", "not applied yet", "",
                                       "`invoke migrate --env staging` applies it (`--plan` shows it first)", "notice")
