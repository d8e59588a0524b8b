"""Drift of remote environments through the loopback Cloudflare API: D1 read with the official
SDK, the Worker's bindings from its script settings, and parity between environments."""

from __future__ import annotations

import pytest

from infra.drift.check import check_drift
from infra.drift.findings import DriftFinding
from infra.drift.report import render
from infra.errors import MissingCredentials, RemoteApiError
from infra.paths import DEFAULT_MIGRATIONS_DIR
from infra.runner.apply import run_migrate

KV_IDS = {"staging": "5" * 32, "production": "9" * 32, "dev": "d" * 32}


@pytest.fixture
def remote(cloudflare_env, monkeypatch):
    """Three remote environments, each with its own D1 database on the loopback API; stack
    outputs given as CI gives them (HYPHAE_<ENV>_*), no Pulumi CLI."""
    monkeypatch.setenv("HYPHAE_NO_PULUMI_CLI", "1")
    databases = {}
    for env_name in ("dev", "staging", "production"):
        databases[env_name] = cloudflare_env.d1.add_database(name=f"myco-team-{env_name}")
        monkeypatch.setenv(f"HYPHAE_{env_name.upper()}_DATABASE_ID", databases[env_name])
        monkeypatch.setenv(f"HYPHAE_{env_name.upper()}_KV_NAMESPACE_ID", KV_IDS[env_name])
    cloudflare_env.databases = databases
    return cloudflare_env


def deploy_worker(api, env_name: str, database_id: str | None = None, drop: str | None = None, extra=()):
    bindings = [
        # as the script-settings API returns a D1 binding: database_id, no id
        {"type": "d1", "name": "MYCO_TEAM_DB", "database_id": database_id or api.databases[env_name]},
        {"type": "vectorize", "name": "MYCO_TEAM_VECTORS", "index_name": f"myco-team-{env_name}-vectors"},
        {"type": "kv_namespace", "name": "MYCO_SECRETS", "namespace_id": KV_IDS[env_name]},
        {"type": "secret_text", "name": "MYCO_TEAM_API_KEY", "text": "team-key-never-shown"},
        {"type": "ai", "name": "AI"},
        {"type": "plain_text", "name": "SYNC_PROTOCOL_VERSION", "text": "3"},
        {"type": "plain_text", "name": "MIN_COMPAT_CLIENT_VERSION", "text": "1"},
        {"type": "plain_text", "name": "EMBEDDING_MODEL", "text": "@cf/baai/bge-m3"},
        {"type": "plain_text", "name": "MYCO_SCHEMA_VERSION", "text": "5"},
        {"type": "plain_text", "name": "MYCO_TEAM_AUTH_GENERATION", "text": "1"},
        {"type": "plain_text", "name": "D1_QUERY_BUDGET", "text": "1000"},
        {"type": "plain_text", "name": "SUBREQUEST_BUDGET", "text": "1000"},
        {"type": "plain_text", "name": "MAX_BODY_BYTES", "text": "16777216"},
        *extra,
    ]
    api.workers.deploy(f"myco-team-{env_name}", [binding for binding in bindings if binding["name"] != drop])


def findings_of(report):
    return [(finding.code, finding.environment, finding.object, finding.detail, finding.cause)
            for finding in report.findings]


def test_a_clean_remote_environment_reports_nothing_in_three_requests(remote):
    run_migrate("staging", DEFAULT_MIGRATIONS_DIR)
    deploy_worker(remote, "staging")
    remote.reset_counts()
    report = check_drift(["staging"], DEFAULT_MIGRATIONS_DIR)
    assert report.findings == []
    assert report.environments[0].applied_version == report.environments[0].latest_version
    # the ledger and the schema in one D1 request, the MCP token's record in another (the database
    # has migration 0010), the bindings in one settings request
    assert dict(remote.requests) == {"d1.query": 2, "workers.settings": 1}


