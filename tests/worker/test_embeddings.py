"""Server-side embeddings (reference §6) through the production bundle, against the local stand-ins
of Workers AI and Vectorize (worker/dev/stand_ins.mjs), whose index the tests read directly; and
embeddings.js run by node, for its helpers and for drains the stand-ins cannot be made to fail."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
from pathlib import Path

import httpx
import pytest

from infra.artifact.build import ESBUILD_FLAGS, stage_sources
from infra.contract import read_contract
from infra.environments import load_environment, schema_version
from infra.paths import REPO_ROOT
from tests.worker.conftest import (
    AUTH,
    FAIL_ONCE,
    PROJECT,
    enqueue,
    get,
    read_rows,
    record,
    run_cron,
    run_in_node,
    session,
    spore,
    stand_in,
    stand_ins,
    stored_vectors,
    vector_id,
)

pytestmark = pytest.mark.workerd


# embeddings.js run by node (first: a mutant stops at its first failing test, and these kill most in
# seconds, before the Worker is built), bundled as `invoke build` stages it (beside its
# contract.json), with the Budget and Database of the Worker. drainJobs runs against
# platform bindings written here for what the stand-ins cannot be made to do (a model answering
# the wrong shape, a Vectorize call failing) and to count each call exactly; D1 answers no rows.


@pytest.fixture(scope="session")
def embeddings_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """embeddings.js of the working tree (under Stryker: the mutant) bundled for node with the build's esbuild flags."""
    staging = tmp_path_factory.mktemp("embeddings-node")
    stage_sources(REPO_ROOT, staging)
    (staging / "src" / "node_entry.js").write_text('export * from "./embeddings.js";\nexport { Database } from "./d1.js";\n'
                                                   'export { Budget, meteredEnv } from "./budget.js";\n')
    bundle = staging / "embeddings.mjs"
    result = subprocess.run([str(REPO_ROOT / "node_modules" / ".bin" / "esbuild"), "src/node_entry.js", f"--outfile={bundle}", *ESBUILD_FLAGS],
                            cwd=staging, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return bundle


# A drain's world: `setup` returns {env, db, calls} whose bindings log each call in `calls`
# (["run", model, texts], ["upsert", ids], ["deleteByIds", ids], ["batch", sqls]) and spend the
# budget as the Worker's metered env does; `ai(texts)` answers the model, `failing` names the
# Vectorize methods that throw. `job` is a spore job whose row the push carried.
DRAIN = """
const vector = [0.6, 0.8];
const job = (id, content, fields = {}, table = "spores") => ({ table, id, machineId: "m", queuedAt: 7,
  row: { id, machine_id: "m", content, status: "active", created_at: 1, ...fields } });
function setup({ queries = 1000, subrequests = 1000, ai = (texts) => ({ data: texts.map(() => vector) }), failing = {}, vars = {}, unbound = [] } = {}) {
  const budget = new Budget({ queries, subrequests });
  const calls = [];
  const answer = (method) => async (value) => {
    calls.push([method, value.map((item) => item.id ?? item)]);
    if (failing[method]) throw new Error(failing[method]);
    return { mutationId: "x" };
  };
  const bindings = {
    AI: { run: async (model, inputs) => { calls.push(["run", model, inputs.text]); return ai(inputs.text); } },
    MYCO_TEAM_VECTORS: { upsert: answer("upsert"), deleteByIds: answer("deleteByIds") },
  };
  const d1 = {
    prepare: (sql) => ({ bind: (...params) => ({ sql, params }) }),
    batch: async (statements) => { calls.push(["batch", statements.map((item) => item.sql.split(" ")[0])]); return statements.map(() => ({ results: [] })); },
  };
  for (const name of unbound) delete bindings[name];
  return { env: meteredEnv({ ...bindings, ...vars }, budget), db: new Database(d1, budget), calls };
}
// The drain's counts, and the error each failed job keeps in the backlog (closing's UPDATE).
const outcome = ({ closing, ...counts }) => ({ counts, errors: Object.fromEntries(closing.filter((item) => item.sql.startsWith("UPDATE"))
  .flatMap((item) => JSON.parse(item.params[0]).map((entry) => [entry[1], entry[4]]))) });
"""


def drain_in_node(bundle: Path, body: str):
    """`body` run by node with embeddings.js's exports and DRAIN's helpers in scope."""
    imports = (f"import {{ Budget, Database, drainJobs, embeddingText, jobsOf, knownRow, meteredEnv, vectorId, "
               f"vectorMetadata }} from '{bundle.as_uri()}';")
    return run_in_node(imports, DRAIN + body)


def drain(bundle: Path, jobs: str, options: str = "{}", allowance: int = 8, extra: str = "send: false"):
    """[counts, errors, calls] of one drainJobs over `jobs` (JS) in `setup(options)`."""
    return drain_in_node(bundle, f"""
        const {{ env, db, calls }} = setup({options});
        const result = await drainJobs(env, db, {jobs}, {{ allowance: {{ aiCalls: {allowance} }}, {extra} }});
        const {{ counts, errors }} = outcome(result);
        answer = [counts, errors, calls];""")


def counts(written: int = 0, removed: int = 0, failed: int = 0, skipped: int = 0) -> dict:
    return {"written": written, "removed": removed, "failed": failed, "skipped": skipped}


@pytest.mark.parametrize("lengths, per_call", [([10] * 17, [16, 1]), ([6000, 6000], [2]), ([6000, 6000, 1], [2, 1])],
                         ids=["sixteen-texts", "twelve-thousand-characters", "one-more-character"])
def test_texts_go_to_the_model_sixteen_and_at_most_twelve_thousand_characters_to_a_call(embeddings_bundle, lengths, per_call):
    """Guards against batching that ignores TEXTS_PER_CALL (17 texts in one call, or each text in
    its own), that refuses a call of exactly 12,000 characters or lets one go past it, and that
    counts a call's characters wrongly (subtracted, or not added up)."""
    jobs = f"{lengths}.map((length, index) => job(`sp-${{index}}`, 'x'.repeat(length)))"
    done, errors, calls = drain(embeddings_bundle, jobs)
    assert (done, errors) == (counts(written=len(lengths)), {})
    assert [len(call[2]) for call in calls if call[0] == "run"] == per_call


def test_a_drain_makes_no_more_model_calls_than_its_allowance_and_leaves_the_rest_queued(embeddings_bundle):
    """Guards against the allowance of Workers AI calls not spent (`+=`), not checked, checked one
    call late (`< 0`) or backwards, or raised to what the budget has left (Math.max), and against
    the allowance object not spent (the cron shares it across its rounds)."""
    answer = drain_in_node(embeddings_bundle, """
        const { env, db, calls } = setup();
        const allowance = { aiCalls: 2 };
        const jobs = Array.from({ length: 40 }, (_, index) => job(`sp-${index}`, `text ${index}`));
        const { counts } = outcome(await drainJobs(env, db, jobs, { allowance, send: false }));
        answer = [counts, calls.filter((call) => call[0] === "run").map((call) => call[2].length), allowance.aiCalls];""")
    assert answer == [counts(written=32, skipped=8), [16, 16], 0]


FAILING_MODEL = "{ ai: (texts) => { if (texts.some((text) => text.includes('FAIL'))) throw new Error('3030: upstream failed'); return { data: texts.map(() => vector) }; } }"


def test_a_failed_batch_is_retried_one_text_at_a_time_within_the_subrequests_left_after_vectorize(embeddings_bundle):
    """Guards against the model's calls not held to the subrequests left once the Vectorize calls
    are kept (2 here: one upsert, one delete), so the retry of a failed batch spends one call per
    text while any are left and leaves the rest queued (skipped), never failed; against a failed
    batch failing every text without a retry, and a failed single text retried again; against a
    delete sent when there is nothing to delete (a failed or skipped job's legacy id)."""
    done, errors, calls = drain(embeddings_bundle, "[job('sp-a', 'FAIL a'), job('sp-b', 'b')]", FAILING_MODEL.replace("{ ai", "{ subrequests: 4, ai"))
    assert (done, errors) == (counts(failed=1, skipped=1), {"sp-a": "embedding failed: 3030: upstream failed"})
    assert calls == [["run", "@cf/baai/bge-m3", ["FAIL a", "b"]], ["run", "@cf/baai/bge-m3", ["FAIL a"]]]
    done, errors, calls = drain(embeddings_bundle, "[job('sp-a', 'FAIL a')]", FAILING_MODEL)
    assert (done, errors, calls) == (counts(failed=1), {"sp-a": "embedding failed: 3030: upstream failed"}, [["run", "@cf/baai/bge-m3", ["FAIL a"]]])


@pytest.mark.parametrize("answer, error", [
    ("null", "the model returned 0 vectors for 1 texts"),
    ("{}", "the model returned 0 vectors for 1 texts"),
    ("{ data: 'not a list' }", "the model returned 0 vectors for 1 texts"),
    ("{ data: [vector, vector] }", "the model returned 2 vectors for 1 texts"),
], ids=["null", "no-data", "data-not-a-list", "one-vector-too-many"])
def test_a_model_answer_without_one_vector_per_text_fails_the_job_saying_so(embeddings_bundle, answer, error):
    """Guards against an answer in the wrong shape (none, no `data` list, a vector more or less
    than texts) taken as vectors, failing on a TypeError instead of saying what the model
    returned, or failing with an empty message."""
    done, errors, calls = drain(embeddings_bundle, "[job('sp-a', 'a')]", f"{{ ai: () => ({answer}) }}")
    assert (done, errors) == (counts(failed=1), {"sp-a": f"embedding failed: {error}"})
    assert [call[0] for call in calls] == ["run"]


@pytest.mark.parametrize("unbound, error", [
    (["MYCO_TEAM_VECTORS"], "the Vectorize binding MYCO_TEAM_VECTORS is missing"),
    (["AI"], "the Workers AI binding AI is missing"),
    (["AI", "MYCO_TEAM_VECTORS"], "the Workers AI binding AI is missing"),
], ids=["vectorize", "ai", "both"])
def test_a_missing_binding_fails_every_job_naming_the_binding(embeddings_bundle, unbound, error):
    """Guards against a drain that goes on with one binding missing (a TypeError, or vectors
    counted as written), that names the wrong binding or none, and that counts a job as skipped."""
    jobs = "[job('sp-a', 'a'), job('sp-b', 'b', { status: 'superseded' })]"
    done, errors, calls = drain(embeddings_bundle, jobs, f"{{ unbound: {unbound} }}")
    assert (done, errors, calls) == (counts(failed=2), {"sp-a": error, "sp-b": error}, [])


def test_a_failed_upsert_fails_its_jobs_and_keeps_their_legacy_vectors_and_a_failed_delete_fails_the_removals(embeddings_bundle):
    """Guards against a Vectorize upsert or delete that failed counted as done (the job leaves the
    backlog, the index disagrees with D1 for good), against its error lost, against the legacy
    vector of a job whose upsert failed deleted (a search would find neither), and against a
    removed row's own legacy id left in the index."""
    jobs = "[job('sp-a', 'a'), job('sp-r', 'r', { status: 'superseded' })]"
    upsert = "VECTOR_UPSERT_ERROR (code = 40008): invalid vector"
    done, errors, calls = drain(embeddings_bundle, jobs, f"{{ failing: {{ upsert: '{upsert}' }} }}")
    assert (done, errors) == (counts(removed=1, failed=1), {"sp-a": f"vector upsert failed: {upsert}"})
    assert calls[1:] == [["upsert", [vector_id("spores", "sp-a", "m")]], ["deleteByIds", [vector_id("spores", "sp-r", "m"), "spores:sp-r:m"]]]
    delete = "VECTOR_DELETE_ERROR: index unavailable"
    done, errors, calls = drain(embeddings_bundle, jobs, f"{{ failing: {{ deleteByIds: '{delete}' }} }}")
    assert (done, errors) == (counts(written=1, failed=1), {"sp-r": f"vector delete failed: {delete}"})
    assert calls[2:] == [["deleteByIds", [vector_id("spores", "sp-r", "m"), "spores:sp-a:m", "spores:sp-r:m"]]]


def test_a_legacy_id_is_deleted_when_it_fits_vectorizes_64_bytes(embeddings_bundle):
    """Guards against the legacy id's limit off by one (a 64-byte id kept) or dropped (a 65-byte id
    sent, which Vectorize refuses, failing the delete), and counted in characters, not bytes."""
    fits, too_long = "é" + "x" * 53, "é" + "x" * 54  # "spores:<id>:m": 64 and 65 bytes, 63 and 64 characters
    done, _, calls = drain(embeddings_bundle, f"[job('{fits}', 'a'), job('{too_long}', 'b')]")
    assert done == counts(written=2)
    assert calls[2:] == [["deleteByIds", [f"spores:{fits}:m"]]]


# Jobs whose rows D1 must be read (no `row`): 1,000 per table, ids of 1,000 bytes.
UNREAD_TWO_TABLES = ("['spores', 'sessions'].flatMap((table) => Array.from({ length: 1000 }, (_, index) => "
                     "({ table, id: `${index}`.padStart(1000, 'i'), machineId: 'm', queuedAt: 7 })))")
# Removals of known rows: 2,100 ids of 400 bytes.
REMOVALS = "Array.from({ length: 2100 }, (_, index) => job(`${index}`.padStart(400, 'i'), 'r', { status: 'superseded' }))"


@pytest.mark.parametrize("jobs, reserve, needed, done", [
    ("[job('sp-a', 'a')]", 2, 5, counts(written=1)),
    (UNREAD_TWO_TABLES, 0, 7, counts(removed=2000)),
    (REMOVALS, 0, 5, counts(removed=2100)),
], ids=["one-job", "rows-to-read", "two-lists-to-finish"])
def test_a_drain_starts_only_when_the_queries_left_cover_its_reads_its_closing_and_the_callers_reserve(embeddings_bundle, jobs,
                                                                                                        reserve, needed, done):
    """Guards against the drain's D1 check refusing an exact fit or letting one query too few
    through, against it forgetting the caller's reserve, and against its count of the queries a
    drain may take being wrong: each table's rows read in one list (2 statements here, not each
    table with every table's pairs: 4), and the closing's two statements per JSON list of finished
    jobs plus the counters (each job counted with room for a 500-byte error: 2 lists here, 5
    statements). A job left waiting costs nothing: no call at all."""
    answers = [drain(embeddings_bundle, jobs, f"{{ queries: {queries} }}", extra=f"send: false, reserve: {reserve}")
               for queries in (needed, needed - 1)]
    assert answers[0][:2] == [done, {}]
    total = sum(done.values())
    assert answers[1] == [counts(skipped=total), {}, []]


def test_a_drain_starts_only_when_the_subrequests_left_cover_its_vectorize_calls(embeddings_bundle):
    """Guards against the Vectorize calls a drain keeps (an upsert per 1,000 jobs, a delete per
    1,000 of twice as many ids: 2 for one job, 3 for 501) miscounted or not checked, so the last
    of them would fail over the budget; an exact fit goes ahead."""
    removal = "[job('sp-r', 'r', { status: 'superseded' })]"
    assert drain(embeddings_bundle, removal, "{ subrequests: 2 }") == [
        counts(removed=1), {}, [["deleteByIds", [vector_id("spores", "sp-r", "m"), "spores:sp-r:m"]]]]
    assert drain(embeddings_bundle, removal, "{ subrequests: 1 }") == [counts(skipped=1), {}, []]
    removals = "Array.from({ length: 501 }, (_, index) => job(`sp-${index}`, 'r', { status: 'superseded' }))"
    done, errors, calls = drain(embeddings_bundle, removals, "{ subrequests: 3 }")
    assert (done, errors, [len(ids) for _, ids in calls]) == (counts(removed=501), {}, [1000, 2])
    assert drain(embeddings_bundle, removals, "{ subrequests: 2 }") == [counts(skipped=501), {}, []]


def test_a_failed_jobs_error_is_kept_to_500_characters_and_the_last_one_is_counted(embeddings_bundle):
    """Guards against an error kept whole in the backlog's last_error or team_sync_stats'
    last_embed_error (a model's answer can be long), and against the counters' last error not
    being the drain's last failure."""
    answer = drain_in_node(embeddings_bundle, """
        const { env, db } = setup({ ai: (texts) => { throw new Error(`${texts.join("+")} ${"E".repeat(600)}`); } });
        const result = await drainJobs(env, db, [job("sp-a", "a"), job("sp-b", "b")], { allowance: { aiCalls: 8 }, send: false });
        answer = [outcome(result), result.closing.at(-1).params.slice(0, 3)];""")
    kept = {name: f"embedding failed: {name} {'E' * 600}"[:500] for name in "ab"}
    assert answer == [{"counts": counts(failed=2), "errors": {"sp-a": kept["a"], "sp-b": kept["b"]}}, [0, 2, kept["b"]]]


@pytest.mark.parametrize("model, called", [(None, "@cf/baai/bge-m3"), ("@cf/meta/another-model", "@cf/meta/another-model")])
def test_the_texts_go_to_the_embedding_model_var_or_bge_m3_when_it_is_unset(embeddings_bundle, model, called):
    """Guards against EMBEDDING_MODEL ignored (the default always used) and against a default
    other than bge-m3 when the var is unset (a Worker deployed without its vars)."""
    options = f"{{ vars: {{ EMBEDDING_MODEL: '{model}' }} }}" if model else "{}"
    done, _, calls = drain(embeddings_bundle, "[job('sp-a', 'a')]", options)
    assert (done, calls[0]) == (counts(written=1), ["run", called, ["a"]])


def test_a_drain_sends_its_closing_itself_unless_told_to_leave_it_to_the_caller(embeddings_bundle):
    """Guards against the closing statements (the finished jobs' removal from the backlog, the
    counters) sent when the caller sends them with its own last batch (a round trip more, and
    twice if the caller does too), not sent by default (the cron's drains), returned as well when
    sent, and against a drain of no jobs spending anything."""
    answer = drain_in_node(embeddings_bundle, """
        const run = async (options) => {
          const { env, db, calls } = setup();
          const result = await drainJobs(env, db, [job("sp-a", "a")], { allowance: { aiCalls: 8 }, ...options });
          return [result.closing.map((item) => item.sql.trim().split(" ")[0]), calls.filter((call) => call[0] === "batch")];
        };
        const { env, db, calls } = setup();
        answer = [await run({}), await run({ send: true }), await run({ send: false }),
                  await drainJobs(env, db, [], { allowance: { aiCalls: 8 } }), calls];""")
    assert answer == [
        [[], [["batch", ["DELETE", "INSERT"]]]],
        [[], [["batch", ["DELETE", "INSERT"]]]],
        [["DELETE", "INSERT"], []],
        {**counts(), "closing": []},
        [],
    ]


def test_an_empty_text_removes_the_vector_without_calling_the_model(embeddings_bundle):
    """Guards against a row whose embedded field is empty sent to the model (an empty text's
    vector) instead of having its vector removed."""
    done, _, calls = drain(embeddings_bundle, "[job('sp-e', '')]")
    assert (done, calls) == (counts(removed=1), [["deleteByIds", [vector_id("spores", "sp-e", "m"), "spores:sp-e:m"]]])


def test_a_text_of_exactly_8000_characters_is_embedded_whole(embeddings_bundle):
    """Guards against the cut at 8,000 characters off by one (a text of exactly 8,000 marked as cut)."""
    answer = drain_in_node(embeddings_bundle, "answer = [embeddingText('x'.repeat(8000)), embeddingText('x'.repeat(8001))];")
    assert answer == ["x" * 8000, "x" * 8000 + "\n\n[truncated for embedding]"]


def test_the_vector_id_is_base64url_with_both_replacements(embeddings_bundle):
    """Guards against the base64url conversion dropping `+` or `/` instead of replacing them (the
    reference's example has neither)."""
    digest = base64.b64encode(hashlib.sha256(b"spores:sp-19:m").digest()[:16]).decode()
    assert "+" in digest and "/" in digest
    assert drain_in_node(embeddings_bundle, "answer = await vectorId('spores', 'sp-19', 'm');") == vector_id("spores", "sp-19", "m")


# Per table, a row with every metadata field (and one field that is not metadata).
WHOLE_ROWS = {
    "spores": {"status": "active", "observation_type": "decision", "session_id": "s1", "created_at": 5},
    "sessions": {"status": "completed", "project_root": "/src/app", "created_at": 6},
    "plans": {"status": "draft", "session_id": "s2", "source_path": "plans/a.md", "created_at": 7},
    "artifacts": {"source_path": "docs/b.md", "created_at": 8},
    "skill_records": {"status": "active", "name": "deploy", "created_at": 9},
}


def test_each_tables_vectors_carry_its_metadata_fields(embeddings_bundle):
    """Guards against a table's metadata fields lost or mistyped (a string field taken for a
    number, or none at all): /search filters on them."""
    rows = {table: {"id": 12, "machine_id": "m", "project_id": PROJECT, "content": "not metadata", **fields} for table, fields in WHOLE_ROWS.items()}
    answer = drain_in_node(embeddings_bundle, f"answer = Object.fromEntries(Object.entries({json.dumps(rows)}).map(([table, row]) => [table, vectorMetadata(table, row)]));")
    assert answer == {table: {"table": table, "id": "12", "machine_id": "m", "project_id": PROJECT, **fields} for table, fields in WHOLE_ROWS.items()}


@pytest.mark.parametrize("fields", [
    {"project_id": "", "status": "", "session_id": None, "created_at": None},
    {"project_id": 5, "status": 1, "observation_type": True, "session_id": ["s"], "created_at": "5"},
    {"session_id": 3.5, "observation_type": {"a": 1}, "created_at": float("inf")},
    {"created_at": float("nan"), "status": 0},
], ids=["empty-and-null", "wrong-types", "numbers-in-string-fields", "not-finite"])
def test_metadata_keeps_only_non_empty_strings_and_finite_numbers(embeddings_bundle, fields):
    """Guards against metadata taking an empty or non-string value for a string field (project_id
    included), a string or a non-finite number for a number field: Vectorize filters compare types."""
    answer = drain_in_node(embeddings_bundle, f"answer = vectorMetadata('spores', {{ id: 'sp', machine_id: 'm', ...{json.dumps(fields)} }});")
    assert answer == {"table": "spores", "id": "sp", "machine_id": "m"}


# What a job reads of its row, per table: the embedded field, project_id and the metadata fields.
NEEDED = {table: [read_contract().tables[table].embed, "project_id", *fields] for table, fields in WHOLE_ROWS.items()}


def test_a_pushed_row_is_used_only_when_it_carries_every_field_the_job_reads(embeddings_bundle):
    """Guards against a job using the row a push carried when it lacks a field the job reads (an
    upsert writes only the columns it carries, so D1's row has the rest: a spore sent without its
    status would lose its vector), against every pushed row read again from D1 (a query more per
    push), and against a delete's row taken for the row (its vector would be written again)."""
    answer = drain_in_node(embeddings_bundle, f"""
        const needed = {json.dumps(NEEDED)};
        const whole = (table) => Object.fromEntries(needed[table].map((field) => [field, "v"]));
        const without = (table, field) => Object.fromEntries(needed[table].filter((other) => other !== field).map((other) => [other, "v"]));
        answer = Object.keys(needed).map((table) => [
          knownRow({{ table, operation: "upsert", row: whole(table) }}) !== null,
          needed[table].map((field) => knownRow({{ table, operation: "upsert", row: without(table, field) }})),
          knownRow({{ table, operation: "delete", row: whole(table) }}),
        ]);""")
    assert answer == [[True, [None] * len(fields), None] for fields in NEEDED.values()]


def test_only_written_records_of_embedded_tables_keyed_by_id_get_jobs(embeddings_bundle):
    """Guards against jobs for a table with nothing to embed (prompt_batches) or one not keyed by
    `id` (a job names its row by id), and against a job without its table, id, machine, time or
    its known row."""
    answer = drain_in_node(embeddings_bundle, """
        const spore = { table: "spores", id: "sp-1", machineId: "m1", operation: "upsert", contract: { key: ["id", "machine_id"] },
                        row: { content: "c", project_id: "p", status: "active", observation_type: "o", session_id: "s", created_at: 1 } };
        const session = { table: "sessions", id: "s-1", machineId: "m2", operation: "delete", contract: { key: ["id", "machine_id"] }, row: { id: "s-1" } };
        const batch = { table: "prompt_batches", id: "pb-1", machineId: "m1", operation: "upsert", contract: { key: ["id", "machine_id"] }, row: {} };
        const keyedOtherwise = { ...spore, id: "sp-2", contract: { key: ["machine_id", "id"] } };
        answer = jobsOf([spore, batch, session, keyedOtherwise], 42);""")
    row = {"content": "c", "project_id": "p", "status": "active", "observation_type": "o", "session_id": "s", "created_at": 1}
    assert answer == [{"table": "spores", "id": "sp-1", "machineId": "m1", "queuedAt": 42, "row": row},
                      {"table": "sessions", "id": "s-1", "machineId": "m2", "queuedAt": 42, "row": None}]


def test_a_metadata_string_is_kept_while_its_json_takes_at_most_1024_bytes(embeddings_bundle):
    """Guards against the cap that keeps a vector's metadata within Vectorize's 10 KiB off by one,
    counted in characters (é takes two bytes) or on the raw text (a control character takes six
    bytes of JSON)."""
    paths = ["a" * 1022, "a" * 1023, "é" * 511, "é" * 512, "\u0000" * 170, "\u0000" * 171]
    answer = drain_in_node(embeddings_bundle, f"""
        answer = {json.dumps(paths)}.map((path) => vectorMetadata("artifacts", {{ id: "a", machine_id: "m", source_path: path }}).source_path ?? null);""")
    assert answer == [paths[0], None, paths[2], None, paths[4], None]


# The Worker on workerd, with the stand-ins.

def test_the_vector_id_follows_the_references_example():
    assert vector_id("spores", "spore_0123456789abcdef0123456789abcdef", "machine-a") == "v1:PgKCRBbcWl3_Cp9Rwe1vjg"


def test_an_accepted_spore_gets_its_vector_with_the_references_id_and_metadata(running_worker):
    spore_id = "spore_0123456789abcdef0123456789abcdef"
    answer = enqueue(running_worker, [spore(spore_id, "machine-a", session_id="sess_1")], "machine-a")
    assert answer["embeddings"] == {"written": 1, "removed": 0, "failed": 0, "skipped": 0}
    metadata = stored_vectors(running_worker)["v1:PgKCRBbcWl3_Cp9Rwe1vjg"]
    assert metadata == {"table": "spores", "id": spore_id, "machine_id": "machine-a", "project_id": PROJECT, "status": "active",
                        "observation_type": "decision", "session_id": "sess_1", "created_at": 1_767_225_600}


def test_each_table_embeds_its_own_field_and_the_others_none(running_worker):
    records = [
        session("sess-emb", "m-fields", summary="the session summary"),
        session("sess-nosummary", "m-fields"),
        record("plans", "plan-emb", "m-fields", content="plan text", status="active", created_at=1, logical_key="k"),
        record("artifacts", "art-emb", "m-fields", content="artifact text", source_path="a.md", title="A", created_at=1),
        record("skill_records", "skill-emb", "m-fields", description="a skill", agent_id="a", name="n", display_name="N", path="p",
               created_at=1, updated_at=1),
        record("prompt_batches", "pbat-emb", "m-fields", user_prompt="not embedded", session_id="s", created_at=1),
    ]
    enqueue(running_worker, records, "m-fields")
    vectors = stored_vectors(running_worker)
    for table, record_id in [("sessions", "sess-emb"), ("plans", "plan-emb"), ("artifacts", "art-emb"), ("skill_records", "skill-emb")]:
        assert vector_id(table, record_id, "m-fields") in vectors, table
    assert vector_id("sessions", "sess-nosummary", "m-fields") not in vectors
    assert vector_id("prompt_batches", "pbat-emb", "m-fields") not in vectors


def test_a_spore_that_is_no_longer_active_and_a_deleted_row_lose_their_vectors(running_worker):
    enqueue(running_worker, [spore("sp-retire", "m-lose"), spore("sp-delete", "m-lose")], "m-lose")
    assert {vector_id("spores", "sp-retire", "m-lose"), vector_id("spores", "sp-delete", "m-lose")} <= set(stored_vectors(running_worker))
    answer = enqueue(running_worker, [spore("sp-retire", "m-lose", status="superseded"), record("spores", "sp-delete", "m-lose", "delete")], "m-lose")
    assert answer["embeddings"]["removed"] == 2
    vectors = stored_vectors(running_worker)
    assert vector_id("spores", "sp-retire", "m-lose") not in vectors and vector_id("spores", "sp-delete", "m-lose") not in vectors


def test_long_text_is_cut_to_8000_characters_and_marked(running_worker):
    text = "alpha beta gamma " * 470 + "omega " * 200  # 7,990 characters before the omegas
    enqueue(running_worker, [spore("sp-long", "m-long", content=text)], "m-long")
    truncated = text[:8000] + "\n\n[truncated for embedding]"
    # The stand-in model is deterministic: the query embeds to the very same vector only if the
    # Worker embedded exactly the truncated text.
    results = get(running_worker, "/search", q=truncated, tables="spores")["results"]
    best = next(result for result in results if result["id"] == "sp-long")
    assert best["score"] == pytest.approx(1.0, abs=1e-9)
    whole = get(running_worker, "/search", q="omega " * 200, tables="spores")["results"]
    assert next(result for result in whole if result["id"] == "sp-long")["score"] < 0.5, "the omegas past 8,000 characters were embedded"


def test_an_embedding_failure_keeps_the_record_and_the_cron_drain_writes_the_vector(start_worker, tmp_path):
    state = tmp_path / "embed-failure"
    worker = start_worker(upto=schema_version(), state=state, extra=stand_ins(FAIL_MARKER=FAIL_ONCE))
    answer = enqueue(worker, [spore("sp-flaky", "m-flaky", content=f"flaky {FAIL_ONCE}"), spore("sp-ok", "m-flaky")], "m-flaky")
    assert (answer["accepted"], answer["rejected"]) == (2, [])
    assert answer["embeddings"]["written"] == 1 and answer["embeddings"]["failed"] == 1
    assert read_rows(state, "SELECT count(*) FROM spores WHERE machine_id = 'm-flaky'") == [(2,)]
    assert vector_id("spores", "sp-flaky", "m-flaky") not in stored_vectors(worker)
    stats = get(worker, "/queue-stats")
    assert (stats["backlog"], stats["embed_ok"], stats["embed_failed"]) == (1, 1, 1)
    assert "3030" in stats["last_embed_error"]
    assert read_rows(state, "SELECT row_id, attempts FROM team_embed_backlog") == [("sp-flaky", 1)]
    run_cron(worker)
    assert vector_id("spores", "sp-flaky", "m-flaky") in stored_vectors(worker)
    assert get(worker, "/queue-stats")["backlog"] == 0
    assert get(worker, "/config")["config"]["vector_reindex_last_reindexed"] == "1"


def test_reindex_queues_every_row_of_the_embedded_tables_and_the_cron_writes_them(start_worker, tmp_path):
    worker = start_worker(upto=schema_version(), state=tmp_path / "reindex")
    enqueue(worker, [spore(f"sp-{index}", "m-re") for index in range(3)] + [session("s-re", "m-re", summary="s")], "m-re")
    assert len(stored_vectors(worker)) == 4
    answer = httpx.post(f"{worker.url}/vectors/reindex", json={}, headers=AUTH).json()
    assert (answer["enqueued"], answer["by_table"]["spores"], answer["by_table"]["sessions"]) == (4, 3, 1)
    assert get(worker, "/queue-stats")["backlog"] == 4
    assert get(worker, "/config")["config"]["vector_reindex_status"] == "queued"
    run_cron(worker)
    assert get(worker, "/queue-stats")["backlog"] == 0
    assert get(worker, "/config")["config"]["vector_reindex_status"] == "idle"
    assert httpx.post(f"{worker.url}/vectors/reindex", json={"table": "prompt_batches"}, headers=AUTH).status_code == 400


def test_reindex_queues_only_the_tables_the_contract_embeds(start_worker, tmp_path):
    """Guards against the Worker's list of embedded tables holding every contract table (its
    `embed` filter dropped): a reindex would queue jobs for rows that have nothing to embed."""
    worker = start_worker(upto=schema_version(), state=tmp_path / "reindex-tables")
    enqueue(worker, [spore("sp-only", "m-only"), record("prompt_batches", "pbat-only", "m-only", session_id="s", created_at=1)], "m-only")
    answer = httpx.post(f"{worker.url}/vectors/reindex", json={}, headers=AUTH).json()
    embedded = {name for name, table in read_contract().tables.items() if table.embed}
    assert set(answer["by_table"]) == embedded == {"artifacts", "plans", "sessions", "skill_records", "spores"}
    assert (answer["enqueued"], get(worker, "/queue-stats")["backlog"]) == (1, 1)


def test_without_ai_and_vectorize_bindings_records_are_accepted_and_jobs_wait(start_worker, tmp_path):
    state = tmp_path / "unbound"
    worker = start_worker(upto=schema_version(), state=state, extra={"serviceWorkers": [], "serviceBindings": {}})
    answer = enqueue(worker, [spore("sp-unbound", "m-unbound")], "m-unbound")
    assert (answer["accepted"], answer["embeddings"]["failed"]) == (1, 1)
    assert read_rows(state, "SELECT last_error FROM team_embed_backlog") == [("the Workers AI binding AI is missing",)]
    health = httpx.get(f"{worker.url}/health").json()
    assert (health["bindings"]["ai"], health["bindings"]["vectorize"]) == (False, False)


def test_vectors_are_read_back_with_ids_values_and_metadata_and_deletes_reach_the_index(start_worker, tmp_path):
    worker = start_worker(upto=schema_version(), state=tmp_path / "read-back")
    # vectors an older Worker wrote under the legacy ids: both go once their rows are written again
    stand_in(worker, "PUT", "/vectors", json={"vectors": [{"id": "spores:sp-read:m-read"}, {"id": "plans:plan-gone:m-read"}]})
    content = "read the vector back from the index"
    plan = record("plans", "plan-gone", "m-read", content="a plan to delete", status="active", created_at=7, logical_key="k")
    enqueue(worker, [spore("sp-read", "m-read", content=content, session_id="sess_9"), plan], "m-read")

    index = {vector["id"]: vector for vector in stand_in(worker, "GET", "/vectors", params={"values": "1"})["vectors"]}
    assert set(index) == {vector_id("spores", "sp-read", "m-read"), vector_id("plans", "plan-gone", "m-read")}
    written = index[vector_id("spores", "sp-read", "m-read")]
    assert written["values"] == stand_in(worker, "POST", "/embed", json={"text": content})["values"]
    assert len(written["values"]) == load_environment("local").vectorize.dimensions
    assert written["metadata"] == {"table": "spores", "id": "sp-read", "machine_id": "m-read", "project_id": PROJECT, "status": "active",
                                   "observation_type": "decision", "session_id": "sess_9", "created_at": 1_767_225_600}
    assert index[vector_id("plans", "plan-gone", "m-read")]["metadata"] == {
        "table": "plans", "id": "plan-gone", "machine_id": "m-read", "project_id": PROJECT, "status": "active", "created_at": 7}

    answer = enqueue(worker, [record("plans", "plan-gone", "m-read", "delete")], "m-read")
    assert answer["embeddings"]["removed"] == 1
    assert set(stored_vectors(worker)) == {vector_id("spores", "sp-read", "m-read")}


def test_a_row_whose_metadata_would_pass_vectorizes_10_kib_is_written_without_that_field_and_its_neighbours_too(running_worker):
    """Guards against one row's metadata over Vectorize's 10 KiB per vector failing the whole upsert
    call: every job pushed with it failed, and failed again at each drain (they are drained together)."""
    plan = record("plans", "plan-long-path", "m-meta", content="a plan with a long path", status="active", created_at=1,
                  source_path="docs/" + "a" * 11_000)
    answer = enqueue(running_worker, [plan, spore("sp-beside", "m-meta")], "m-meta")
    assert answer["embeddings"] == {"written": 2, "removed": 0, "failed": 0, "skipped": 0}
    vectors = stored_vectors(running_worker)
    assert vectors[vector_id("plans", "plan-long-path", "m-meta")] == {
        "table": "plans", "id": "plan-long-path", "machine_id": "m-meta", "project_id": PROJECT, "status": "active", "created_at": 1}
    assert vector_id("spores", "sp-beside", "m-meta") in vectors
