"""The policy pack's entry: `pulumi preview --policy-pack infra/stack/policy` runs this file.

Pulumi runs it from this folder, first on sys.path; the rules are imported from the repository
root as `infra.stack.policy.rules`, so `rules` is never also a top-level module.
"""

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [str(_HERE.parents[2])] + [entry for entry in sys.path if Path(entry or ".").resolve() != _HERE]

from pulumi_policy import PolicyPack  # noqa: E402

from infra.stack.policy.rules import ENFORCEMENT, POLICIES  # noqa: E402

PolicyPack(name="hyphae", enforcement_level=ENFORCEMENT, policies=POLICIES)