def test_a_d1_binding_read_back_with_the_older_id_field_is_not_drift(remote):
    run_migrate("staging", DEFAULT_MIGRATIONS_DIR)
    deploy_worker(remote, "staging")
    binding = next(binding for binding in remote.workers.scripts["myco-team-staging"].bindings if binding["type"] == "d1")
    binding["id"] = binding.pop("database_id")
    assert check_drift(["staging"], DEFAULT_MIGRATIONS_DIR).findings == []


def test_an_extra_column_on_a_remote_database(remote):
    run_migrate("staging", DEFAULT_MIGRATIONS_DIR)
    deploy_worker(remote, "staging")
    connection = remote.d1.connect(remote.databases["staging"])
    connection.execute("ALTER TABLE spores ADD COLUMN pinned INTEGER DEFAULT 0")
    connection.close()
    assert findings_of(check_drift(["staging"], DEFAULT_MIGRATIONS_DIR)) == [
        ("SCH002", "staging", "column spores.pinned", "pinned INTEGER DEFAULT 0 in the database only",
         "changed out of band"),
    ]


def test_a_binding_pointed_at_another_environments_database(remote):
    run_migrate("staging", DEFAULT_MIGRATIONS_DIR)
    deploy_worker(remote, "staging", database_id=remote.databases["production"])
    production = remote.databases["production"]
    assert check_drift(["staging"], DEFAULT_MIGRATIONS_DIR).findings == [DriftFinding(
        "BND002", "staging", "bindings", "changed", "binding MYCO_TEAM_DB",
        f"repository d1 database_id={remote.databases['staging']}, live d1 database_id={production}",
        "bound to production's D1 database", "redeploy staging from the repository (`pulumi up --stack staging`)")]


def test_a_missing_and_an_undeclared_binding(remote):
    run_migrate("dev", DEFAULT_MIGRATIONS_DIR)
    deploy_worker(remote, "dev", drop="MYCO_SECRETS", extra=[{"type": "plain_text", "name": "DEBUG", "text": "1"}])
    assert check_drift(["dev"], DEFAULT_MIGRATIONS_DIR).findings == [
        DriftFinding("BND001", "dev", "bindings", "missing", "binding MYCO_SECRETS",
                     f"kv_namespace namespace_id={KV_IDS['dev']} declared, not on the deployed Worker",
                     "changed out of band", "redeploy dev (`pulumi up --stack dev`)"),
        DriftFinding("BND003", "dev", "bindings", "extra", "binding DEBUG",
                     "plain_text text=1 on the deployed Worker, declared nowhere", "changed out of band",
                     "declare it in infra/environments.py and the stack, or redeploy to remove it"),
    ]


def test_a_worker_not_deployed_is_reported(remote):
    run_migrate("dev", DEFAULT_MIGRATIONS_DIR)
    assert check_drift(["dev"], DEFAULT_MIGRATIONS_DIR).findings == [
        DriftFinding("BND004", "dev", "bindings", "missing", "worker myco-team-dev", "declared, not deployed in the account",
                     "not deployed yet, or deleted out of band", "deploy it (`pulumi up --stack dev`)"),
    ]


def test_binding_names_must_match_across_environments(remote):
    for env_name in ("staging", "production"):
        run_migrate(env_name, DEFAULT_MIGRATIONS_DIR)
    deploy_worker(remote, "staging")
    deploy_worker(remote, "production", extra=[{"type": "plain_text", "name": "FEATURE_X", "text": "on"}])
    report = check_drift(["staging", "production"], DEFAULT_MIGRATIONS_DIR)
    assert [(f.code, f.environment, f.object) for f in report.findings] == [
        ("BND003", "production", "binding FEATURE_X"),
        ("PAR001", "production, staging", "binding FEATURE_X"),
    ]
    assert report.parity == [DriftFinding(
        "PAR001", "production, staging", "parity", "changed", "binding FEATURE_X", "on production, not on staging",
        "changed out of band", "every environment's Worker has the same binding names; redeploy the odd one out")]


