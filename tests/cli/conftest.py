"""A board set up through the real `scr` command: database, users, and a referral file.

Setting a board up takes ten `scr` processes, so it is done once per session into a
template folder, and each test gets a copy of that database file.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.board import USERS
from tests.cli.scr import Scr


def _copy_db(source: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        file = source / f"scr.db{suffix}"
        if file.exists():
            shutil.copy2(file, target / file.name)


@pytest.fixture(scope="session")
def board_template(tmp_path_factory) -> Path:
    """An initialised database with one user of every role, made by the real command."""
    folder = tmp_path_factory.mktemp("board-template")
    run = Scr.in_dir(folder)
    run.ok("init")
    for number, (name, email, roles, agency) in enumerate(USERS):
        # The first user (the business manager) needs no --as; everyone after does.
        args = ([] if number == 0 else ["--as", USERS[0][0]]) + ["users", "add", name,
                                                                  "--email", email]
        for role in roles:
            args += ["--role", role]
        if agency:
            args += ["--agency", agency]
        run.ok(*args)
    return folder


@pytest.fixture
def scr(tmp_path, board_template) -> Scr:
    """`scr` on this test's own copy of the board's database."""
    _copy_db(board_template, tmp_path)
    return Scr.in_dir(tmp_path)


@pytest.fixture
def referral_file(tmp_path):
    def write(**fields) -> str:
        data = {
            "pseudonym": "Child K", "incident_date": "2026-11-02", "harm": "death",
            "abuse": "suspected", "agency_concern": False, "grounds": [],
            "route": "child_death_review", "criminal_proceedings": False,
            "summary": "What the referrer wrote.",
        }
        data.update(fields)
        path = tmp_path / f"referral-{len(list(tmp_path.glob('referral-*')))}.json"
        path.write_text(json.dumps(data))
        return str(path)

    return write


CASE_REF = "CR-2026-0001"


# A moment for commands on a copy of the case template: the day after the agencies were
# asked, their returns due ten working days later. Its cases are built at fixed moments, so
# commands on them run at fixed moments too, never at the real one.
AFTER_TEMPLATE = "2026-11-24T10:00"


@pytest.fixture(scope="session")
def case_template(board_template, tmp_path_factory) -> Path:
    """The board with one case, CASE_REF, in information_request (health and police asked),
    made by the real command. Copy it before writing."""
    from tests.board import BM

    folder = tmp_path_factory.mktemp("case-template")
    _copy_db(board_template, folder)
    run = Scr.in_dir(folder)
    (folder / "r.json").write_text(json.dumps({
        "pseudonym": "Child K", "incident_date": "2026-11-02", "harm": "death",
        "abuse": "suspected", "route": "child_death_review"}))
    run.ok("--as", BM, "--now", "2026-11-23T10:00", "refer", "--file", str(folder / "r.json"))
    run.ok("--as", BM, "--now", "2026-11-23T11:00", "advance", CASE_REF,
           "request_information", "agencies=health,police")
    return folder
