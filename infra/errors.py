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


class ArtifactRejected(HyphaeError):
    """A build artifact failed verification or is not acceptable for the target environment."""


class DriftDetected(HyphaeError):
    """An environment differs from what the repository says."""


class BackupCorrupted(HyphaeError):
    """A backup file does not match its manifest, or is not a complete D1 export; nothing was restored."""


class BackupUnverified(HyphaeError):
    """A backup loaded, but its schema or row counts differ from what its manifest records."""


class DestroyRefused(HyphaeError):
    """`invoke destroy` was asked for a protected environment, or not confirmed; nothing was destroyed."""


class RestoreFailed(HyphaeError):
    """A restore in place failed after it began; the database was put back to its restore point."""
