"""The loopback's whole-database D1 routes speak the API as its clients expect: the official SDK's
types parse every answer, and wrangler (`d1 export --remote`, `d1 execute --remote --file`, which
drive the same endpoints) completes an export and an import against it."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import httpx
import pytest
from cloudflare import Cloudflare

from infra.bench.migrate import WRANGLER, write_wrangler_config
from tests.conftest import node_toolchain_available


@pytest.fixture
def client(loopback_api):
    sdk = Cloudflare(api_token=loopback_api.token, base_url=loopback_api.base_url, max_retries=0)
    yield sdk
    sdk.close()


def test_create_export_poll_and_download_parse_with_the_sdks_types(client, loopback_api):
    account = loopback_api.account_id
    created = client.d1.database.create(account_id=account, name="scratch")
    client.d1.database.query(created.uuid, account_id=account, sql="CREATE TABLE t (v TEXT)")
    first = client.d1.database.export(created.uuid, account_id=account, output_format="polling")
    assert first.success and first.at_bookmark and first.status is None
    done = client.d1.database.export(created.uuid, account_id=account, output_format="polling",
                                     current_bookmark=first.at_bookmark)
    assert done.status == "complete" and done.result.signed_url
    download = httpx.get(done.result.signed_url)  # no token: a storage URL
    assert download.status_code == 200 and b"CREATE TABLE t (v TEXT);" in download.content
    assert download.headers["etag"] == f'"{hashlib.md5(download.content).hexdigest()}"'
    client.d1.database.delete(created.uuid, account_id=account)
    assert created.uuid not in loopback_api.d1.ids()


def test_init_upload_ingest_and_poll_parse_with_the_sdks_types(client, loopback_api):
    account, database_id = loopback_api.account_id, loopback_api.d1.add_database()
    sql = b"CREATE TABLE t (v TEXT);\nINSERT INTO t VALUES ('x');\n"
    etag = hashlib.md5(sql).hexdigest()
    init = client.d1.database.import_(database_id, account_id=account, action="init", etag=etag)
    uploaded = httpx.put(init.upload_url, content=sql)
    assert uploaded.headers["etag"].strip('"') == etag
    started = client.d1.database.import_(database_id, account_id=account, action="ingest", etag=etag,
                                         filename=init.filename)
    done = client.d1.database.import_(database_id, account_id=account, action="poll",
                                      current_bookmark=started.at_bookmark)
    assert done.status == "complete" and done.result.num_queries == 2 and done.result.final_bookmark
    assert loopback_api.d1.connect(database_id).execute("SELECT v FROM t").fetchall() == [("x",)]


def test_an_import_d1_refuses_leaves_the_database_as_it_was(client, loopback_api):
    account, database_id = loopback_api.account_id, loopback_api.d1.add_database()
    sql = b"CREATE TABLE t (v TEXT);\nINSERT INTO t VALUES ('" + b"x" * 100_001 + b"');\n"
    etag = hashlib.md5(sql).hexdigest()
    init = client.d1.database.import_(database_id, account_id=account, action="init", etag=etag)
    httpx.put(init.upload_url, content=sql)
    started = client.d1.database.import_(database_id, account_id=account, action="ingest", etag=etag,
                                         filename=init.filename)
    done = client.d1.database.import_(database_id, account_id=account, action="poll",
                                      current_bookmark=started.at_bookmark)
    assert done.status == "error" and "SQLITE_TOOBIG" in done.error
    names = [row[0] for row in loopback_api.d1.connect(database_id).execute("SELECT name FROM sqlite_master")]
    assert "t" not in names


@pytest.mark.workerd
@pytest.mark.skipif(not node_toolchain_available(), reason="needs node_modules (./run installs it)")
def test_wrangler_exports_and_imports_through_the_loopback(loopback_api, tmp_path: Path):
    database_id = loopback_api.d1.add_database(name="myco-team-dev")
    connection = loopback_api.d1.connect(database_id)
    connection.execute("CREATE TABLE t (v TEXT)")
    connection.execute("INSERT INTO t VALUES ('line one\nline two')")
    connection.close()
    config = write_wrangler_config(tmp_path / "config", tmp_path, database="myco-team-dev", database_id=database_id)
    environment = {**os.environ, "CI": "1", "WRANGLER_SEND_METRICS": "false", "CLOUDFLARE_API_TOKEN": loopback_api.token,
                   "CLOUDFLARE_ACCOUNT_ID": loopback_api.account_id, "CLOUDFLARE_API_BASE_URL": loopback_api.base_url}

    def wrangler(*arguments: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(WRANGLER), "d1", *arguments, "--remote", "--config", str(config)], cwd=config.parent,
                              env=environment, capture_output=True, text=True, timeout=300)

    exported = wrangler("export", "DB", "--output", str(tmp_path / "out.sql"))
    assert exported.returncode == 0, exported.stdout[-2000:] + exported.stderr[-2000:]
    assert (tmp_path / "out.sql").read_text().splitlines() == [
        "PRAGMA defer_foreign_keys=TRUE;", "CREATE TABLE t (v TEXT);",
        "INSERT INTO \"t\" VALUES(replace('line one\\nline two','\\n',char(10)));"]
    (tmp_path / "in.sql").write_text("CREATE TABLE u (n INTEGER);\nINSERT INTO u VALUES (1);\n")
    imported = wrangler("execute", "DB", "--file", str(tmp_path / "in.sql"), "-y")
    assert imported.returncode == 0, imported.stdout[-2000:] + imported.stderr[-2000:]
    assert loopback_api.d1.connect(database_id).execute("SELECT n FROM u").fetchall() == [(1,)]
