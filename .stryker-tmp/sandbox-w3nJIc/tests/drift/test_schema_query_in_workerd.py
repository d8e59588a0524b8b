"""The schema query runs in workerd's own D1 (through `wrangler d1 execute --local`): D1's
authorizer allows every PRAGMA function and SQL function it uses, its JSON columns come back as
text, D1's internal `_cf_*` tables are left out, and the model built from workerd's rows is the
model built from plain SQLite's."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess

import pytest

from infra.drift.schema import SCHEMA_QUERY, build_schema, read_connection_schema
from infra.paths import REPO_ROOT, miniflare_object_id
from tests.drift.replay import migrated_database

pytestmark = pytest.mark.workerd
WRANGLER = REPO_ROOT / "node_modules" / ".bin" / "wrangler"


@pytest.mark.skipif(not WRANGLER.exists(), reason="needs the npm toolchain (node_modules/.bin/wrangler)")
def test_workerd_d1_answers_the_schema_query_with_the_same_model(tmp_path):
    source = tmp_path / "migrated.sqlite"
    migrated_database(source).close()
    (tmp_path / "wrangler.jsonc").write_text('{"name": "drift-test", "compatibility_date": "2026-04-01", '
                                             '"d1_databases": [{"binding": "DB", "database_name": "drift-test", '
                                             '"database_id": "drift-test"}]}')
    persisted = (tmp_path / ".wrangler" / "state" / "v3" / "d1" / "miniflare-D1DatabaseObject"
                 / f"{miniflare_object_id('miniflare-D1DatabaseObject', 'drift-test')}.sqlite")
    persisted.parent.mkdir(parents=True)
    shutil.copy(source, persisted)
    result = subprocess.run([str(WRANGLER), "d1", "execute", "drift-test", "--local", "--json", "--command", SCHEMA_QUERY],
                            cwd=tmp_path, capture_output=True, text=True, timeout=180,
                            env={**os.environ, "WRANGLER_SEND_METRICS": "false", "CI": "1"})
    assert result.returncode == 0, result.stderr[-2000:]
    rows = json.loads(result.stdout)[0]["results"]
    internal = sqlite3.connect(persisted).execute("SELECT name FROM sqlite_master WHERE name LIKE '\\_cf\\_%' ESCAPE '\\'")
    assert internal.fetchall(), "workerd keeps its _cf_ tables in the file; the query must skip them"
    assert not any(row["name"].lower().startswith("_cf_") for row in rows)
    expected = read_connection_schema(sqlite3.connect(source))
    assert build_schema(rows) == expected
    assert expected.object_count() > 40  # the team-sync schema: tables and indexes
