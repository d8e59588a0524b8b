"""`invoke fetch-artifact`: a deploy job's artifact, fetched by id, refused unless its digest is the
build job's. GitHub's artifacts API is played by a loopback HTTP server that answers as GitHub
does: `GET /repos/{repo}/actions/artifacts/{id}/zip` with the token, a 302 to a signed blob URL,
the zip from there (without the token)."""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import io
import os
import re
import subprocess
import threading
import zipfile

import httpx
import pytest

from infra.artifact.fetch import fetch_artifact
from infra.errors import ArtifactRejected, MissingCredentials, RemoteApiError, UsageError
from infra.paths import REPO_ROOT

INVOKE = str(REPO_ROOT / ".venv" / "bin" / "invoke")
TOKEN = "ghs_loopbacktoken0123456789"


def zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@contextlib.contextmanager
def github_artifacts(artifacts: dict[str, bytes]):
    seen: list[tuple[str, str | None]] = []
    requests: list[tuple[str, object]] = []  # the raw request path (before http.server tidies it) and headers

    class GitHub(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            return

        def do_GET(self):
            seen.append((self.path, self.headers.get("Authorization")))
            requests.append((self.requestline.split()[1], self.headers))  # read case-insensitively, as HTTP does
            prefix = "/repos/myco/team-sync/actions/artifacts/"
            if self.path.startswith(prefix) and self.path.endswith("/zip"):
                artifact_id = self.path[len(prefix):-len("/zip")]
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    return self._send(401, b'{"message": "Bad credentials"}')
                if artifact_id == "502":  # GitHub's gateway failing with a long page
                    return self._send(502, b"<html>" + b"Bad Gateway " * 30 + b"</html>")
                if artifact_id not in artifacts:
                    return self._send(404, b'{"message": "Not Found"}')
                self.send_response(302)
                self.send_header("Location", f"http://127.0.0.1:{self.server.server_address[1]}/blob/{artifact_id}?sig=x")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            if self.path.startswith("/blob/"):
                return self._send(200, artifacts[self.path.split("/")[2].split("?")[0]])
            return self._send(404, b"{}")

        def _send(self, status: int, body: bytes):
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), GitHub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen, requests
    finally:
        server.shutdown()
        server.server_close()


def fetch(api_url: str, *flags: str, token: str | None = TOKEN) -> subprocess.CompletedProcess:
    variables = {key: value for key, value in os.environ.items() if key not in ("GH_TOKEN", "GITHUB_TOKEN")}
    variables.update(GITHUB_API_URL=api_url, GITHUB_REPOSITORY="myco/team-sync")
    if token:
        variables["GH_TOKEN"] = token
    return subprocess.run([INVOKE, "fetch-artifact", *flags], cwd=REPO_ROOT, env=variables,
                          capture_output=True, text=True, timeout=120)


ARCHIVE = zipped({"worker.js": b"export default {};\n", "manifest.json": b'{"files": {}}\n'})
DIGEST = hashlib.sha256(ARCHIVE).hexdigest()


def test_an_artifact_whose_digest_matches_is_unpacked(tmp_path):
    with github_artifacts({"42": ARCHIVE}) as (url, seen, _requests):
        result = fetch(url, "--artifact-id", "42", "--digest", f"sha256:{DIGEST}", "--to", str(tmp_path / "dist"))
    assert result.returncode == 0, result.stderr
    assert sorted(path.name for path in (tmp_path / "dist").iterdir()) == ["manifest.json", "worker.js"]
    assert seen[1][1] is None, "the token is not sent to the blob store"
    assert TOKEN not in result.stdout + result.stderr


@pytest.mark.parametrize("digest", [hashlib.sha256(b"another archive").hexdigest(), "0" * 64])
def test_an_artifact_whose_digest_differs_is_refused_and_nothing_is_unpacked(tmp_path, digest):
    with github_artifacts({"42": ARCHIVE}) as (url, _seen, _requests):
        result = fetch(url, "--artifact-id", "42", "--digest", digest, "--to", str(tmp_path / "dist"))
    assert result.returncode == 1
    assert result.stderr.strip() == (f"hyphae: error: artifact 42: the downloaded archive's sha256 is {DIGEST}, but the "
                                     f"build job uploaded {digest}; nothing was unpacked, nothing deploys")
    assert not (tmp_path / "dist").exists() and list(tmp_path.iterdir()) == []


def test_an_archive_with_a_path_outside_the_folder_is_refused(tmp_path):
    evil = zipped({"../escaped.js": b"x"})
    with github_artifacts({"7": evil}) as (url, _seen, _requests):
        result = fetch(url, "--artifact-id", "7", "--digest", hashlib.sha256(evil).hexdigest(), "--to", str(tmp_path / "d"))
    assert result.returncode == 1 and "unsafe path '../escaped.js'" in result.stderr
    assert not (tmp_path / "escaped.js").exists() and not (tmp_path / "d").exists()


