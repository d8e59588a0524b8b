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
import subprocess
import threading
import zipfile

import pytest

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

    class GitHub(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            return

        def do_GET(self):
            seen.append((self.path, self.headers.get("Authorization")))
            prefix = "/repos/myco/team-sync/actions/artifacts/"
            if self.path.startswith(prefix) and self.path.endswith("/zip"):
                artifact_id = self.path[len(prefix):-len("/zip")]
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    return self._send(401, b'{"message": "Bad credentials"}')
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
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
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
    with github_artifacts({"42": ARCHIVE}) as (url, seen):
        result = fetch(url, "--artifact-id", "42", "--digest", f"sha256:{DIGEST}", "--to", str(tmp_path / "dist"))
    assert result.returncode == 0, result.stderr
    assert sorted(path.name for path in (tmp_path / "dist").iterdir()) == ["manifest.json", "worker.js"]
    assert seen[1][1] is None, "the token is not sent to the blob store"
    assert TOKEN not in result.stdout + result.stderr


@pytest.mark.parametrize("digest", [hashlib.sha256(b"another archive").hexdigest(), "0" * 64])
def test_an_artifact_whose_digest_differs_is_refused_and_nothing_is_unpacked(tmp_path, digest):
    with github_artifacts({"42": ARCHIVE}) as (url, _seen):
        result = fetch(url, "--artifact-id", "42", "--digest", digest, "--to", str(tmp_path / "dist"))
    assert result.returncode == 1
    assert result.stderr.strip() == (f"hyphae: error: artifact 42: the downloaded archive's sha256 is {DIGEST}, but the "
                                     f"build job uploaded {digest}; nothing was unpacked, nothing deploys")
    assert not (tmp_path / "dist").exists() and list(tmp_path.iterdir()) == []


def test_an_archive_with_a_path_outside_the_folder_is_refused(tmp_path):
    evil = zipped({"../escaped.js": b"x"})
    with github_artifacts({"7": evil}) as (url, _seen):
        result = fetch(url, "--artifact-id", "7", "--digest", hashlib.sha256(evil).hexdigest(), "--to", str(tmp_path / "d"))
    assert result.returncode == 1 and "unsafe path '../escaped.js'" in result.stderr
    assert not (tmp_path / "escaped.js").exists() and not (tmp_path / "d").exists()


def test_usage_and_access_errors_are_one_line(tmp_path):
    with github_artifacts({"42": ARCHIVE}) as (url, _seen):
        missing = fetch(url, "--artifact-id", "43", "--digest", DIGEST, "--to", str(tmp_path / "a"))
        no_token = fetch(url, "--artifact-id", "42", "--digest", DIGEST, "--to", str(tmp_path / "b"), token=None)
        bad_digest = fetch(url, "--artifact-id", "42", "--digest", "abc", "--to", str(tmp_path / "c"))
    assert missing.returncode == 2 and "GitHub answered HTTP 404 for artifact 43 of myco/team-sync" in missing.stderr
    assert no_token.returncode == 2 and "GH_TOKEN is not set" in no_token.stderr
    assert bad_digest.returncode == 2 and "--digest 'abc'" in bad_digest.stderr
    for result in (missing, no_token, bad_digest):
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []
