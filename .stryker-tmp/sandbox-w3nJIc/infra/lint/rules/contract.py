"""CON: the D1 schema stays expand-only for the fields the Myco client sends (contract/myco-client.yaml).

The client sends every field of a row; a field the database lacks, or a NOT NULL column the record
does not fill, makes the write fail, and a Worker still running the previous release during a
deploy writes the old shape. So a migration may add to the contract tables, never take away:
- CON001: a contract field that was a column of its table before the migration is not one after
  it (dropped, renamed, or its table dropped or renamed and not rebuilt);
- CON002: after the migration a contract table that existed before it has a NOT NULL column
  without a default that it did not have (a new one, or one a rebuild tightened), other than the
  row's key.
A table the migration creates holds no rows and no running Worker writes it yet: that it can take
every contract field is checked by `invoke build` and drift's CON003.
Judged on the whole file, as D1 applies it in one batch: a table rebuild (create, copy, drop,
rename) that keeps every field passes. A contract table is judged once it is a synced table
(it has `machine_id` and `synced_at`, the convention infra/artifact/allowlist.py reads): a table
of that name that is not one is someone else's, as in the rule examples of other codes. The finding is reported at the file's last statement that
names the table. When the client itself stops sending a field, change the contract first.
Not allowable: no comment makes a failing write succeed.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass

from infra.contract import CONTRACT_PATH, read_contract
from infra.d1.rules import runner_privileges


@dataclass(frozen=True)
class ColumnState:
    not_null_without_default: bool


TableColumns = dict[str, dict[str, ColumnState]]  # contract table -> column -> state


def contract_fingerprint() -> bytes:
    """The contract's bytes: part of the lint cache's key, so a contract change re-judges history."""
    return CONTRACT_PATH.read_bytes() if CONTRACT_PATH.exists() else b""


def read_contract_columns(connection: sqlite3.Connection) -> TableColumns:
    """The columns of the contract's tables in the scratch database (read-only)."""
    tables: TableColumns = {}
    with runner_privileges(connection):
        for table in read_contract().tables:
            rows = connection.execute("SELECT name, \"notnull\", dflt_value, pk FROM pragma_table_info(?)", (table,)).fetchall()
            if rows:
                tables[table] = {name: ColumnState(bool(not_null) and default is None and not pk) for name, not_null, default, pk in rows}
    return tables


def judge_file(before: TableColumns, after: TableColumns, statements: list[str]) -> list[tuple[int, str, str]]:
    """(statement index, code, message) for each CON finding of one file. Pure."""
    contract = read_contract()
    findings = []
    for table, spec in contract.tables.items():
        had, has = before.get(table, {}), after.get(table, {})
        if not {"machine_id", "synced_at"} <= set(had):
            continue  # not a synced table before this file: nothing running depends on it
        lost = [field for field in spec.fields if field in had and field not in has]
        if lost:
            what = f"table {table} is gone" if not has else f"{table} loses {', '.join(lost)}"
            findings.append((_blamed(table, statements), "CON001",
                             f"{what}: contract field(s) {', '.join(lost)} of the Myco client would fail every write"))
        keys = set(spec.key) | {"machine_id"}
        tightened = [name for name, state in has.items() if state.not_null_without_default and name not in keys
                     and not (name in had and had[name].not_null_without_default)]
        if tightened:
            findings.append((_blamed(table, statements), "CON002",
                             f"{table}.{', '.join(tightened)} becomes NOT NULL without a default: a record without it "
                             "(or a Worker of the previous release) fails to write"))
    return findings


def _blamed(table: str, statements: list[str]) -> int:
    """The last statement naming `table` (the file's last statement when none does)."""
    word = re.compile(rf"(?<![\w$]){re.escape(table)}(?![\w$])", re.IGNORECASE)
    for index in range(len(statements) - 1, -1, -1):
        if word.search(statements[index]):
            return index
    return max(len(statements) - 1, 0)
