"""The MCP token hash against the reference's test vectors (§3.6): the Worker's own module, run by
node, and the smoke test's reading of the description (infra.local.smoke) must both produce them."""

from __future__ import annotations

import json
import subprocess

import pytest

from infra.local.smoke import client_token_hash
from infra.paths import REPO_ROOT

VECTORS = {
    "": "00000000",
    "a": "00000061",
    "abc": "00017862",
    "00000000-0000-0000-0000-000000000000": "552c5040",
    "3f2504e0-4f89-11d3-9a0c-0305e82c3301": "10b97c6d",
    "é": "000000e9",
}


def worker_hashes(tokens: list[str]) -> list[str]:
    script = ("import { mcpTokenHash } from './worker/src/mcp_token.js';"
              "const tokens = JSON.parse(process.argv[1]); console.log(JSON.stringify(tokens.map(mcpTokenHash)));")
    result = subprocess.run(["node", "--input-type=module", "-e", script, json.dumps(tokens)], cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=60, check=True)
    return json.loads(result.stdout)


def test_the_worker_computes_the_reference_vectors():
    assert worker_hashes(list(VECTORS)) == list(VECTORS.values())


@pytest.mark.parametrize("token, expected", VECTORS.items())
def test_the_smoke_tests_reading_of_the_algorithm_computes_them_too(token, expected):
    assert client_token_hash(token) == expected


def test_wrapping_and_the_most_negative_hash_follow_the_client():
    # Tokens past 32 bits, astral characters (two UTF-16 units) and a hash of -2**31, whose
    # absolute value needs 33 bits as a signed number and prints as 80000000.
    tokens = ["f" * 40, "\U0001F600token", "polygenelubricants", "GydZG_", "DESIGNING WORKHOUSES"]
    assert worker_hashes(tokens) == [client_token_hash(token) for token in tokens]
    assert client_token_hash("polygenelubricants") == "80000000"
