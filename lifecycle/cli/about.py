"""`scr version` and `scr example NAME`: what this scr is, and the examples it ships."""

from __future__ import annotations

import argparse
import platform
from argparse import Namespace
from collections.abc import Callable

from scr.lifecycle import about
from scr.lifecycle.cli.app import App, Output
from scr.states.errors import InvalidInput
from scr.storage.db import SCHEMA_HEAD, make_engine, redact, schema_revision, sqlite_file


def version(app: App, args: Namespace) -> Output:
    """The version, the schema this code needs and the one the database is at (without
    creating a database that is not there), and the process definitions in use."""
    starting = app.processes.starting().definition
    definitions = [{"name": d.name, "version": d.version, "label": d.label,
                    "new_cases": d is starting} for d in app.processes.registry]
    revision = _database_revision(app)
    url = redact(app.settings.database_url)
    data = {"scr": about.version(), "distribution": about.DISTRIBUTION,
            "python": platform.python_version(),
            "schema": {"code": SCHEMA_HEAD, "database": revision},
            "database": url, "definitions": definitions}
    lines = [f"scr {about.version()} ({about.DISTRIBUTION}), Python {data['python']}",
             f"schema {SCHEMA_HEAD}; the database {url} is "
             + (f"at {revision}" if revision else "not initialised")]
    lines += [f"  {d['name']} version {d['version']}: {d['label']}"
              + (" (new cases start under it)" if d["new_cases"] else "")
              for d in definitions]
    return Output(data, "\n".join(lines))


def _database_revision(app: App) -> str | None:
    url = app.settings.database_url
    file = sqlite_file(url)
    if file is not None and not file.exists():
        return None
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return schema_revision(connection)
    except Exception:  # unreachable or damaged: the version is still worth printing
        return None
    finally:
        engine.dispose()


def example(app: App, args: Namespace) -> Output:
    if args.name not in about.EXAMPLES:
        raise InvalidInput(f"no example {args.name!r} (one of {', '.join(about.EXAMPLES)})")
    text = about.example(args.name)
    import json

    return Output(json.loads(text), text.rstrip("\n"))


def add_commands(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """`version` and `example`."""
    command("version", "this scr's version, schema and process definitions").set_defaults(
        func=version)
    ex = command("example", "print an example file (referral: a referral for scr refer "
                 "--file)")
    ex.add_argument("name", choices=about.EXAMPLES)
    ex.set_defaults(func=example)
