"""One environment's Cloudflare resources as a Pulumi ComponentResource, built from the model.

`HyphaeEnvironment` holds the D1 database, the KV namespace, the Vectorize index (our dynamic
provider), the team API key (pulumi-random), the Worker script (bound to them and to Workers AI)
with its workers.dev route, and its cron trigger (the embedding backlog's drain).
Everything comes from one `Environment` (infra/environments.py); nothing here reads config.
- Every binding's id is the Output of the resource it points at, never a typed-in id.
- Data resources (D1, KV, Vectorize) are `protect`ed when the environment says so (staging and
  production do; the policy pack refuses production without it).
- Ids declared in the stack file (`d1.databaseId`, `kv.namespaceId`, `worker.adoptExisting`)
  become `import` options: resources made earlier with wrangler are adopted, not re-created.
  An adopted D1 database registers no location hint (it would plan a replacement).
  The Vectorize provider adopts an index of the same name and shape by itself.
- The API key is a secret Output everywhere it goes (binding and stack output).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_cloudflare as cloudflare
import pulumi_random as random

from infra.bindings import (
    API_KEY,
    DATABASE_ID,
    EMBEDDING_MODEL,
    INDEX_NAME,
    KV_NAMESPACE_ID,
    MIN_COMPAT_VERSION,
    PROTOCOL_VERSION,
    SCHEMA_VERSION,
    api_bindings,
)
from infra.environments import Environment
from infra.stack import names
from infra.stack.vectorize import VectorizeIndex

API_KEY_LENGTH = 48


@dataclass(frozen=True)
class WorkerContent:
    """The Worker's bundle from a verified build artifact: what `WorkersScript` uploads."""

    main_module: str  # the module's name, as the runtime imports it
    content_file: str  # absolute path of that module in the artifact folder
    content_sha256: str  # from the artifact's manifest; the provider refuses bytes that differ


class HyphaeEnvironment(pulumi.ComponentResource):
    """D1, KV, Vectorize, the API key and the Worker of one environment.

    `content=None` registers the data resources only: a new environment's first deploy creates
    them, migrates the database, and only then deploys the Worker (infra/stack/cli.py)."""

    def __init__(self, env: Environment, content: WorkerContent | None, schema_version: int,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__(names.COMPONENT_TYPE, names.component_name(env.name), None, opts)
        self.env = env
        self.database = self._database(env)
        self.kv_namespace = self._kv_namespace(env)
        self.vector_index = VectorizeIndex(names.vector_index_name(env.name), env, self._data_options(env))
        self.schema_version = schema_version
        self.data_only = content is None
        if self.data_only:
            self.register_outputs(self._data_outputs())
            return
        self.api_key = random.RandomPassword(
            f"{env.name}-api-key", length=API_KEY_LENGTH, special=False,
            opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["result"]),
        )
        # Secret here, not only by the engine's additional_secret_outputs: it must stay secret
        # through every Output derived from it, whichever engine (or mock) runs the program.
        self.api_key_value = pulumi.Output.secret(self.api_key.result)
        self.worker = self._worker(env, content, schema_version)
        self.workers_dev = cloudflare.WorkersScriptSubdomain(
            f"{env.name}-workers-dev", account_id=env.account_id, script_name=self.worker.script_name,
            enabled=env.worker.workers_dev, previews_enabled=False,
            opts=pulumi.ResourceOptions(parent=self, import_=self._import_id(env, env.worker.name, env.worker.adopt_existing)),
        )
        self.cron_trigger = cloudflare.WorkersCronTrigger(
            f"{env.name}-cron", account_id=env.account_id, script_name=self.worker.script_name,
            schedules=[cloudflare.WorkersCronTriggerScheduleArgs(cron=env.embeddings.backlog_cron)],
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.worker_url = env.workers_dev_url
        self.register_outputs({**self._data_outputs(), "workerName": self.worker.script_name})

    def _data_outputs(self) -> dict:
        return {"databaseId": self.database.id, "indexName": self.vector_index.id, "kvNamespaceId": self.kv_namespace.id}

    def _data_options(self, env: Environment, import_id: str | None = None) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, protect=env.protect, import_=import_id)

    @staticmethod
    def _import_id(env: Environment, resource_id: str | None, adopt: bool = True) -> str | None:
        """pulumi-cloudflare's import id `<account_id>/<id>`, when the stack file asks to adopt."""
        return f"{env.account_id}/{resource_id}" if adopt and resource_id else None

    def _database(self, env: Environment) -> cloudflare.D1Database:
        # The location hint only places a database when it is created; the provider forces a
        # replacement when it changes and never refreshes it, so an adopted database (imported
        # without it in state) that declared one would plan a replace: a delete. It is left out.
        adopted = env.d1.database_id is not None
        return cloudflare.D1Database(
            names.database_name(env.name), account_id=env.account_id, name=env.d1.name,
            primary_location_hint=None if adopted else env.d1.location_hint,
            opts=self._data_options(env, self._import_id(env, env.d1.database_id)),
        )

    def _kv_namespace(self, env: Environment) -> cloudflare.WorkersKvNamespace:
        return cloudflare.WorkersKvNamespace(
            names.kv_namespace_name(env.name), account_id=env.account_id, title=env.kv.title,
            opts=self._data_options(env, self._import_id(env, env.kv.namespace_id)),
        )

    def _worker(self, env: Environment, content: WorkerContent, schema_version: int) -> cloudflare.WorkersScript:
        return cloudflare.WorkersScript(
            f"{env.name}-worker", account_id=env.account_id, script_name=env.worker.name,
            # Without main_module the upload is not an ES module Worker and bindings fail
            # (pulumi-cloudflare #1309).
            main_module=content.main_module,
            content_file=content.content_file, content_sha256=content.content_sha256,
            compatibility_date=env.worker.compatibility_date,
            compatibility_flags=list(env.worker.compatibility_flags),
            bindings=self._bindings(env, schema_version),
            opts=pulumi.ResourceOptions(parent=self, import_=self._import_id(env, env.worker.name, env.worker.adopt_existing)),
        )

    def _bindings(self, env: Environment, schema_version: int) -> list[cloudflare.WorkersScriptBindingArgs]:
        values = {
            DATABASE_ID: self.database.id,
            INDEX_NAME: self.vector_index.id,
            KV_NAMESPACE_ID: self.kv_namespace.id,
            API_KEY: self.api_key_value,
            PROTOCOL_VERSION: str(env.worker.sync_protocol_version),
            MIN_COMPAT_VERSION: str(env.worker.min_compat_client_version),
            SCHEMA_VERSION: str(schema_version),
            EMBEDDING_MODEL: env.embeddings.model,
        }
        return [cloudflare.WorkersScriptBindingArgs(**shape) for shape in api_bindings(values)]
