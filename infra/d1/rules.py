"""D1's restrictions (workerd's authorizer and limits) installed on a sqlite3 connection.

What D1 refuses, per workerd and Cloudflare's limits page (see cloudflare-facts.md):
transaction control, ATTACH/DETACH, TEMP objects, `_cf_` names, PRAGMAs outside an allowlist,
functions outside an allowlist, virtual tables other than fts5/fts5vocab; 100,000-byte statements,
100 columns, 100 bound parameters, 5 compound SELECT terms. Foreign keys are always enforced
and `PRAGMA foreign_keys=OFF` is a no-op, exactly as on D1.

`protect_ledger=True` (the linter) also refuses migrations that touch the ledger tables, which
only hyphae's runner may write.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sqlite3
from pathlib import Path

from infra.d1.functions import ALLOWED_FUNCTIONS

# Ledger tables: wrangler's and hyphae's own (every hyphae table starts with "hyphae_").
WRANGLER_LEDGER = "d1_migrations"
HYPHAE_TABLE_PREFIX = "hyphae_"

STATEMENT_MAX_BYTES = 100_000
MAX_COLUMNS = 100
MAX_BOUND_PARAMETERS = 100
MAX_COMPOUND_TERMS = 5
MAX_VALUE_BYTES = 2_000_000

# Cloudflare's docs also list page_size, but the pinned workerd refuses it; the agreement test
# (tests/d1/test_d1_agreement.py) holds this list to what workerd does.
ALLOWED_PRAGMAS = frozenset({
    "table_list", "table_info", "table_xinfo", "index_list", "index_info", "index_xinfo",
    "foreign_key_check", "foreign_key_list", "quick_check", "optimize", "data_version",
    "foreign_keys", "defer_foreign_keys", "case_sensitive_like", "ignore_check_constraints",
    "legacy_alter_table", "recursive_triggers", "reverse_unordered_selects",
})
# Cloudflare's docs also name rtree and rtree_i32, but the pinned workerd refuses them
# ("not authorized"); tests/d1/test_d1_agreement.py holds hyphae to what workerd does.
ALLOWED_VIRTUAL_TABLE_MODULES = frozenset({"fts5", "fts5vocab"})

_TRANSACTION_ACTIONS = {sqlite3.SQLITE_TRANSACTION, getattr(sqlite3, "SQLITE_SAVEPOINT", 32)}
_ATTACH_ACTIONS = {sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH}
_TEMP_ACTIONS = {
    sqlite3.SQLITE_CREATE_TEMP_INDEX, sqlite3.SQLITE_CREATE_TEMP_TABLE, sqlite3.SQLITE_CREATE_TEMP_TRIGGER,
    sqlite3.SQLITE_CREATE_TEMP_VIEW, sqlite3.SQLITE_DROP_TEMP_INDEX, sqlite3.SQLITE_DROP_TEMP_TABLE,
    sqlite3.SQLITE_DROP_TEMP_TRIGGER, sqlite3.SQLITE_DROP_TEMP_VIEW,
}
_CREATE_ACTIONS = {
    sqlite3.SQLITE_CREATE_TABLE, sqlite3.SQLITE_CREATE_INDEX, sqlite3.SQLITE_CREATE_TRIGGER, sqlite3.SQLITE_CREATE_VIEW,
}
_LEDGER_WRITE_ACTIONS = {
    sqlite3.SQLITE_INSERT, sqlite3.SQLITE_UPDATE, sqlite3.SQLITE_DELETE, sqlite3.SQLITE_DROP_TABLE,
    sqlite3.SQLITE_ALTER_TABLE, sqlite3.SQLITE_CREATE_TABLE, sqlite3.SQLITE_CREATE_INDEX,
    sqlite3.SQLITE_CREATE_TRIGGER, sqlite3.SQLITE_DROP_INDEX, sqlite3.SQLITE_DROP_TRIGGER,
}


def is_ledger_table(name: str | None) -> bool:
    return bool(name) and (name.lower() == WRANGLER_LEDGER or name.lower().startswith(HYPHAE_TABLE_PREFIX))


def read_user_schema(path: str | Path) -> list[tuple]:
    """(type, name, table, sql) of a database file's own objects: D1's, SQLite's and the ledger's left
    out, so two databases migrated by different tools (hyphae, wrangler) compare equal."""
    connection = sqlite3.connect(path)
    try:
        rows = connection.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name").fetchall()
    finally:
        connection.close()
    return [row for row in rows if not is_ledger_table(row[2]) and not row[1].startswith(("sqlite_", "_cf_"))]


def is_reserved_name(name: str | None) -> bool:
    """D1 reserves `_cf_*` (matched case-insensitively, as workerd does)."""
    return bool(name) and name.lower().startswith("_cf_")


# ALTER TABLE runs these internal functions in its nested statements; D1 allows ALTER.
_INTERNAL_ALTER_FUNCTIONS = ("sqlite_rename_", "sqlite_drop_column")


@dataclasses.dataclass(frozen=True)
class Denial:
    """What the authorizer refused last: the sqlite3 action code and its two arguments."""

    action: int
    arg1: str | None
    arg2: str | None


class _AuthorizerState:
    """Whether the runner itself is issuing BEGIN/COMMIT/ROLLBACK (see `d1_transaction`)."""

    def __init__(self) -> None:
        self.allow_transaction_control = False
        self.last_denial: Denial | None = None
        self.bypass = False  # hyphae's own bookkeeping statements (see `runner_privileges`)


def d1_authorizer(protect_ledger: bool, state: _AuthorizerState | None = None):
    """An authorizer callback that answers as workerd's D1 does."""
    state = state or _AuthorizerState()

    def authorize(action, arg1, arg2, database, trigger_or_view):
        if state.bypass:
            return sqlite3.SQLITE_OK
        verdict = _verdict(action, arg1, arg2, database)
        if verdict == sqlite3.SQLITE_DENY:
            state.last_denial = Denial(action, arg1, arg2)
        return verdict

    def _verdict(action, arg1, arg2, database):
        if action in _TRANSACTION_ACTIONS:
            return sqlite3.SQLITE_OK if state.allow_transaction_control else sqlite3.SQLITE_DENY
        if action in _ATTACH_ACTIONS or action in _TEMP_ACTIONS:
            return sqlite3.SQLITE_DENY
        if database == "temp" and action in _CREATE_ACTIONS:  # CREATE TABLE temp.x: a TEMP object
            return sqlite3.SQLITE_DENY
        if action == sqlite3.SQLITE_PRAGMA:
            return _authorize_pragma(arg1, arg2)
        if action == sqlite3.SQLITE_FUNCTION:
            name = (arg2 or "").lower()
            allowed = name in ALLOWED_FUNCTIONS or name.startswith(_INTERNAL_ALTER_FUNCTIONS)
            return sqlite3.SQLITE_OK if allowed else sqlite3.SQLITE_DENY
        if action == getattr(sqlite3, "SQLITE_CREATE_VTABLE", 29):
            return sqlite3.SQLITE_OK if (arg2 or "").lower() in ALLOWED_VIRTUAL_TABLE_MODULES else sqlite3.SQLITE_DENY
        if is_reserved_name(arg1) or is_reserved_name(arg2):
            return sqlite3.SQLITE_DENY
        if protect_ledger and action in _LEDGER_WRITE_ACTIONS and _touches_ledger(action, arg1, arg2):
            return sqlite3.SQLITE_DENY
        return sqlite3.SQLITE_OK

    return authorize