def test_two_environments_declaring_one_database_is_a_parity_finding(remote, monkeypatch):
    monkeypatch.setenv("HYPHAE_STAGING_DATABASE_ID", remote.databases["production"])
    for env_name in ("staging", "production"):
        run_migrate(env_name, DEFAULT_MIGRATIONS_DIR)
        deploy_worker(remote, env_name, database_id=remote.databases["production"])
    report = check_drift(["staging", "production"], DEFAULT_MIGRATIONS_DIR)
    assert report.findings == [DriftFinding(
        "PAR002", "production, staging", "parity", "changed", f"D1 database {remote.databases['production']}",
        "declared by both production and staging (MYCO_TEAM_DB)", "copied configuration",
        "give each environment its own D1 database: fix the id in Pulumi.staging.yaml or its outputs")]


def test_the_secret_value_never_reaches_the_report(remote):
    from infra.drift.report import render

    run_migrate("staging", DEFAULT_MIGRATIONS_DIR)
    deploy_worker(remote, "staging", drop="MYCO_TEAM_DB")
    report = check_drift(["staging"], DEFAULT_MIGRATIONS_DIR)
    for output_format in ("human", "json", "markdown"):
        text = render(report, output_format)
        assert "team-key-never-shown" not in text and remote.token not in text


def test_missing_credentials_stop_before_any_request(remote, monkeypatch):
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN")
    remote.reset_counts()
    with pytest.raises(MissingCredentials, match="CLOUDFLARE_API_TOKEN is not set"):
        check_drift(["staging"], DEFAULT_MIGRATIONS_DIR)
    assert sum(remote.requests.values()) == 0


def test_an_unreachable_api_is_an_error_not_drift(remote, monkeypatch):
    monkeypatch.setenv("HYPHAE_CLOUDFLARE_API_BASE", "http://127.0.0.1:9/client/v4")
    with pytest.raises(RemoteApiError):
        check_drift(["staging"], DEFAULT_MIGRATIONS_DIR)


def test_a_wrangler_managed_database_is_read_without_the_one_batch_shortcut(remote):
    # Only wrangler's ledger: hyphae's tables are absent, so the one-batch read is refused and
    # drift falls back to reading the ledger and the schema separately.
    _wrangler_managed(remote)
    deploy_worker(remote, "staging")
    report = check_drift(["staging"], DEFAULT_MIGRATIONS_DIR)
    assert [f.code for f in report.findings] == ["PEN001"] * (report.environments[0].latest_version - 1)
    assert report.environments[0].applied_version == 1


def test_transient_failures_are_retried_since_drift_only_reads(remote):
    from loopback import Fault

    run_migrate("staging", DEFAULT_MIGRATIONS_DIR)
    deploy_worker(remote, "staging")
    remote.reset_counts()
    remote.inject("d1.query", Fault.status_code(500))
    remote.inject("workers.settings", Fault.status_code(429, retry_after="0"))
    report = check_drift(["staging"], DEFAULT_MIGRATIONS_DIR)
    assert report.findings == []
    assert dict(remote.requests) == {"d1.query": 3, "workers.settings": 2}


def test_a_database_no_output_names_is_found_by_its_declared_name(remote, monkeypatch):
    run_migrate("staging", DEFAULT_MIGRATIONS_DIR)
    deploy_worker(remote, "staging")
    monkeypatch.delenv("HYPHAE_STAGING_DATABASE_ID")  # as in a pull request: no Pulumi state at hand
    assert check_drift(["staging"], DEFAULT_MIGRATIONS_DIR).findings == []

    deploy_worker(remote, "staging", database_id=remote.databases["production"])  # and the binding is still checked
    assert [(finding.code, finding.object) for finding in check_drift(["staging"], DEFAULT_MIGRATIONS_DIR).findings] == [
        ("BND002", "binding MYCO_TEAM_DB")]


