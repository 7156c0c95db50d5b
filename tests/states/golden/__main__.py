"""Write the golden canonical form of every registered definition that has none yet:

    .venv/bin/python -m tests.states.golden            # new versions only
    .venv/bin/python -m tests.states.golden --replace cspr-1   # a shipped one, on purpose

A shipped version's file is replaced only when named: changing a version that running cases
are under is a decision, said in its commit; the usual answer is a new version."""

from __future__ import annotations

import sys
from pathlib import Path

from scr.states.fingerprint import text
from scr.states.registry import REGISTRY

FOLDER = Path(__file__).resolve().parent


def path_of(name: str, version: str) -> Path:
    return FOLDER / f"{name}-{version}.json"


def main(argv: list[str]) -> int:
    replace = set(argv[1:]) if argv[:1] == ["--replace"] else set()
    for definition in REGISTRY:
        path = path_of(*definition.key)
        if path.exists() and path.stem not in replace:
            continue
        path.write_text(text(definition), encoding="utf-8")
        print(f"wrote {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
