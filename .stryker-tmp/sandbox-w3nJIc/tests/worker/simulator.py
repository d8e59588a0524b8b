"""A simulated Myco client: what the real daemon does against a team Worker (reference §3, §4).

Written from the reference's description of the client (upstream team-sync.ts, team-sync-init.ts,
team-outbox.ts at 6d6809b), not from its code:
- a local vault (rows per table) and an outbox: a changed row enqueues an upsert of its whole
  row, a deleted row a tombstone `{id, machine_id}`; the outbox row's project id is injected;
- the version gate: `/health` before each drain, whose advertised window classifies the client
  (`client_too_old`, `worker_too_old` skip the team and leave rows pending);
- hash-driven reconnect: a `/health` whose `mcp_token_hash` differs from the client's hash of its
  token makes it call `/connect` and keep the token it returns;
- drain: the 100 oldest pending rows per `/enqueue`; a non-2xx leaves the batch pending and ends
  the pass; on 2xx a row is rejected iff an entry of `rejected` has its table and id (string
  compare): rejected rows leave the outbox for good, every other row is marked sent;
- reconcile (protocol >= 3): per (table, project) partition the manifest's ids against the vault:
  missing or stale rows are enqueued as upserts, ids the vault lacks as deletes, within the caps
  (<= 50 per partition, <= 20 % of the partition, <= 200 per pass, never for an empty partition).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from infra.contract import Contract
from infra.local.smoke import client_token_hash

CLIENT_PROTOCOL = 3
BATCH_SIZE = 100
DELETES_PER_PARTITION, DELETE_SHARE, DELETES_PER_PASS = 50, 0.2, 200
NO_DELETE_TRIGGER = ("entity_mentions", "team_members")  # the client has no delete trigger for these


@dataclass
class OutboxRow:
    table: str
    row_id: str
    operation: str
    payload: dict
    project_id: str | None
    sent: bool = False


@dataclass
class Counters:
    health_calls: int = 0
    connects: int = 0
    batches: int = 0
    failed_batches: int = 0
    records_pushed: int = 0
    accepted: int = 0
    rejected: int = 0
    skipped_drains: int = 0
    reconcile_upserts: int = 0
    reconcile_deletes: int = 0


@dataclass
class SimulatedClient:
    url: str
    team_key: str
    machine_id: str
    contract: Contract
    projects: tuple[str, ...]
    vault: dict[str, dict[str, dict]] = field(default_factory=dict)  # table -> key -> row
    outbox: list[OutboxRow] = field(default_factory=list)
    token: str | None = None
    token_hash: str | None = None
    fate_resolved: set[tuple[str, str]] = field(default_factory=set)
    counters: Counters = field(default_factory=Counters)

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.url, headers={"authorization": f"Bearer {self.team_key}"}, timeout=60)

    # -- the vault -------------------------------------------------------------------------
    def key_of(self, table: str, row: dict) -> str:
        return ",".join(str(row[column]) for column in self.contract.tables[table].key if column != "machine_id")

    def write(self, table: str, row: dict, *, outbox: bool = True) -> None:
        """A local write; the client enqueues the whole row (upsert), unless `outbox` is False
        (a change the outbox missed, which only the reconcile finds)."""
        key = self.key_of(table, row)
        self.vault.setdefault(table, {})[key] = row
        if outbox:
            self.outbox.append(OutboxRow(table, key, "upsert", dict(row), row.get("project_id")))

    def delete(self, table: str, key: str, *, outbox: bool = True) -> None:
        row = self.vault[table].pop(key)
        if outbox and table not in NO_DELETE_TRIGGER:
            self.outbox.append(OutboxRow(table, key, "delete", {"id": key, "machine_id": self.machine_id}, row.get("project_id")))

    def pending(self) -> list[OutboxRow]:
        return [row for row in self.outbox if not row.sent]

    # -- the wire --------------------------------------------------------------------------
    def wire_record(self, row: OutboxRow) -> dict:
        data = dict(row.payload)
        if row.project_id is not None:
            data["project_id"] = row.project_id
        return {"table": row.table, "id": str(row.row_id), "machine_id": self.machine_id, "operation": row.operation,
                "data": data, "content_hash": data.get("content_hash")}

    def connect(self) -> dict:
        body = self.http.post("/connect", json={"machine_id": self.machine_id, "sync_protocol_version": CLIENT_PROTOCOL})
        body.raise_for_status()
        answer = body.json()
        self.counters.connects += 1
        self.token, self.token_hash = answer["mcp_token"], client_token_hash(answer["mcp_token"])
        return answer

    def health(self) -> str:
        """/health, the reconnect on a new token hash, and the client's version classification."""
        self.counters.health_calls += 1
        response = self.http.get("/health")
        if response.status_code != 200:
            return "unknown"
        body = response.json()
        if body.get("mcp_token_hash") and body["mcp_token_hash"] != self.token_hash:
            try:
                self.connect()
            except httpx.HTTPError:
                pass
        server, minimum = body.get("sync_protocol_version"), body.get("min_compat_client_version")
        if server is None:
            return "unknown"
        if minimum is not None and CLIENT_PROTOCOL < minimum:
            return "client_too_old"
        return "worker_too_old" if CLIENT_PROTOCOL > server else "ok"

    def drain(self) -> None:
        """Push every pending row, 100 at a time, as the drain loop does; stop at a failed batch."""
        if self.health() in ("client_too_old", "worker_too_old"):
            self.counters.skipped_drains += 1
            return
        while batch := self.pending()[:BATCH_SIZE]:
            records = [self.wire_record(row) for row in batch]
            response = self.http.post("/enqueue", json={"machine_id": self.machine_id, "sync_protocol_version": CLIENT_PROTOCOL,
                                                         "records": records})
            self.counters.batches += 1
            if not 200 <= response.status_code < 300:
                self.counters.failed_batches += 1
                return
            answer = response.json()
            rejected = {(entry.get("table"), entry.get("id")) for entry in answer.get("rejected") or []}
            self.counters.records_pushed += len(batch)
            for row in batch:
                row.sent = True
                if (row.table, str(row.row_id)) in rejected:
                    self.outbox.remove(row)
                    self.fate_resolved.add((row.table, str(row.row_id)))
                    self.counters.rejected += 1
                else:
                    self.counters.accepted += 1

    # -- reconcile -------------------------------------------------------------------------
    def manifest(self, table: str, project_id: str) -> dict[str, str | None]:
        """{id: content_hash} of the server's partition, every page."""
        items, cursor = {}, None
        while True:
            params = {"machine_id": self.machine_id, "table": table, "project_id": project_id, "limit": 50}
            if cursor:
                params["cursor"] = cursor
            body = self.http.get("/manifest", params=params)
            body.raise_for_status()
            page = body.json()
            for item in page["items"]:
                items[item["id"]] = item.get("content_hash")
            cursor = page.get("next_cursor")
            if not cursor:
                return items

    def reconcile(self) -> None:
        """One symmetric reconcile pass over every manifest-eligible partition."""
        deletes_this_pass = 0
        for table, spec in self.contract.tables.items():
            if spec.key != ("id", "machine_id") or spec.scope != "project":
                continue
            for project in self.projects:
                local = {key: row for key, row in self.vault.get(table, {}).items() if row.get("project_id") == project}
                remote = self.manifest(table, project)
                for key, row in local.items():
                    if key not in remote or (spec.content_hash and remote[key] != row.get("content_hash")):
                        self.outbox.append(OutboxRow(table, key, "upsert", dict(row), project))
                        self.counters.reconcile_upserts += 1
                extra = sorted(set(remote) - set(local))
                if not local or not extra:
                    continue
                cap = min(DELETES_PER_PARTITION, int(len(remote) * DELETE_SHARE), DELETES_PER_PASS - deletes_this_pass)
                for key in extra[:max(cap, 0)]:
                    self.outbox.append(OutboxRow(table, key, "delete", {"id": key, "machine_id": self.machine_id}, project))
                    self.counters.reconcile_deletes += 1
                    deletes_this_pass += 1

    def close(self) -> None:
        self.http.close()
