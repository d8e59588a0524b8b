"""The ledger's tables and the statements that write and read them (no I/O here: statements only).

Every write the runner makes travels inside a migration's own batch, so the ledger and the schema
commit together or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.d1.rules import WRANGLER_LEDGER
from infra.history.files import MIGRATION_NAME, MigrationFile
from infra.targets import BatchStatement, RestorePoint

# Exactly wrangler's DDL (workers-sdk, src/d1/migrations/helpers.ts), so either tool can create it.
WRANGLER_TABLE_SQL = f"""CREATE TABLE IF NOT EXISTS {WRANGLER_LEDGER}(
		id         INTEGER PRIMARY KEY AUTOINCREMENT,
		name       TEXT UNIQUE,
		applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL
)"""

HYPHAE_TABLES_SQL = (
    """CREATE TABLE IF NOT EXISTS hyphae_migrations(
    name       TEXT PRIMARY KEY,
    sha256     TEXT NOT NULL,
    run_id     TEXT NOT NULL,
    applied_by TEXT NOT NULL,
    applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    adopted    INTEGER NOT NULL DEFAULT 0
)""",
    """CREATE TABLE IF NOT EXISTS hyphae_restore_points(
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id     TEXT NOT NULL,
    kind       TEXT NOT NULL,
    reference  TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
)""",
    """CREATE TABLE IF NOT EXISTS hyphae_lock(
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    holder      TEXT NOT NULL,
    run_id      TEXT NOT NULL,
    host        TEXT NOT NULL,
    pid         INTEGER NOT NULL,
    acquired_at INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
)""",
    # Runs that gave up the lease (released or broken): a late copy of such a run's first batch
    # must not take the lease again (see lock.py).
    """CREATE TABLE IF NOT EXISTS hyphae_lock_released(
    run_id      TEXT PRIMARY KEY,
    released_at INTEGER NOT NULL
)""",
    # A failed CHECK is the only way a D1 batch can abort itself: each batch writes here first,
    # and the write fails unless this run still holds the lease (see lock.py).
    """CREATE TABLE IF NOT EXISTS hyphae_lock_guard(
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    held INTEGER NOT NULL CONSTRAINT lock_held_by_this_run CHECK (held = 1)
)""",
    # Same trick for a run without --adopt on a database wrangler migrated: the first batch writes
    # here only if a wrangler row has no checksum, and the CHECK aborts the batch (tables included).
    """CREATE TABLE IF NOT EXISTS hyphae_adoption_guard(
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    adopted INTEGER NOT NULL CONSTRAINT wrangler_rows_adopted CHECK (adopted = 1)
)""",
)

LEDGER_TABLES = (WRANGLER_LEDGER, "hyphae_migrations", "hyphae_restore_points", "hyphae_lock", "hyphae_lock_released",
                 "hyphae_lock_guard", "hyphae_adoption_guard")
ADOPTION_GUARD_FAILURE = "wrangler_rows_adopted"


@dataclass(frozen=True)
class AppliedMigration:
    name: str
    applied_at: str
    sha256: str | None  # None: applied by wrangler, not yet adopted
    adopted: bool = False
    run_id: str | None = None

    @property
    def version(self) -> int | None:
        match = MIGRATION_NAME.match(self.name)
        return int(match["version"]) if match else None


def create_tables_statements() -> list[BatchStatement]:
    return [BatchStatement(WRANGLER_TABLE_SQL)] + [BatchStatement(sql) for sql in HYPHAE_TABLES_SQL]


def refuse_unadopted_statement() -> BatchStatement:
    """Abort the batch (CHECK wrangler_rows_adopted) if a row of wrangler's ledger has no checksum.

    It follows `create_tables_statements` in a first batch without --adopt: on a database only
    wrangler migrated, the whole batch, the tables it created included, rolls back.
    """
    return BatchStatement(f"""INSERT INTO hyphae_adoption_guard (id, adopted) SELECT 1, 0
WHERE EXISTS (SELECT 1 FROM {WRANGLER_LEDGER} AS d WHERE NOT EXISTS (SELECT 1 FROM hyphae_migrations AS h WHERE h.name = d.name))""")


def record_migration_statements(migration: MigrationFile, run_id: str, holder: str, adopted: bool = False) -> list[BatchStatement]:
    """The ledger rows for one migration: wrangler's row and hyphae's checksum row."""
    rows = [] if adopted else [BatchStatement(f"INSERT INTO {WRANGLER_LEDGER} (name) VALUES (?)", (migration.name,))]
    rows.append(BatchStatement(
        "INSERT INTO hyphae_migrations (name, sha256, run_id, applied_by, adopted) VALUES (?, ?, ?, ?, CAST(? AS INTEGER))",
        (migration.name, migration.sha256, run_id, holder, int(adopted))))
    return rows


def record_restore_point_statement(point: RestorePoint, run_id: str) -> BatchStatement:
    return BatchStatement("INSERT INTO hyphae_restore_points (run_id, kind, reference) VALUES (?, ?, ?)",
                          (run_id, point.kind, point.reference))


# -- reading --------------------------------------------------------------------------------------
APPLIED_WITH_CHECKSUMS_SQL = f"""SELECT d.name AS name, d.applied_at AS applied_at, h.sha256 AS sha256,
       h.adopted AS adopted, h.run_id AS run_id
FROM {WRANGLER_LEDGER} AS d LEFT JOIN hyphae_migrations AS h ON h.name = d.name
ORDER BY d.id"""
APPLIED_WITHOUT_CHECKSUMS_SQL = f"""SELECT name, applied_at, NULL AS sha256, 0 AS adopted, NULL AS run_id
FROM {WRANGLER_LEDGER} ORDER BY id"""
LOCK_SQL = """SELECT holder, run_id, host, pid, expires_at - unixepoch() AS expires_in FROM hyphae_lock WHERE id = 1"""
LAST_RESTORE_POINT_SQL = """SELECT kind, reference, created_at, run_id FROM hyphae_restore_points ORDER BY id DESC LIMIT 1"""
EXISTING_TABLES_SQL = "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ({})".format(
    ", ".join(f"'{name}'" for name in LEDGER_TABLES))


def read_state_statements() -> list[BatchStatement]:
    """Reads of the whole ledger, for a database where the tables exist (see `parse_state`)."""
    return [BatchStatement(APPLIED_WITH_CHECKSUMS_SQL), BatchStatement(LOCK_SQL), BatchStatement(LAST_RESTORE_POINT_SQL)]


def parse_applied(rows: list[dict]) -> list[AppliedMigration]:
    return [AppliedMigration(row["name"], str(row["applied_at"]), row["sha256"], bool(row["adopted"]), row["run_id"])
            for row in rows]
