"""CON003: a live database that cannot store every field the Myco client sends.

The client contract (contract/myco-client.yaml) lists the fields of each synced table, and the
Worker, built from the migrations, writes every one of them. A live database lacking a table or
a column therefore fails every write of that table (the records wait in the dead-letter table,
/dlq, until it is back); so does a NOT NULL column without a default that the client never
sends; a key column whose affinity turns the client's text ids into numbers ("123" into 123)
breaks the manifest, so clients delete their own rows on reconcile. Each is a finding on
its object, with the consequence, when the migrations the database has applied would store it:
the database was changed out of band (SCH001/SCH003 say how; this says what it costs the
client). What only pending migrations add is left to PEN001.
Pure and read-only. Not checked: a live database with no tables at all (nothing migrated yet).
"""

from __future__ import annotations

from infra.contract import Contract, read_contract
from infra.drift.findings import CAUSE_OUT_OF_BAND, CHANGED, MISSING, DriftFinding
from infra.drift.schema import Column, Schema

FIX = "restore it as the migrations define it (the SCH finding on the same object shows how); contract/myco-client.yaml lists what the client sends"


def affinity(declared: str) -> str:
    """SQLite's column affinity for a declared type (https://sqlite.org/datatype3.html §3.1)."""
    upper = declared.upper()
    if "INT" in upper:
        return "INTEGER"
    if any(word in upper for word in ("CHAR", "CLOB", "TEXT")):
        return "TEXT"
    if "BLOB" in upper or not upper.strip():
        return "BLOB"
    if any(word in upper for word in ("REAL", "FLOA", "DOUB")):
        return "REAL"
    return "NUMERIC"


def read_problems(schema: Schema, contract: Contract) -> dict[str, tuple[str, str]]:
    """{object: (change, detail)} of every contract field `schema` cannot store as sent."""
    problems = {}
    for name, spec in contract.tables.items():
        table = schema.tables.get(name.lower())
        if table is None:
            problems[f"table {name}"] = (MISSING, f"the client syncs {name}: every write to it fails "
                                                  "(dead-lettered, see /dlq) until the table is back")
            continue
        for field, kind in spec.fields.items():
            column = table.column(field)
            if column is None:
                problems[f"column {name}.{field}"] = (MISSING, f"the client sends {field}: every write to {name} fails "
                                                               "(dead-lettered, see /dlq) until the column is back")
            elif field in spec.key and kind == "text" and affinity(column.type) in ("INTEGER", "REAL", "NUMERIC"):
                problems[f"column {name}.{field}"] = (CHANGED, f"{column.type} affinity turns the text id \"123\" into 123: the "
                                                               "manifest no longer matches the client's id and it deletes its own row")
        for column in table.columns:
            if _refuses_records(column, spec.fields):
                problems[f"column {name}.{column.name}"] = (CHANGED, f"NOT NULL without a default and not a field the client "
                                                                     f"sends: every write to {name} fails")
    return problems


def _refuses_records(column: Column, fields: dict) -> bool:
    return column.not_null and column.default is None and not column.primary_key_position and not column.generated \
        and column.name not in fields and column.name != "synced_at"


def contract_findings(environment: str, live: Schema, applied: Schema, contract: Contract | None = None) -> list[DriftFinding]:
    """CON003 per contract field `live` cannot store although `applied` (the replay of the
    migrations it has applied) can: changed out of band. What the applied history itself lacks
    is left to PEN001 (a pending migration adds it; `invoke build` refuses a history that never does)."""
    if not live.tables:
        return []
    contract = contract or read_contract()
    expected = read_problems(applied, contract)
    return [DriftFinding("CON003", environment, "contract", change, target, detail, CAUSE_OUT_OF_BAND, FIX)
            for target, (change, detail) in sorted(read_problems(live, contract).items()) if target not in expected]
