"""Print, as JSON, the changed lines of the mutants named on stdin (one per line).

Run by `invoke mutate` inside a module's working folder, where mutmut's own reader finds the
mutated files; kept apart because mutmut reads its configuration from the current folder.
"""

from __future__ import annotations

import json
import sys


def main() -> None:
    from mutmut.mutation.diff_apply import find_mutant, get_diff_for_mutant

    from infra.mutation.mutmut_run import changed_lines

    changes = {}
    for name in filter(None, (line.strip() for line in sys.stdin)):
        changes[name] = changed_lines(get_diff_for_mutant(name, path=find_mutant(name).path))
    json.dump(changes, sys.stdout)


if __name__ == "__main__":
    main()