def _authorize_pragma(name: str | None, value: str | None) -> int:
    name = (name or "").lower()
    if name not in ALLOWED_PRAGMAS:
        return sqlite3.SQLITE_DENY
    if name == "foreign_keys" and value is not None:
        return sqlite3.SQLITE_IGNORE  # D1 always enforces foreign keys: setting it is a no-op
    return sqlite3.SQLITE_OK


def _touches_ledger(action: int, arg1: str | None, arg2: str | None) -> bool:
    if action == sqlite3.SQLITE_ALTER_TABLE:
        return is_ledger_table(arg2)
    if action in (sqlite3.SQLITE_CREATE_INDEX, sqlite3.SQLITE_CREATE_TRIGGER,
                  sqlite3.SQLITE_DROP_INDEX, sqlite3.SQLITE_DROP_TRIGGER):
        return is_ledger_table(arg2)
    return is_ledger_table(arg1)


def install_d1_rules(connection: sqlite3.Connection, *, protect_ledger: bool = False) -> sqlite3.Connection:
    """Make `connection` refuse what D1 refuses. Changes only the connection's settings."""
    connection.execute("PRAGMA foreign_keys = ON")  # before the authorizer turns the switch into a no-op
    connection.setlimit(sqlite3.SQLITE_LIMIT_SQL_LENGTH, STATEMENT_MAX_BYTES)
    connection.setlimit(sqlite3.SQLITE_LIMIT_COLUMN, MAX_COLUMNS)
    connection.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, MAX_BOUND_PARAMETERS)
    connection.setlimit(sqlite3.SQLITE_LIMIT_COMPOUND_SELECT, MAX_COMPOUND_TERMS)
    connection.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
    state = _AuthorizerState()
    connection.set_authorizer(d1_authorizer(protect_ledger, state))
    if isinstance(connection, D1Connection):
        connection.d1_state = state
    else:
        _STATES[id(connection)] = (connection, state)
    return connection