def test_an_environment_not_created_yet_is_a_notice_and_its_bindings_are_not_checked(cloudflare_env, monkeypatch):
    from infra.history.files import read_migrations

    monkeypatch.setenv("HYPHAE_NO_PULUMI_CLI", "1")
    report = check_drift(["staging"], DEFAULT_MIGRATIONS_DIR)
    count = len(read_migrations(DEFAULT_MIGRATIONS_DIR))
    (staging,) = report.environments
    assert report.clean and staging.drift == []
    assert staging.findings[0] == DriftFinding(
        "NEW001", "staging", "history", "missing", "database myco-team-staging",
        f"not created yet: {count} migration(s) will be applied by its first deploy", "a new environment",
        "`invoke up --env staging` creates it, migrates it, then deploys", "notice")
    assert [finding.code for finding in staging.findings[1:]] == ["PEN001"] * count
    assert staging.findings[1] == DriftFinding(
        "PEN001", "staging", "history", "pending", "migration 0001_initial.sql", "not applied yet", "",
        "`invoke migrate --env staging` applies it (`--plan` shows it first)", "notice")
    assert render(report, "human").splitlines()[0] == (
        f"staging: not created yet: {count} migrations will be applied by its first deploy")
    assert cloudflare_env.requests["workers.settings"] == 0 and cloudflare_env.requests["d1.query"] == 0


def test_all_environments_at_once_are_clean_when_nothing_drifted(remote):
    from infra.environments import ENVIRONMENTS

    for env_name in ENVIRONMENTS:
        run_migrate(env_name, DEFAULT_MIGRATIONS_DIR)
        if env_name != "local":
            deploy_worker(remote, env_name)
    report = check_drift(list(ENVIRONMENTS), DEFAULT_MIGRATIONS_DIR)
    assert [environment.environment for environment in report.environments] == list(ENVIRONMENTS)
    assert report.findings == [] and report.parity == []
    assert report.environments[0].checked == ["schema", "history", "contract", "local config"]
    assert report.environments[1].checked == ["schema", "history", "contract", "bindings"]


def test_a_database_that_never_answers_is_an_error_after_three_reads(remote):
    """Guards against drift retrying a lost read forever, giving up before its third attempt, or
    failing without saying what did not answer and what to do."""
    from loopback import Fault

    run_migrate("staging", DEFAULT_MIGRATIONS_DIR)
    remote.reset_counts()
    remote.inject("d1.query", *[Fault.status_code(500)] * 3)
    with pytest.raises(RemoteApiError) as raised:
        check_drift(["staging"], DEFAULT_MIGRATIONS_DIR)
    assert str(raised.value) == (f"no answer from D1 database {remote.databases['staging']} (account {remote.account_id}) "
                                 "after 3 attempts (HTTP 500: Internal error (code 7500)); try again later")
    assert dict(remote.requests) == {"d1.query": 3}


def test_the_worker_checked_is_the_one_the_stack_outputs_name(remote, monkeypatch):
    """Guards against drift reading the Worker by its declared name when the stack deployed it
    under another (the output's name is the script that serves the environment)."""
    run_migrate("dev", DEFAULT_MIGRATIONS_DIR)
    deploy_worker(remote, "dev")
    monkeypatch.setenv("HYPHAE_DEV_WORKER_NAME", "myco-team-dev-blue")
    assert [(f.code, f.object) for f in check_drift(["dev"], DEFAULT_MIGRATIONS_DIR).findings] == [
        ("BND004", "worker myco-team-dev-blue")]


def test_parity_compares_only_the_environments_checked(remote, monkeypatch):
    """Guards against an environment nobody asked about (declared only to name owners) raising a
    parity finding: dev sharing production's KV namespace is dev's drift, not this check's."""
    monkeypatch.setenv("HYPHAE_DEV_KV_NAMESPACE_ID", KV_IDS["production"])
    for env_name in ("staging", "production"):
        run_migrate(env_name, DEFAULT_MIGRATIONS_DIR)
        deploy_worker(remote, env_name)
    assert check_drift(["staging", "production"], DEFAULT_MIGRATIONS_DIR).findings == []
    run_migrate("dev", DEFAULT_MIGRATIONS_DIR)
    deploy_worker(remote, "dev")
    assert [(f.code, f.environment) for f in check_drift(["dev", "production"], DEFAULT_MIGRATIONS_DIR).findings] == [
        ("BND002", "dev"), ("PAR002", "dev, production")]