def test_usage_and_access_errors_are_one_line(tmp_path):
    with github_artifacts({"42": ARCHIVE}) as (url, _seen, _requests):
        missing = fetch(url, "--artifact-id", "43", "--digest", DIGEST, "--to", str(tmp_path / "a"))
        no_token = fetch(url, "--artifact-id", "42", "--digest", DIGEST, "--to", str(tmp_path / "b"), token=None)
        bad_digest = fetch(url, "--artifact-id", "42", "--digest", "abc", "--to", str(tmp_path / "c"))
    assert missing.returncode == 2 and "GitHub answered HTTP 404 for artifact 43 of myco/team-sync" in missing.stderr
    assert no_token.returncode == 2 and "GH_TOKEN is not set" in no_token.stderr
    assert bad_digest.returncode == 2 and "--digest 'abc'" in bad_digest.stderr
    for result in (missing, no_token, bad_digest):
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


# The library function itself, in this process (the task above is its thin skin): what mutation
# testing can see, since mutmut maps only in-process tests to the code they run.
FETCHABLE = {"42": ARCHIVE, "7": zipped({"/abs.js": b"x"}), "8": b"not a zip", "9": zipped({"a/../../up.js": b"x"})}


@pytest.fixture
def github(monkeypatch):
    """GitHub's artifacts API on the loopback, and the variables a deploy job has."""
    for name in ("GH_TOKEN", "GITHUB_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GH_TOKEN", TOKEN)
    monkeypatch.setenv("GITHUB_REPOSITORY", "myco/team-sync")
    with github_artifacts(FETCHABLE) as (url, seen, requests):
        monkeypatch.setenv("GITHUB_API_URL", url + "/")
        yield seen, requests


def test_fetching_unpacks_a_matching_archive_into_an_empty_folder(github, tmp_path):
    """Guards against the digest check or the unpacking losing a file, and the token leaking to the blob store."""
    (tmp_path / "dist").mkdir()
    assert fetch_artifact("42", f"SHA256:{DIGEST.upper()}", tmp_path / "dist") == DIGEST
    assert {path.name: path.read_bytes() for path in (tmp_path / "dist").iterdir()} == {
        "worker.js": b"export default {};\n", "manifest.json": b'{"files": {}}\n'}
    seen, requests = github
    assert seen == [("/repos/myco/team-sync/actions/artifacts/42/zip", f"Bearer {TOKEN}"), ("/blob/42?sig=x", None)]
    path, headers = requests[0]
    assert path == "/repos/myco/team-sync/actions/artifacts/42/zip", "GITHUB_API_URL's trailing slash is not doubled"
    assert (headers["Accept"], headers["X-GitHub-Api-Version"]) == ("application/vnd.github+json", "2022-11-28")
    assert [path.name for path in tmp_path.iterdir()] == ["dist"], "no staging folder is left behind"


def test_fetching_reads_github_token_when_gh_token_is_unset(github, tmp_path, monkeypatch):
    """Guards against only one of the two token variables a job may set being read."""
    monkeypatch.delenv("GH_TOKEN")
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    assert fetch_artifact("42", DIGEST, tmp_path / "dist") == DIGEST


def test_a_mismatching_digest_unpacks_nothing(github, tmp_path):
    """Guards against the comparison of the archive's sha256 with the build job's digest being dropped."""
    with pytest.raises(ArtifactRejected, match=f"sha256 is {DIGEST}, but the build job uploaded {'0' * 64}; nothing was unpacked"):
        fetch_artifact("42", "0" * 64, tmp_path / "dist")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("artifact_id, message", [
    ("7", "the artifact holds an unsafe path '/abs.js'; nothing was unpacked"),
    ("9", "the artifact holds an unsafe path 'a/../../up.js'; nothing was unpacked"),
    ("8", "the artifact is not a zip archive; nothing was unpacked"),
])
def test_an_unsafe_or_broken_archive_unpacks_nothing(github, tmp_path, artifact_id, message):
    """Guards against an archive writing outside its folder, or a half-unpacked folder being deployed."""
    with pytest.raises(ArtifactRejected) as caught:
        fetch_artifact(artifact_id, hashlib.sha256(FETCHABLE[artifact_id]).hexdigest(), tmp_path / "dist")
    assert str(caught.value) == message
    assert list(tmp_path.iterdir()) == []


def test_a_leftover_of_an_interrupted_fetch_is_cleared_and_missing_parents_are_made(github, tmp_path):
    """Guards against a staging folder left by a killed fetch blocking (or leaking into) the next one."""
    destination = tmp_path / "a" / "b" / "dist"
    assert fetch_artifact("42", DIGEST, destination) == DIGEST
    leftover = tmp_path / ".dist.fetching"
    leftover.mkdir()
    (leftover / "junk.js").write_text("from a killed fetch")
    fetch_artifact("42", DIGEST, tmp_path / "dist")
    assert sorted(path.name for path in (tmp_path / "dist").iterdir()) == ["manifest.json", "worker.js"]
    assert not leftover.exists()


