"""The operating commands: `scr tick` (one wake of the daemon, then exit) and `scr daemon`."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from argparse import Namespace
from collections.abc import Callable
from typing import Any

from scr.lifecycle import log
from scr.lifecycle.cli.app import App, Output
from scr.states.errors import InvalidInput


def tick(app: App, args: Namespace) -> Output:
    """Fire everything due now, deliver the outbox once, and say what happened."""
    # Imported here: every `scr` command loads this module, and only tick needs these.
    from scr.lifecycle.runtime.delivery import deliver_outbox
    from scr.lifecycle.runtime.sweep import sweep

    now = app.now()
    db = app.db()
    report = sweep(db, app.engine, now)
    delivered = deliver_outbox(db, app.settings, now, processes=app.processes)
    data = report.as_dict()
    data["delivered"] = {"sent": delivered.sent, "retried": delivered.retried,
                         "failed": delivered.failed}
    return Output(data, _tick_text(report, data["delivered"], _namer(app)))


def _namer(app: App) -> Callable[[str, str, str | None], tuple[str, str | None]]:
    """Names a firing for people: the timer ("Triage of the referral (escalation)") and
    the step it took, by the definition of the case it belongs to."""
    from scr.states.words import timer_label, trigger_label
    from scr.storage import cases
    from scr.storage.db import reading

    definitions: dict[str, Any] = {}

    def name(ref: str, timer: str, trigger: str | None) -> tuple[str, str | None]:
        if ref not in definitions:
            with reading(app.db()) as tx:
                definitions[ref] = app.processes.of(cases.load(tx, ref)).definition
        definition = definitions[ref]
        ladder, *key, level = timer.split(".")
        step = trigger_label(definition, trigger) if trigger not in (None, "timer") else None
        return timer_label(definition, ladder, level, key[0] if key else None), step

    return name


def _tick_text(report: Any, delivered: dict[str, int],
               name: Callable[[str, str, str | None], tuple[str, str | None]]) -> str:
    lines = []
    for f in report.firings:
        late = f", {_late(f.late_s)} late" if f.late_s >= 60 else ""
        timer, step = name(f.case_ref, f.timer, f.trigger)
        outcome = {"fired": "fired", "skipped": "skipped (a later level fired)",
                   "stale": "not fired (the case had moved on)",
                   "blocked": "could not take its step"}.get(f.outcome, f.outcome)
        lines.append(f"{f.case_ref}: {timer} {outcome}" + (f": {step}" if step else "")
                     + late)
        lines.extend(f"    because {r}" for r in f.reasons)
    for e in report.errors:
        lines.append(f"{e['case_ref'] or '?'}: timer {e['timer_id']} not fired ({e['event']}: "
                     f"{e['error']}); it stays pending")
    fired = len(report.of("fired", "blocked"))
    lines.append(f"{fired} timer{'' if fired == 1 else 's'} fired; mail: {delivered['sent']} "
                 f"sent, {delivered['retried']} to retry, {delivered['failed']} failed")
    return "\n".join(lines)


def _late(seconds: float) -> str:
    """How late, in words and to the largest unit: "1 minute", "3 hours", "2 days"."""
    from scr.states.words import plural

    for unit, length in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= length or unit == "minute":
            return plural(round(seconds / length), unit)
    raise AssertionError("unreachable")


def daemon(app: App, args: Namespace) -> Output:
    """Run until SIGTERM or SIGINT; on SQLite, refuse if another daemon holds the database,
    or if SQLite's quick check of every page finds it damaged: a page no command reads
    would otherwise go unseen until a timer of its case fell due."""
    from scr.lifecycle.runtime.daemon import Clock, Daemon, single_daemon
    from scr.storage.db import check_intact

    interval = args.interval if args.interval is not None else app.settings.daemon_interval
    if interval <= 0:
        raise InvalidInput("--interval must be a positive number of seconds")
    db = app.db()  # the database must be there and current before anything else
    check_intact(db)
    with single_daemon(app.settings.database_url):
        _configure_logging(args.log_format)
        runner = Daemon(db, app.engine, app.settings, clock=Clock(app.settings.now),
                        interval=interval)
        totals = runner.run()
        app.close()  # the connections first: the lock's release closes the database file
    return Output(totals.as_dict(), f"scr daemon stopped after {totals.wakes} wakes: "
                  f"{totals.fired} timers fired, {totals.delivered.sent} messages sent")


def web(app: App, args: Namespace) -> Output:
    """Serve the portal with uvicorn; its own access log is off (the portal logs each request
    by route, never the path, which may hold a sign-in token)."""
    import uvicorn

    from scr.lifecycle.web.app import create_app

    if not 0 < args.port < 65536:
        raise InvalidInput("--port must be between 1 and 65535")
    portal = create_app(app.settings)
    _configure_logging(args.log_format)
    log.get().info("web.started", host=args.host, port=args.port,
                   base_url=app.settings.web.base_url)
    uvicorn.run(portal, host=args.host, port=args.port, access_log=False, log_level="warning",
                server_header=False, proxy_headers=True, forwarded_allow_ips="127.0.0.1")
    return Output({"stopped": True}, "scr web stopped")


def _configure_logging(fmt: str) -> None:
    """One JSON event per line in production (and whenever stderr is not a terminal);
    readable lines at a terminal. SCR_LOG_FILE sends the events to a file instead."""
    path = os.environ.get("SCR_LOG_FILE")
    stream: Any = log.open_file(path) if path else sys.stderr
    as_json = None if fmt == "auto" else fmt == "json"
    log.configure(json=as_json, level=logging.INFO, stream=stream)


def add_commands(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """`tick` and `daemon`."""
    command("tick", "fire every timer due now and deliver the outbox once, then exit"
            ).set_defaults(func=tick)
    d = command("daemon", "fire timers and deliver e-mail until SIGTERM or SIGINT (with "
                "--now, for training, that moment advances with real time from start-up)")
    d.add_argument("--interval", type=float, metavar="SECONDS",
                   help="wake at least this often (default: [daemon] interval_seconds, 15)")
    d.add_argument("--log-format", dest="log_format", choices=("auto", "json", "console"),
                   default="auto", help="log events as JSON lines or readable lines (default: "
                   "JSON unless stderr is a terminal)")
    d.set_defaults(func=daemon)
    w = command("web", "serve the portal: every participant signs in from an e-mail link and "
                "acts from their own inbox (until SIGTERM or SIGINT)")
    w.add_argument("--host", default="127.0.0.1",
                   help="the address to listen on (default 127.0.0.1; put a TLS proxy in front)")
    w.add_argument("--port", type=int, default=8080, help="the port (default 8080)")
    w.add_argument("--log-format", dest="log_format", choices=("auto", "json", "console"),
                   default="auto", help="as for scr daemon")
    w.set_defaults(func=web)