def test_a_shared_database_is_reported_even_when_one_worker_is_not_deployed(remote, monkeypatch):
    """Guards against parity of declared resources being checked only between deployed Workers:
    staging declaring production's database is a finding before production's Worker exists."""
    monkeypatch.setenv("HYPHAE_STAGING_DATABASE_ID", remote.databases["production"])
    for env_name in ("staging", "production"):
        run_migrate(env_name, DEFAULT_MIGRATIONS_DIR)
    deploy_worker(remote, "staging", database_id=remote.databases["production"])
    codes = [(f.code, f.environment) for f in check_drift(["staging", "production"], DEFAULT_MIGRATIONS_DIR).findings]
    assert codes == [("BND004", "production"), ("PAR002", "production, staging")]


def test_an_mcp_token_record_that_never_answers_is_an_error_after_three_reads(remote):
    """Guards against the MCP token's read (the second request) losing the database's name when
    its answer is lost three times: the error must still say what did not answer."""
    from loopback import Fault

    run_migrate("staging", DEFAULT_MIGRATIONS_DIR)
    remote.reset_counts()
    remote.inject("d1.query", Fault.none(), *[Fault.status_code(500)] * 3)
    with pytest.raises(RemoteApiError) as raised:
        check_drift(["staging"], DEFAULT_MIGRATIONS_DIR)
    assert str(raised.value) == (f"no answer from D1 database {remote.databases['staging']} (account {remote.account_id}) "
                                 "after 3 attempts (HTTP 500: Internal error (code 7500)); try again later")
    assert dict(remote.requests) == {"d1.query": 4}


def _wrangler_managed(remote) -> None:
    """Staging's database migrated by wrangler alone: 0001 and wrangler's ledger, no hyphae tables."""
    connection = remote.d1.connect(remote.databases["staging"])
    connection.executescript((DEFAULT_MIGRATIONS_DIR / "0001_initial.sql").read_text())
    connection.execute("CREATE TABLE d1_migrations (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, "
                       "applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL)")
    connection.execute("INSERT INTO d1_migrations (name) VALUES ('0001_initial.sql')")
    connection.close()


def test_a_wrangler_managed_ledger_that_never_answers_is_an_error_after_three_reads(remote):
    """Guards against the careful ledger read (after the one-batch read is refused) losing the
    database's name when its answer is lost three times."""
    from loopback import Fault

    _wrangler_managed(remote)
    remote.reset_counts()
    # the one-batch read (refused by D1), then three times: the table list, the lost ledger batch
    remote.inject("d1.query", Fault.none(), *[Fault.none(), Fault.status_code(500)] * 3)
    with pytest.raises(RemoteApiError) as raised:
        check_drift(["staging"], DEFAULT_MIGRATIONS_DIR)
    assert str(raised.value) == (f"no answer from D1 database {remote.databases['staging']} (account {remote.account_id}) "
                                 "after 3 attempts (HTTP 500: Internal error (code 7500)); try again later")
    assert dict(remote.requests) == {"d1.query": 7}


def test_a_schema_read_the_database_refuses_is_an_error_naming_it(remote):
    """Guards against the careful path's refused schema read losing what refused it and why."""
    from loopback import Fault

    _wrangler_managed(remote)
    # the one-batch read (refused by D1), the table list, the ledger batch, then the schema read refused
    remote.inject("d1.query", Fault.none(), Fault.none(), Fault.none(), Fault.status_code(400))
    with pytest.raises(RemoteApiError) as raised:
        check_drift(["staging"], DEFAULT_MIGRATIONS_DIR)
    assert str(raised.value) == f"D1 database {remote.databases['staging']} (account {remote.account_id}) refused the schema read: Internal error (code 7500)"