class D1Connection(sqlite3.Connection):
    """A connection that carries its authorizer state, so nothing outlives it (the linter opens
    a throw-away copy for every statement it re-runs on empty tables)."""

    d1_state: _AuthorizerState | None = None


def _state_of(connection: sqlite3.Connection) -> _AuthorizerState | None:
    if isinstance(connection, D1Connection):
        return connection.d1_state
    entry = _STATES.get(id(connection))
    return entry[1] if entry else None


def last_denial(connection: sqlite3.Connection) -> Denial | None:
    """The authorizer's most recent refusal on `connection` (None if none); read-only."""
    state = _state_of(connection)
    return state.last_denial if state else None


def clear_last_denial(connection: sqlite3.Connection) -> None:
    """Forget the recorded refusal, before running the next statement."""
    state = _state_of(connection)
    if state:
        state.last_denial = None


@contextlib.contextmanager
def runner_privileges(connection: sqlite3.Connection):
    """Let hyphae's own bookkeeping through the authorizer (the linter seeding representative rows,
    reading the schema); migration SQL never runs inside this."""
    state = _state_of(connection)
    state.bypass = True
    try:
        yield connection
    finally:
        state.bypass = False


# Authorizer state of connections opened elsewhere (plain sqlite3.connect + install_d1_rules), so
# `d1_transaction` can let the runner's own BEGIN through.
_STATES: dict[int, tuple[sqlite3.Connection, _AuthorizerState]] = {}


@contextlib.contextmanager
def d1_transaction(connection: sqlite3.Connection, *, immediate: bool = True):
    """One transaction, as a D1 batch is one: commits on success, rolls back on any exception.

    Statements inside still may not use transaction control (D1001); only this wrapper may.
    """
    state = _state_of(connection)

    def control(sql: str) -> None:
        state.allow_transaction_control = True
        try:
            connection.execute(sql)
        finally:
            state.allow_transaction_control = False

    control("BEGIN IMMEDIATE" if immediate else "BEGIN")
    try:
        yield connection
        # Inside: a COMMIT SQLite refuses (a deferred foreign key) leaves the transaction open.
        control("COMMIT")
    except BaseException:
        if connection.in_transaction:
            control("ROLLBACK")
        raise


def open_d1_database(path: str | Path = ":memory:", *, protect_ledger: bool = False) -> sqlite3.Connection:
    """A sqlite3 connection with D1's rules, in autocommit mode (callers open transactions).

    `isolation_level=None`: the caller controls transactions explicitly, with `BEGIN` issued
    before the authorizer is consulted (see `transaction`), since D1 refuses `BEGIN` from SQL.
    """
    connection = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=30,
                                 factory=D1Connection)
    return install_d1_rules(connection, protect_ledger=protect_ledger)
