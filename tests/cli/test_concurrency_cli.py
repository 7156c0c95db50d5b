"""Many `scr` processes firing the same trigger on one case at once, on SQLite and on
PostgreSQL: exactly one lands; the rest exit 3 or 4 with one clear line; history holds it
once."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.board import BM
from tests.cli.scr import Scr

PROCESSES = 8


def setup_board(scr: Scr, tmp_path) -> str:
    """Users seeded through the engine (the test is about advancing, not adding users);
    the referral through the real command."""
    from scr.storage.db import make_engine
    from scr.storage.migrate import upgrade
    from tests.board import Board

    engine = make_engine(scr.env["SCR_DATABASE_URL"])
    try:
        upgrade(engine)
        Board(engine).seed_users()
    finally:
        engine.dispose()
    (tmp_path / "r.json").write_text(json.dumps({
        "pseudonym": "Child K", "incident_date": "2026-11-02", "harm": "death",
        "abuse": "suspected", "route": "child_death_review"}))
    return scr.ok("--as", BM, "--now", "2026-11-23T10:00", "refer", "--file",
                  str(tmp_path / "r.json"), "--json").json()["ref"]


@pytest.fixture(params=["sqlite", "postgresql"])
def scr_on(request, tmp_path) -> Scr:
    if request.param == "sqlite":
        return Scr.in_dir(tmp_path)
    return Scr.in_dir(tmp_path, database_url=request.getfixturevalue("pg_url"))


def test_one_of_many_concurrent_firings_lands(scr_on, tmp_path):
    """Eight processes request information at the same moment: one lands, the others are
    refused (the case has moved on) or in conflict, and history records it once."""
    ref = setup_board(scr_on, tmp_path)
    argv = [sys.executable, "-m", "scr.lifecycle.cli", "--as", BM, "--now", "2026-11-23T11:00",
            "advance", ref, "request_information", "agencies=health,police"]
    procs = [subprocess.Popen(argv, cwd=scr_on.cwd, env=scr_on.env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(PROCESSES)]
    results = [(p.wait(timeout=120), p.stdout.read(), p.stderr.read()) for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    codes = sorted(code for code, _, _ in results)
    assert codes.count(0) == 1, results
    assert set(codes) <= {0, 3, 4}, results
    for code, _, err in results:
        if code:
            lines = err.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("error: "), err
            assert "does not apply" in err or "changed" in err, err
    history = scr_on.ok("history", ref, "--json").json()
    assert [h["trigger"] for h in history] == ["refer", "request_information"]
    case = scr_on.ok("show", ref, "--json").json()
    assert case["version"] == 2 and case["state"] == "information_request"
