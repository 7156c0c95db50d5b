"""Setting the demo's stage and playing it: a new folder with its own database, maildir and
log, a fictional board added through the real `users add`, the story, and the summary.

The demo never opens the board's configured database (SCR_DATABASE_URL, [database] url) nor
its SMTP server (SCR_SMTP_URL), and never writes into a folder that already holds a
database or a maildir: a training run must not mix with a board's live data.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from argparse import Namespace
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from scr.lifecycle import log
from scr.lifecycle.cli.app import App, Output
from scr.lifecycle.demo import cast, story, summary
from scr.lifecycle.demo.run import Narrator, OffScript, Run
from scr.lifecycle.settings import Board, MailSettings, Settings
from scr.lifecycle.views import text as present
from scr.states.config import ProcessConfig
from scr.states.errors import InvalidInput, LifecycleError

END = "2026-10-28 10:30"
PAUSE_S = 0.8  # between chapters, at a terminal only, for a person to read; not the clock
DATABASE_SUFFIXES = (".db", ".sqlite", ".sqlite3", ".db-wal")


class Interrupted(LifecycleError):
    """Ctrl-C during the run: the folder holds an unfinished demo (exit 130, as a shell's)."""

    exit_code = 130


def play(app: App, args: Namespace) -> Output:
    """Run the demo into a new folder; the Output is the summary (text or --json)."""
    started = time.monotonic()
    quiet = bool(getattr(args, "json", False))
    folder = prepare(args.dir)
    settings = demo_settings(folder)
    pace = not quiet and not args.fast and sys.stdout.isatty()
    say = Narrator(None if quiet else sys.stdout,
                   pause=(lambda: time.sleep(PAUSE_S)) if pace else (lambda: None))
    demo_app = App(replace(settings, now=_local(settings, story.START)))
    try:
        with _log_into(folder / "scr.log"):
            _introduce(say, folder, settings)
            run = _stage(demo_app, say)
            refs = story.tell(run)
            run.at(END)
            doc = _document(run, folder, refs, started)
    except KeyboardInterrupt:
        raise Interrupted(f"interrupted; the unfinished demo is in {folder} (delete it)") \
            from None
    except OffScript as exc:
        raise OffScript(f"{exc} (the unfinished demo is in {folder})") from None
    except LifecycleError:
        raise
    except Exception as exc:  # the folder is half written: say so, never a traceback
        raise OffScript(f"the demo stopped ({exc.__class__.__name__}); the unfinished run is "
                        f"in {folder}") from None
    finally:
        demo_app.close()
    return Output(doc, "" if quiet else summary.text(doc, run))


def prepare(given: str | None) -> Path:
    """The demo's folder, new or empty of databases and mail; made private to this user.

    Default: ./scr-demo-YYYYmmdd-HHMMSS in the working directory, so that the mail and the
    picture are easy to find and a second run never collides with the first.
    """
    folder = Path(given) if given else Path(f"scr-demo-{datetime.now():%Y%m%d-%H%M%S}")
    if folder.exists() and not folder.is_dir():
        raise InvalidInput(f"{folder} exists and is not a folder: give a new --dir")
    if folder.is_dir():
        names = sorted(p.name for p in folder.iterdir())
        held = [n for n in names if n.endswith(DATABASE_SUFFIXES)] + \
            [n for n in names if n == "mail"]
        if held:
            raise InvalidInput(f"{folder} already holds {held[0]}: scr demo writes only into "
                               "a new folder or one without a database or maildir; give a new "
                               "--dir")
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInput(f"cannot create {folder}: {exc.strerror or exc}") from None
    return folder


def demo_settings(folder: Path) -> Settings:
    """The demo's own settings: its database and maildir in `folder`, no SMTP, the shipped
    distances (the story's dates rely on their numbers), a fictional board.

    The board starts new cases as the January 2025 referrals began: Serious Case Reviews
    under `scr` version 1 (story.FIRST_PROCESS), pinned here rather than named on each
    referral because that is how a board's configuration works (`[process] default` and
    `version`) and because naming a process on a referral takes its newest version, which
    is not the one these cases began under. The story later switches the board to `cspr`
    version 1 for new cases (story.NEW_PROCESS, through Run.switch); cases already open keep
    the definition they started with."""
    root = folder.resolve()
    return Settings(
        database_url=f"sqlite:///{root / 'scr.db'}",
        process=ProcessConfig(start=story.FIRST_PROCESS),
        board=Board(name=cast.BOARD_NAME, mail_from=cast.MAIL_FROM, ref_prefix="CR"),
        mail=MailSettings(mail_dir=root / "mail", smtp_url=None),
        training=True,  # a throwaway board with its own clock: --as names who acts
    )


def _stage(demo_app: App, say: Narrator) -> Run:
    """Create the database and add the board's people through the real `users add`."""
    from scr.lifecycle.cli.users import users_add
    from scr.storage import migrate

    migrate.upgrade(demo_app.db(creating=True))
    say.line()
    say.line("The board (fictional people; every address is at example.org):")
    for number, person in enumerate(cast.PEOPLE):
        # The first user is added without --as, as on a new board; then the manager adds.
        adder = replace(demo_app.settings, actor=cast.BM if number else None)
        users_add(App(adder), Namespace(name=person.name, email=person.email,
                                        role=list(person.roles), agency=person.agency,
                                        login=None))
        say.line(f"{person.name:<13} {person.title}", 2)
    settings = demo_app.settings
    assert settings.now is not None
    return Run(db=demo_app.db(), engine=demo_app.engine, settings=settings, now=settings.now,
               say=say)


def _introduce(say: Narrator, folder: Path, settings: Settings) -> None:
    ignored = [v for v in ("SCR_DATABASE_URL", "SCR_SMTP_URL", "SCR_MAIL_DIR") if
               os.environ.get(v)]
    say.line("scr demo: a training run on a throwaway board, with a simulated clock.")
    say.line(f"folder   {folder} (its own database scr.db, maildir mail/ and log scr.log)", 2)
    start = present.when(_local(settings, story.START), settings.process.working_days)
    say.line(f"clock    simulated, from {start}; between steps it jumps ahead and the "
             "daemon fires every timer at its due moment on the way. Nothing sleeps.", 2)
    say.line("safety   the board's configured database is not opened and nothing is sent "
             "over SMTP" + (f" ({', '.join(ignored)} ignored)" if ignored else "") + ".", 2)
    say.line("privacy  the referrals' free text names each child and stays in the database; "
             "you see case references and pseudonyms only, as the e-mail does.", 2)


def _document(run: Run, folder: Path, refs: dict[str, str], started: float) -> dict[str, Any]:
    """Check the ending against the script, write the files, and describe the run."""
    cases = summary.cases(run.db, refs)
    for case in cases:
        if case["state"] != story.FINAL_STATES[case["pseudonym"]]:
            raise OffScript(f"{case['ref']} ended in {case['state']}, not "
                            f"{story.FINAL_STATES[case['pseudonym']]}")
        process = (case["process"], case["process_version"])
        if process != story.PROCESSES[case["pseudonym"]]:
            raise OffScript(f"{case['ref']} ran under {' version '.join(process)}, not "
                            f"{' version '.join(story.PROCESSES[case['pseudonym']])}")
    fired = [f for f in run.firings if f["outcome"] in ("fired", "blocked")]
    kinds = sorted({f"{f['ladder']}.{f['level']}" for f in fired})
    missing = [k for k in story.LADDERS if k not in kinds]
    if missing:
        raise OffScript(f"timers the story shows never fired: {', '.join(missing)}")
    scr_ref = refs["Child Robin"]
    files = {
        "database": str(folder / "scr.db"), "maildir": str(folder / "mail"),
        "timeline_svg": summary.write_timeline(run, scr_ref,
                                               folder / f"{scr_ref}-timeline.svg"),
        "log": str(folder / "scr.log"),
        "readme": summary.write_readme(folder, (folder / "scr.db").resolve(), scr_ref,
                                       END.replace(" ", "T")),
    }
    return {
        "dir": str(folder),
        "clock": {"start": _local(run.settings, story.START).isoformat(),
                  "end": run.now.isoformat(),
                  "timezone": run.settings.process.working_days.timezone},
        "board": {"name": cast.BOARD_NAME,
                  "people": [{"name": p.name, "email": p.email, "roles": list(p.roles),
                              "agency": p.agency, "post": p.title} for p in cast.PEOPLE]},
        "cases": cases,
        "history_rows": sum(c["history_rows"] for c in cases),
        "steps": {"people": run.steps, "refused": len(run.refusals),
                  "daemon_wakes": run.wakes},
        "refusals": run.refusals,
        "timers_fired": fired,
        "ladders_fired": kinds,
        "ladders_claimed": list(story.LADDERS),
        "messages": summary.mail(run.db, folder / "mail"),
        "files": files,
        "elapsed_s": round(time.monotonic() - started, 2),
    }


def _local(settings: Settings, text: str) -> datetime:
    from scr.lifecycle.settings import parse_moment

    return parse_moment(text.replace(" ", "T"), settings.process.working_days)


@contextmanager
def _log_into(path: Path) -> Iterator[None]:
    """The run's log goes to its own file (one JSON event per line), never the board's."""
    with path.open("a", encoding="utf-8") as stream:
        log.configure(json=True, level=logging.INFO, stream=stream)
        try:
            yield
        finally:
            logging.getLogger().handlers[:] = []
