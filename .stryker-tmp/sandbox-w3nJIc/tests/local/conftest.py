"""The workerd fixtures of tests/worker, shared: the smoke and runtime tests use the same Worker."""

from tests.worker.conftest import (  # noqa: F401
    running_worker,
    start_worker,
    worker_artifact,
    worker_state,
)
