"""The remote target: a D1 database through the official `cloudflare` SDK (the only module importing it).

Credentials come from `CLOUDFLARE_API_TOKEN` and `CLOUDFLARE_ACCOUNT_ID` (the account id may
also be declared in the environment's stack file); the database id from the stack outputs, else
from the account itself by the declared database name (one read, which a read-only token may make:
pull requests never hold Pulumi state, see docs/ci.md). Neither: EnvironmentNotCreated.
`HYPHAE_CLOUDFLARE_API_BASE` points the SDK elsewhere (the loopback API in tests).

Retries: the SDK's own retries are off (`max_retries=0`) because a write must never be resent
blindly. Reads and Time Travel calls are retried with backoff on 429 (honouring Retry-After),
5xx, timeouts and dropped connections. A batch is retried only on 429 (refused before running);
a 5xx, timeout or dropped connection after sending raises `ResponseLost`, and the runner reads
the ledger to learn whether it committed before sending it again.

The token is handed to the SDK and nowhere else: no message, log line or repr carries it.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence, TypeVar

import cloudflare
import httpx
from cloudflare import Cloudflare

from infra.credentials import ACCOUNT_VARIABLE, TOKEN_VARIABLE, api_base_url, read_account_id, read_api_token
from infra.environments import Environment
from infra.errors import EnvironmentNotCreated, RemoteApiError, UsageError
from infra.outputs import read_outputs
from infra.targets import BatchFailed, BatchStatement, ResponseLost, RestorePoint

# D1 bounds a call at 30 s; give the answer time to travel back before calling it lost.
REQUEST_TIMEOUT = httpx.Timeout(45.0, connect=10.0)
_T = TypeVar("_T")


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None and 0 <= retry_after <= self.max_retry_after:
            return retry_after
        backoff = min(self.max_delay, self.base_delay * 2 ** attempt)
        return backoff * (0.5 + random.random() / 2)  # jitter: two CI jobs don't retry in step


class D1ApiTarget:
    def __init__(self, environment: str, account_id: str, database_id: str, token: str,
                 base_url: str | None = None, retry: RetryPolicy = RetryPolicy(),
                 timeout: httpx.Timeout = REQUEST_TIMEOUT):
        self.environment = environment
        self.database_id = database_id
        self.account_id = account_id
        self.description = f"D1 database {database_id} (account {account_id})"
        self.created = True
        self.requests_made = 0
        self.retry = retry
        self._client = Cloudflare(api_token=token, base_url=base_url, max_retries=0, timeout=timeout)

    @classmethod
    def for_environment(cls, env: Environment, retry: RetryPolicy = RetryPolicy()) -> "D1ApiTarget":
        """The target of `env`'s database. Raises EnvironmentNotCreated when it has none yet."""
        token = read_api_token(f"environment {env.name!r} is remote and needs an API token with D1 edit permission")
        account_id = read_account_id(env)
        database_id = read_outputs(env).database_id

        def target_of(found: str) -> "D1ApiTarget":
            return cls(env.name, account_id, found, token, api_base_url(), retry, REQUEST_TIMEOUT)

        if database_id:
            return target_of(database_id)
        lookup = target_of("")
        lookup.description = f"the D1 databases of account {account_id}"
        try:
            database_id = lookup.find_database_id(env.d1.name)
        finally:
            lookup.close()
        if database_id is None:
            raise EnvironmentNotCreated(env.name, env.d1.name, account_id)
        return target_of(database_id)

    def find_database_id(self, name: str) -> str | None:
        """The id of the account's D1 database named exactly `name`, or None (read-only)."""
        def listed():
            return [database.uuid for database in self._client.d1.database.list(account_id=self.account_id, name=name)
                    if database.name == name]
        found = self._with_retries(listed, write=False)
        return found[0] if found else None

    # -- the Target interface ------------------------------------------------------------------
    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict]:
        """One read statement; retried on transient failures. Raises BatchFailed if D1 refuses it."""
        page = self._with_retries(lambda: self._client.d1.database.query(
            self.database_id, account_id=self.account_id, sql=sql, params=_texts(params)), write=False)
        results = list(page)
        return list(results[0].results or []) if results else []

    def batch(self, statements: Sequence[BatchStatement]) -> list[list[dict]]:
        """One request, one transaction. Raises BatchFailed (rolled back) or ResponseLost (unknown)."""
        body = [{"sql": statement.sql, "params": _texts(statement.params)} for statement in statements]
        page = self._with_retries(lambda: self._client.d1.database.query(
            self.database_id, account_id=self.account_id, batch=body), write=True)
        return [list(result.results or []) for result in page]

    def create_restore_point(self) -> RestorePoint:
        """D1 Time Travel's current bookmark (read-only)."""
        answer = self._with_retries(lambda: self._client.d1.database.time_travel.get_bookmark(
            self.database_id, account_id=self.account_id), write=False)
        if not answer or not answer.bookmark:
            raise RemoteApiError(f"D1 returned no Time Travel bookmark for {self.description}, so nothing was applied; "
                                 "try again later")
        return RestorePoint("bookmark", answer.bookmark, self.environment)

    def restore(self, reference: str) -> str:
        """Restore the database in place to bookmark `reference` (D1 Time Travel)."""
        try:
            answer = self._with_retries(lambda: self._client.d1.database.time_travel.restore(
                self.database_id, account_id=self.account_id, bookmark=reference), write=False)
        except BatchFailed as refused:
            raise UsageError(f"D1 refused to restore {self.description} to bookmark {reference!r}: {refused.message}; "
                             f"`invoke status --env {self.environment}` shows the last restore point") from None
        undo = f"; to undo: invoke restore --env {self.environment} --bookmark {answer.previous_bookmark}" \
            if answer and answer.previous_bookmark else ""
        return f"restored {self.description} to bookmark {reference}{undo}"

    def close(self) -> None:
        self._client.close()

    # -- retries and errors ----------------------------------------------------------------------
    def _with_retries(self, call: Callable[[], _T], *, write: bool) -> _T:
        for attempt in range(self.retry.attempts):
            self.requests_made += 1
            try:
                return call()
            except cloudflare.RateLimitError as error:
                wait = self.retry.delay(attempt, _retry_after(error.response))
            except (cloudflare.InternalServerError, cloudflare.APITimeoutError, cloudflare.APIConnectionError) as error:
                if write:
                    raise ResponseLost(_describe_transient(error)) from None
                wait = self.retry.delay(attempt)
            except cloudflare.BadRequestError as error:
                raise BatchFailed(_api_message(error), None) from None
            except cloudflare.APIStatusError as error:
                raise self._refusal(error) from None
            if attempt + 1 < self.retry.attempts:
                time.sleep(wait)
        raise RemoteApiError(f"the Cloudflare API kept failing for {self.description} after "
                             f"{self.retry.attempts} attempts (rate limited or unavailable); try again later")

    def _refusal(self, error: cloudflare.APIStatusError) -> RemoteApiError:
        status, message = error.status_code, _api_message(error)
        if status in (401, 403):
            return RemoteApiError(f"the Cloudflare API refused the credentials for environment {self.environment!r} "
                                  f"(HTTP {status}: {message}); check {TOKEN_VARIABLE} (D1 edit permission) "
                                  f"and {ACCOUNT_VARIABLE}")
        if status == 404:
            return RemoteApiError(f"{self.description} was not found (HTTP 404: {message}); check the database id "
                                  f"of environment {self.environment!r} (`invoke outputs --env {self.environment}`)")
        return RemoteApiError(f"the Cloudflare API answered HTTP {status} for {self.description}: {message}")


def _texts(params: Sequence[Any]) -> list[str]:
    """D1's REST API binds parameters as strings; SQL here casts where a number is meant."""
    return [str(value) for value in params]


def _api_message(error: cloudflare.APIStatusError) -> str:
    body = error.body if isinstance(error.body, dict) else {}
    errors = body.get("errors") or []
    if errors and isinstance(errors[0], dict):
        return "; ".join(f"{item.get('message')} (code {item.get('code')})" for item in errors if isinstance(item, dict))
    return str(error.message)


def _describe_transient(error: Exception) -> str:
    if isinstance(error, cloudflare.APIStatusError):
        return f"HTTP {error.status_code}: {_api_message(error)}"
    return type(error).__name__.replace("API", "").replace("Error", " error").strip().lower()


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff
