"""The files scr makes are its owner's alone, whatever the umask: the SQLite database and its
-wal and -shm files (`scr init`), the log file (SCR_LOG_FILE), a backup and a restored
database; and a backup that fails leaves no file behind. Each through the real `scr`, run
under the umask the test sets: a one-shot command through the command line's own entry point
in this process, its umask set for the length of the call; the shell in a process of its
own, started under it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.board import BM
from tests.cli.conftest import _copy_db
from tests.cli.scr import Result, Scr
from tests.cli.test_hardening_damaged import overwrite_table

UMASKS = [pytest.param(0o022, id="umask-022"), pytest.param(0o000, id="umask-000")]


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def scr_under(scr: Scr, umask: int, *args: str, **env: str) -> Result:
    """`scr ARGS` with the process's umask set to `umask` while it runs (the umask is the
    process's: every file the command makes is made under it)."""
    previous = os.umask(umask)
    try:
        return scr(*args, **env)
    finally:
        os.umask(previous)


@pytest.mark.parametrize("umask", UMASKS)
def test_init_makes_the_database_and_its_wal_and_shm_private(tmp_path, umask):
    """`scr init` inside a running shell: while the shell holds the database open, the file,
    its -wal and its -shm are all 0600."""
    folder = tmp_path / "board"
    folder.mkdir()
    scr = Scr.in_dir(folder, SCR_SHELL_HISTORY=str(tmp_path / "history"))
    shell = subprocess.Popen(
        [sys.executable, "-m", "scr.lifecycle.cli", "shell"], cwd=folder, env=scr.env,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: os.umask(umask))
    try:
        assert shell.stdin is not None and shell.stdout is not None
        shell.stdin.write("init\n")
        shell.stdin.flush()
        assert "schema revision" in shell.stdout.readline()
        made = {p.name: mode(p) for p in folder.glob("scr.db*")}
    finally:
        shell.communicate("quit\n", timeout=60)
    assert set(made) == {"scr.db", "scr.db-wal", "scr.db-shm"}, made
    assert made == dict.fromkeys(made, 0o600), {k: oct(v) for k, v in made.items()}


@pytest.mark.parametrize("umask", UMASKS)
def test_a_one_shot_init_leaves_a_private_database(tmp_path, umask):
    """`scr init` as a command on its own: the database it leaves is 0600."""
    folder = tmp_path / "board"
    folder.mkdir()
    result = scr_under(Scr.in_dir(folder), umask, "init")
    assert result.code == 0, result.err
    assert mode(folder / "scr.db") == 0o600


def test_init_in_a_missing_directory_is_bad_input_and_makes_nothing(tmp_path):
    """A database path in a directory that does not exist: exit 2, no directory made."""
    target = tmp_path / "nowhere" / "scr.db"
    result = Scr.in_dir(tmp_path, database_url=f"sqlite:///{target}")("init")
    assert result.code == 2 and result.err.startswith("error: "), result.err
    assert len(result.err.strip().splitlines()) == 1
    assert not target.parent.exists()


@pytest.mark.parametrize("umask", UMASKS)
def test_the_log_file_is_private(scr, tmp_path, umask):
    """SCR_LOG_FILE made by a command is 0600, and the command's event is in it."""
    log = tmp_path / "logs" / "scr.log"
    log.parent.mkdir()
    result = scr_under(scr, umask, "--as", BM, "list", SCR_LOG_FILE=str(log))
    assert result.code == 0, result.err
    assert mode(log) == 0o600


@pytest.mark.parametrize("umask", UMASKS)
def test_a_backup_is_private(scr, tmp_path, umask):
    """The backup file is 0600 from the moment it exists."""
    target = tmp_path / "copies" / "board.db"
    target.parent.mkdir()
    result = scr_under(scr, umask, "--as", BM, "backup", str(target))
    assert result.code == 0, result.err
    assert mode(target) == 0o600


@pytest.mark.parametrize("umask", UMASKS)
def test_a_restored_database_is_private(scr, tmp_path, umask):
    """The database a restore puts in place is 0600, like the one init makes."""
    target = tmp_path / "copies" / "board.db"
    target.parent.mkdir()
    scr.ok("--as", BM, "backup", str(target))
    result = scr_under(scr, umask, "--as", BM, "restore", str(target))
    assert result.code == 0, result.err
    assert mode(scr.cwd / "scr.db") == 0o600


def test_a_backup_of_a_damaged_database_fails_and_leaves_no_file(scr, tmp_path,
                                                                 case_template):
    """The cases table's pages overwritten: the copy fails SQLite's integrity check, so the
    backup is refused (exit 2, saying the file is damaged) and no file is left."""
    _copy_db(case_template, scr.cwd)
    overwrite_table(scr.cwd / "scr.db", "cases")
    target = tmp_path / "copies" / "board.db"
    target.parent.mkdir()
    result = scr("--as", BM, "backup", str(target))
    assert result.code == 2, (result.code, result.err)
    assert result.err.startswith("error: the database file is damaged")
    assert list(target.parent.iterdir()) == []
