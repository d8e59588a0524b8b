"""Fetching the build artifact by id from GitHub, its digest checked before anything is unpacked.

`actions/download-artifact` v4 compares the archive's sha256 with the digest recorded at upload
but only warns on a mismatch (first-real-run.md): a deploy would go on with bytes nobody built.
So a deploy job fetches the archive itself: GitHub's REST API (`GET /repos/{repo}/actions/
artifacts/{id}/zip`, answered by a redirect to the blob, which is fetched without the token),
the sha256 of the archive as it arrived compared with the `artifact-digest` the build job output
(upload-artifact's digest of the same archive), and only on a match unpacked into the folder.
`invoke verify` then checks every file against the manifest, as for any artifact.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import zipfile
from pathlib import Path, PurePosixPath

import httpx

from infra.errors import ArtifactRejected, MissingCredentials, RemoteApiError, UsageError

TOKEN_VARIABLES = ("GH_TOKEN", "GITHUB_TOKEN")
DEFAULT_API_URL = "https://api.github.com"
DIGEST = re.compile(r"^(?:sha256:)?(?P<hex>[0-9a-f]{64})$")
TIMEOUT = httpx.Timeout(120.0, connect=20.0)


def fetch_artifact(artifact_id: str, expected_digest: str, destination: Path) -> str:
    """Download artifact `artifact_id` of this repository, check its sha256, unpack it into
    `destination` (which must be empty or absent). Returns the digest. Writes nothing on a mismatch.

    Raises UsageError (bad id, digest or folder), MissingCredentials (no token), RemoteApiError
    (GitHub refused or failed), ArtifactRejected (digest mismatch, or an unsafe archive).
    """
    wanted = _parse_digest(expected_digest)
    if not artifact_id.isdigit():
        raise UsageError(f"--id {artifact_id!r}: an artifact id is a number (the build job's `artifact-id` output)")
    if destination.exists() and any(destination.iterdir()):
        raise UsageError(f"--to {destination}: not empty; the artifact is unpacked into an empty folder only")
    archive = _download(artifact_id)
    actual = hashlib.sha256(archive).hexdigest()
    if actual != wanted:
        raise ArtifactRejected(f"artifact {artifact_id}: the downloaded archive's sha256 is {actual}, but the build job "
                               f"uploaded {wanted}; nothing was unpacked, nothing deploys")
    _unpack(archive, destination)
    return actual


def _parse_digest(value: str) -> str:
    match = DIGEST.match(value.strip().lower())
    if not match:
        raise UsageError(f"--digest {value!r}: expected the build job's `artifact-digest` (64 hex digits, "
                         "optionally prefixed `sha256:`)")
    return match["hex"]


def _download(artifact_id: str) -> bytes:
    token = next((os.environ[name] for name in TOKEN_VARIABLES if os.environ.get(name)), None)
    if not token:
        raise MissingCredentials("GH_TOKEN is not set; the deploy job passes `github.token` (with `actions: read`) "
                                 "to fetch the artifact")
    repository = os.environ.get("GITHUB_REPOSITORY")
    if not repository:
        raise MissingCredentials("GITHUB_REPOSITORY is not set (owner/name; GitHub Actions sets it)")
    api_url = os.environ.get("GITHUB_API_URL", DEFAULT_API_URL).rstrip("/")
    url = f"{api_url}/repos/{repository}/actions/artifacts/{artifact_id}/zip"
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json",
               "X-GitHub-Api-Version": "2022-11-28"}
    try:
        with httpx.Client(timeout=TIMEOUT) as client:
            first = client.get(url, headers=headers)
            if first.is_redirect:  # to the blob store: its URL is signed, the token stays with GitHub
                response = client.get(first.headers["location"])
            else:
                response = first
    except httpx.HTTPError as error:
        raise RemoteApiError(f"could not fetch artifact {artifact_id} from {api_url} ({type(error).__name__}); "
                             "try the deploy again") from None
    if response.status_code != 200:
        raise RemoteApiError(f"GitHub answered HTTP {response.status_code} for artifact {artifact_id} of {repository}: "
                             f"{response.text[:200]}; check the id and the job's `actions: read` permission")
    return response.content


def _unpack(archive: bytes, destination: Path) -> None:
    """Unpack into a sibling folder first and move it in place: a refused archive leaves nothing."""
    try:
        bundle = zipfile.ZipFile(io.BytesIO(archive))
    except zipfile.BadZipFile:
        raise ArtifactRejected("the artifact is not a zip archive; nothing was unpacked") from None
    for name in bundle.namelist():
        path = PurePosixPath(name)
        if path.is_absolute() or ".." in path.parts:
            raise ArtifactRejected(f"the artifact holds an unsafe path {name!r}; nothing was unpacked")
    staging = destination.with_name(f".{destination.name}.fetching")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    bundle.extractall(staging)
    if destination.exists():
        destination.rmdir()
    os.replace(staging, destination)
