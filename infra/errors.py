"""The one root exception for every failure a user can cause.

Tasks catch `HyphaeError` (and nothing else) and print its one-line message; anything else is a
bug and keeps its traceback. Each subclass is named for what went wrong and carries the exit code
a CI step can act on: 1 for "the check ran and said no", 2 for "the check could not run".
"""

from __future__ import annotations


class HyphaeError(Exception):
    """A failure the user can fix; `str()` is the one-line message to print."""

    exit_code = 1


class UsageError(HyphaeError):
    """A wrong flag, a path that does not exist, an unknown format or environment."""

    exit_code = 2


class ConfigError(HyphaeError):
    """A missing or invalid setting; the message names the file (or variable) and the key."""

    exit_code = 2

    def __init__(self, source: str, key: str, problem: str):
        self.source, self.key, self.problem = source, key, problem
        super().__init__(f"{source}: {key}: {problem}")


class MissingCredentials(HyphaeError):
    """A remote environment was asked for but a credential variable is not set."""

    exit_code = 2


class LintFailed(HyphaeError):
    """The migration linter found errors; nothing was written."""


class LedgerMismatch(HyphaeError):
    """The database's ledger disagrees with the migration files (HIS002-HIS004)."""


class LockHeld(HyphaeError):
    """Another run holds the migration lock."""


class MigrationFailed(HyphaeError):
    """A migration's batch failed in the database; it was rolled back whole."""


class RemoteApiError(HyphaeError):
    """The Cloudflare API refused or failed a request after retries."""

    exit_code = 2


class DatabaseDamaged(HyphaeError):
    """A local database file is not a database, or is malformed; nothing was written to it."""

    exit_code = 2


class EnvironmentNotCreated(HyphaeError):
    """A remote environment's D1 database does not exist yet: its first `invoke up` creates it.

    Reads treat such an environment as an empty database (every migration pending); a command
    that must write to it says so and leaves the work to the first deploy."""

    exit_code = 2

    def __init__(self, environment: str, database_name: str, account_id: str):
        self.environment, self.database_name = environment, database_name
        super().__init__(f"environment {environment!r} is not created yet: account {account_id} has no D1 database "
                         f"named {database_name} and no stack output names one; its first `invoke up --env "
                         f"{environment}` creates it (if it exists under another name, set "
                         f"HYPHAE_{environment.upper()}_DATABASE_ID or run `invoke outputs --env {environment}`)")


class ArtifactRejected(HyphaeError):
    """A build artifact failed verification or is not acceptable for the target environment."""


class DriftDetected(HyphaeError):
    """An environment differs from what the repository says."""


class ReviewIncomplete(HyphaeError):
    """The review was printed, but an environment or a saved preview it covers could not be read."""

    exit_code = 2


class BackupCorrupted(HyphaeError):
    """A backup file does not match its manifest, or is not a complete D1 export; nothing was restored."""


class BackupUnverified(HyphaeError):
    """A backup loaded, but its schema or row counts differ from what its manifest records."""


class DestroyRefused(HyphaeError):
    """`invoke destroy` was asked for a protected environment, or not confirmed; nothing was destroyed."""


class RestoreFailed(HyphaeError):
    """A restore in place failed after it began; the database was put back to its restore point."""


class RotationRefused(HyphaeError):
    """A credential rotation would cut teammates off (or has nothing to do); nothing was written."""


class CredentialTooOld(HyphaeError):
    """A credential is older than its environment's maximum age (`hyphae:credentials.maxAgeDays`)."""


class MutantsSurvived(HyphaeError):
    """A module's tests killed fewer non-equivalent mutants than the goal, or the equivalents file
    no longer matches the code (`invoke mutate`)."""
