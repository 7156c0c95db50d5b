"""`scr tick`: one wake of the daemon from the command line (fire what is due, deliver the
outbox once, say what happened), and the daemon's usage errors."""

from __future__ import annotations

from tests.cli.scr import Scr

REFERRAL = ["--pseudonym", "Child K", "--incident-date", "2026-11-02", "--harm", "death",
            "--abuse", "suspected", "--route", "child_death_review"]


def _board(tmp_path) -> Scr:
    scr = Scr.in_dir(tmp_path)
    scr.ok("init")
    scr.ok("users", "add", "Bea Manager", "--email", "bm@board.test", "--role",
           "business_manager")
    scr.ok("--as", "Bea Manager", "users", "add", "Ivy Chair", "--email", "chair@board.test",
           "--role", "chair")
    scr.ok("--as", "Bea Manager", "--now", "2026-11-23T10:00", "refer", *REFERRAL)
    return scr


def test_tick_fires_what_is_due_and_delivers_once(tmp_path):
    """A tick four days after a referral fires the triage reminder, delivers the three
    messages queued so far into the maildir, and a second tick has nothing to do."""
    scr = _board(tmp_path)
    first = scr.ok("--now", "2026-11-27T10:00", "tick", "--json").json()
    assert [(f["case_ref"], f["timer"], f["outcome"]) for f in first["fired"]] == [
        ("CR-2026-0001", "triage.reminder", "fired")]
    assert first["fired"][0]["due_at"] == "2026-11-26T10:00:00+00:00"
    assert first["fired"][0]["late_s"] == 86400
    assert first["delivered"] == {"sent": 3, "retried": 0, "failed": 0}
    assert len(list((tmp_path / "mail" / "new").iterdir())) == 3
    again = scr.ok("--now", "2026-11-27T10:00", "tick", "--json").json()
    assert again["fired"] == [] and again["delivered"]["sent"] == 0
    history = scr.ok("history", "CR-2026-0001", "--json").json()
    assert [h["trigger"] for h in history] == ["refer", "timer"]
    assert history[1]["actor"] == "system"


def test_tick_says_in_words_what_it_did(tmp_path):
    """Without --json the tick lists each timer with how late it was, then the totals."""
    scr = _board(tmp_path)
    out = scr.ok("--now", "2026-12-10T10:00", "tick").out
    assert ("CR-2026-0001: Triage of the referral (reminder) skipped (a later level fired), "
            "14 days late") in out
    assert "CR-2026-0001: Triage of the referral (escalation) fired, 10 days late" in out
    assert "triage." not in out  # the timers in words, not their identifiers
    assert out.strip().endswith("1 timer fired; mail: 4 sent, 0 to retry, 0 failed")


def test_tick_and_daemon_need_an_initialised_database(tmp_path):
    """Before scr init, tick and daemon stop at once with one error line, exit 2."""
    scr = Scr.in_dir(tmp_path)
    for args in (["tick"], ["daemon"]):
        result = scr(*args, timeout=20)
        assert result.code == 2 and result.err.startswith("error: no database at ")
        assert result.err.count("\n") == 1


def test_daemon_refuses_a_nonsense_interval(tmp_path):
    """--interval must be a positive number of seconds: exit 2, one error line."""
    scr = Scr.in_dir(tmp_path)
    scr.ok("init")
    result = scr("daemon", "--interval", "0", timeout=20)
    assert result.code == 2 and result.err == "error: --interval must be a positive number " \
        "of seconds\n"