@pytest.mark.parametrize("arguments, error, problem", [
    (("4x2", DIGEST), UsageError, "--id '4x2': an artifact id is a number"),
    (("42", "sha1:" + DIGEST[:40]), UsageError, "expected the build job's `artifact-digest`"),
    (("43", DIGEST), RemoteApiError, "GitHub answered HTTP 404 for artifact 43 of myco/team-sync"),
])
def test_bad_arguments_and_refusals_name_what_to_fix(github, tmp_path, arguments, error, problem):
    with pytest.raises(error, match=re.escape(problem)):
        fetch_artifact(*arguments, tmp_path / "dist")
    assert list(tmp_path.iterdir()) == []


def test_a_folder_that_is_not_empty_is_refused(github, tmp_path):
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "old.js").write_text("x")
    with pytest.raises(UsageError, match="not empty"):
        fetch_artifact("42", DIGEST, tmp_path / "dist")
    assert [path.name for path in (tmp_path / "dist").iterdir()] == ["old.js"]


@pytest.mark.parametrize("unset, message", [
    (("GH_TOKEN", "GITHUB_TOKEN"), "GH_TOKEN is not set; the deploy job passes `github.token` (with `actions: read`) "
                                   "to fetch the artifact"),
    (("GITHUB_REPOSITORY",), "GITHUB_REPOSITORY is not set (owner/name; GitHub Actions sets it)"),
])
def test_missing_variables_are_named(github, tmp_path, monkeypatch, unset, message):
    for name in unset:
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(MissingCredentials) as caught:
        fetch_artifact("42", DIGEST, tmp_path / "dist")
    assert str(caught.value) == message


def test_a_digest_that_is_not_one_says_what_is_expected(github, tmp_path):
    with pytest.raises(UsageError) as caught:
        fetch_artifact("42", "abc", tmp_path / "dist")
    assert str(caught.value) == ("--digest 'abc': expected the build job's `artifact-digest` (64 hex digits, "
                                 "optionally prefixed `sha256:`)")


def test_an_unreachable_api_is_a_remote_error_saying_to_retry(github, tmp_path, monkeypatch):
    monkeypatch.setenv("GITHUB_API_URL", "http://127.0.0.1:9")
    with pytest.raises(RemoteApiError) as caught:
        fetch_artifact("42", DIGEST, tmp_path / "dist")
    assert str(caught.value) == "could not fetch artifact 42 from http://127.0.0.1:9 (ConnectError); try the deploy again"


def test_githubs_own_api_is_the_default(github, tmp_path, monkeypatch):
    """Guards against a deploy job without GITHUB_API_URL fetching from nowhere (the proxy refuses at once)."""
    monkeypatch.delenv("GITHUB_API_URL")
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    with pytest.raises(RemoteApiError, match=r"could not fetch artifact 42 from https://api\.github\.com \("):
        fetch_artifact("42", DIGEST, tmp_path / "dist")


def test_githubs_error_answer_is_quoted_up_to_200_characters(github, tmp_path, monkeypatch):
    with github_artifacts({}) as (url, _seen, _requests):
        monkeypatch.setenv("GITHUB_API_URL", url)
        monkeypatch.setenv("GH_TOKEN", "wrong-token")
        with pytest.raises(RemoteApiError) as caught:
            fetch_artifact("42", DIGEST, tmp_path / "dist")
    assert str(caught.value) == ('GitHub answered HTTP 401 for artifact 42 of myco/team-sync: {"message": "Bad credentials"}'
                                 "; check the id and the job's `actions: read` permission")


def test_a_long_error_page_is_cut_at_200_characters(github, tmp_path):
    """Guards against a whole error page (or none of it) landing in the one-line error."""
    page = "<html>" + "Bad Gateway " * 30 + "</html>"
    with pytest.raises(RemoteApiError) as caught:
        fetch_artifact("502", DIGEST, tmp_path / "dist")
    assert str(caught.value) == (f"GitHub answered HTTP 502 for artifact 502 of myco/team-sync: {page[:200]}; "
                                 "check the id and the job's `actions: read` permission")


def test_a_stalled_download_times_out(github, tmp_path, monkeypatch):
    """Guards against a download without a timeout: a stalled connection would hold the deploy job
    until GitHub cancels it, instead of failing with a message saying to retry."""
    import socket

    import infra.artifact.fetch as fetch_module

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)  # accepts the connection, never answers
    monkeypatch.setattr(fetch_module, "TIMEOUT", httpx.Timeout(0.5))
    monkeypatch.setenv("GITHUB_API_URL", f"http://127.0.0.1:{silent.getsockname()[1]}")
    try:
        with pytest.raises(RemoteApiError, match=r"\(ReadTimeout\); try the deploy again"):
            fetch_artifact("42", DIGEST, tmp_path / "dist")
    finally:
        silent.close()
