"""What the board's open cases still ask of a person, as the command line words it (for
`scr users deactivate`, and the renames `scr users change` refuses: lifecycle/board_people.py
works it out), and who may rescue a board no business manager can act on
(`scr users rescue`)."""

from __future__ import annotations

import os
import pwd
from typing import Any

from scr.lifecycle import board_people
from scr.lifecycle.cli.app import App, login_name
from scr.states.errors import Refused
from scr.storage import users
from scr.storage.db import Tx, sqlite_file


def open_work(app: App, tx: Tx, user: users.UserRecord) -> dict[str, Any]:
    """What the board's open cases ask of `user` (lifecycle/board_people.py)."""
    return board_people.open_work(app.processes, tx, user)


def describe(work: dict[str, Any], name: str) -> str:
    """The open work as lines for people."""
    lines = board_people.describe(work, name)
    if not lines:
        return f"No open case names {name}."
    return f"Open cases still ask of {name} (reassign them):\n" + "\n".join(
        f"  {line}" for line in lines)


def administrator(database_url: str) -> str:
    """Who may rescue the board, as the audit trail names them: root, or the login that owns
    the SQLite database file, running scr as themselves (sudo from another login is
    refused: people reach the service account through sudo). On PostgreSQL, whose
    database is no file here, root only. Refused (exit 3) for anyone else."""
    me = login_name()
    if os.geteuid() == 0:
        return f"os:{me} (root)"
    file = sqlite_file(database_url)
    if file is None:
        raise Refused("scr users rescue is for the server's administrator: on PostgreSQL, "
                      "run it as root")
    owner = pwd.getpwuid(file.stat().st_uid).pw_name
    if me != owner:
        raise Refused(f"scr users rescue is for the server's administrator: the owner of "
                      f"{file.name} ({owner}) or root, not the login {me}")
    return f"os:{me} (the database's owner)"
