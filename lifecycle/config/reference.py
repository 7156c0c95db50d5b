"""The documents written from the settings table (lifecycle.settings.TABLE), so that a
setting, its default and its help are written once: docs/configuration.md, and the table
of environment variables in README.md's "Configuration". A test fails when either is
stale; `python -m scr.lifecycle.config.reference` writes them again."""

from __future__ import annotations

import json
import re
from datetime import time
from pathlib import Path
from typing import Any

from scr.lifecycle.config.kinds import Table
from scr.lifecycle.config.table import Setting

ROOT = Path(__file__).resolve().parents[2]
BEGIN = "<!-- The environment: written from lifecycle/settings.py by " \
        "`python -m scr.lifecycle.config.reference`. -->"
END = "<!-- The end of the environment. -->"
_INTRO = """\
# Configuration

<!-- Written from lifecycle/settings.py by `python -m scr.lifecycle.config.reference`; a test
fails when it is stale. Change the table there, not this file. -->

Every setting of `scr`, as declared once in `lifecycle/settings.py`. A command-line
option overrides its environment variable, which overrides the TOML file (`--config FILE`
or `SCR_CONFIG`), which overrides the default. The whole file is checked when a command
starts: an unknown section or key is an error, and so is a value outside what its setting
may be; the one error line names the key. Secrets (marked so) are read only from the
environment or kept out of every message. README.md's "Configuration" shows an example.
"""


def markdown(table: tuple[Setting, ...] | None = None) -> str:
    """docs/configuration.md."""
    table = _table(table)
    lines = [_INTRO, "## The environment", "", *environment(table), "", "## The file", ""]
    sections: dict[str, list[Setting]] = {}
    for setting in table:
        if setting.key:
            section = setting.key.rpartition(".")[0] or setting.key
            sections.setdefault(section, []).append(setting)
    for section, settings in sections.items():
        lines += [f"### `[{section}]`", "", "| key | default | value | meaning |",
                  "|---|---|---|---|"]
        for s in settings:
            key = "*each timer's key*" if s.key == section else \
                f"`{s.key.removeprefix(section + '.') if s.key else ''}`"
            value = f"only in the environment: `{s.env}`" if not s.file else s.kind.about
            meaning = s.help + (f" (or `{s.env}`)" if s.env and s.file else "") \
                + (" (a secret)" if s.secret else "")
            lines.append(f"| {key} | {_default(s)} | {value} | {meaning} |")
        lines.append("")
    return "\n".join(lines)


def environment(table: tuple[Setting, ...] | None = None) -> list[str]:
    """The environment variables as a table, with the option that does the same."""
    options = _options()
    lines = ["| variable | option | meaning |", "|---|---|---|"]
    for s in _table(table):
        if s.env:
            section, _, key = (s.key or "").rpartition(".")
            also = f" (or `[{section}] {key}` in the file)" if s.file else ""
            lines.append(f"| `{s.env}` | {options.get(s.env, '')} | {s.help}{also} |")
    return lines


def readme(text: str, table: tuple[Setting, ...] | None = None) -> str:
    """README.md with its table of the environment written again."""
    before, rest = text.split(BEGIN, 1)
    return "\n".join([before + BEGIN, *environment(table), END + rest.split(END, 1)[1]])


def _options() -> dict[str, str]:
    """The global option that does what each variable does ("--as NAME" for SCR_ACTOR), as
    the command line's own help says it ("(or SCR_ACTOR)")."""
    from scr.lifecycle.cli.main import build_parser

    return {m.group(1): f"`{a.option_strings[0]} {a.metavar}`"
            for a in build_parser()._actions
            if (m := re.search(r"\(or (SCR_\w+)\)", a.help or ""))}


def _default(setting: Setting) -> str:
    value: Any = setting.default
    if value is None or value == {} or isinstance(setting.kind, Table):
        return "unset"
    if isinstance(value, time):
        value = value.isoformat("minutes")
    if isinstance(value, float | int) and not isinstance(value, bool):
        return f"`{value:g}`"
    return f"`{json.dumps(list(value) if isinstance(value, tuple) else value)}`"


def _table(table: tuple[Setting, ...] | None) -> tuple[Setting, ...]:
    if table is None:
        from scr.lifecycle.settings import TABLE

        return TABLE
    return table


def main() -> None:
    (ROOT / "docs" / "configuration.md").write_text(markdown(), encoding="utf-8")
    readme_path = ROOT / "README.md"
    readme_path.write_text(readme(readme_path.read_text(encoding="utf-8")), encoding="utf-8")


if __name__ == "__main__":
    main()
