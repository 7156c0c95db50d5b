"""The real `scr shell` in a subprocess with commands piped on stdin: they run in order,
errors print one line and the shell carries on, quit exits 0, the output is plain text, and
the global options apply to every command."""

from __future__ import annotations

import pytest

from tests.board import BM, CHAIR
from tests.cli.scr import Scr
from tests.conftest import T0

NOW = "2026-11-24T10:00"


@pytest.fixture
def scr(tmp_path, sqlite_url) -> Scr:
    return Scr.in_dir(tmp_path, database_url=sqlite_url,
                      SCR_SHELL_HISTORY=str(tmp_path / "history"))


def test_piped_commands_run_in_order_and_errors_carry_on(board, scr, tmp_path):
    """Two errors among good commands: each is one line on stderr, the rest still run."""
    ref = board.refer(at=T0)
    script = "\n".join([
        f"show {ref}",
        f"advance {ref} launch_rocket",
        "# a comment line does nothing",
        f"advance {ref} withdraw",
        f"advance {ref} request_information agencies=health,police",
        f"why {ref} add_agency agency=health",
        "quit",
        f"show {ref}",
    ]) + "\n"
    result = scr("--as", BM, "--now", NOW, "shell", stdin=script)
    assert result.code == 0, result.err
    assert result.err.splitlines() == [
        "error: unknown trigger 'launch_rocket' (scr triggers REF lists them)",
        f"error: withdraw refused for {ref}: a reason must be given (--reason)",
    ]
    out = result.out
    assert out.startswith(f"{ref}  Child K\n")
    assert f"{ref}: request_information done; referral → information_request" in out
    assert "add_agency (Another agency asked for information)\n  verdict    refused" in out
    assert "health has already been asked" in out
    assert out.count(f"{ref}  Child K\n") == 1  # nothing ran after quit
    assert "\x1b" not in out + result.err
    assert (tmp_path / "history").stat().st_size > 0
    assert (tmp_path / "history").stat().st_mode & 0o777 == 0o600  # no one else reads it


def test_global_options_apply_inside_and_as_switches(board, scr):
    """--as and --now given to `scr shell` hold for each command until `as` changes them."""
    ref = board.refer(at=T0)
    script = (f"triggers {ref}\nas {CHAIR}\nadvance {ref} withdraw --reason dup\n"
              f"as {BM}\nadvance {ref} withdraw --reason dup\n")
    result = scr("--as", BM, "--now", NOW, "shell", stdin=script)
    assert result.code == 0
    assert f"{ref} is in referral (Referral); as {BM}" in result.out
    assert result.err == (f"error: {CHAIR} may not fire withdraw: it needs "
                          "business_manager\n")
    assert f"{ref}: withdraw done; referral → closed" in result.out
    assert board.state(ref) == "closed"
    history = scr.ok("history", ref, "--json").json()
    assert history[-1]["at"] == "2026-11-24T10:00:00+00:00" and history[-1]["actor"] == BM


def test_end_of_input_leaves_with_status_0_and_json_is_refused(scr, board):
    """Without quit the shell ends at end of input; `scr --json shell` is bad usage."""
    result = scr("shell", stdin="diagram --json\n")
    assert result.code == 0 and result.err == ""
    assert result.out.lstrip().startswith("{")
    refused = scr("--json", "shell", stdin="quit\n")
    assert refused.code == 2
    assert refused.err.startswith("error: --json applies to each command inside the shell")


def test_clear_piped_writes_nothing(scr):
    """`clear` in a piped session succeeds and writes nothing: no escape in a log file."""
    result = scr("shell", stdin="clear\nquit\n")
    assert (result.code, result.out, result.err) == (0, "", "")
