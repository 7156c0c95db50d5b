"""`make bench`: measure the performance targets (BENCHMARKS.md) and write bench/results.json.

Every target that the machine's speed moves is a ratio: a figure over a floor measured in
the same run, the two sides alternated round by round, so that the machine's speed (these
machines differ threefold from one day to the next) and its noisy moments weigh on both.
Three bounds are not ratios (BENCHMARKS.md says why). Nothing here is asserted: the table
says which targets are met.
"""

from __future__ import annotations

import json
import logging
import platform
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from scr.lifecycle import log

RESULTS = Path(__file__).with_name("results.json")


@dataclass(frozen=True)
class Target:
    """A figure (`value`) over its floor (`floor`), both measured in the same run, must be
    at least (`kind` "min") or at most ("max") `bound`; `aim` is where we would like it."""

    value: str
    floor: str | None
    unit: str
    bound: float
    kind: str
    meaning: str
    aim: float | None = None

    def met(self, ratio: float) -> bool:
        return ratio >= self.bound if self.kind == "min" else ratio <= self.bound


# key in results.json: the target. Ratios against a floor first, then the three bounds that
# are not ratios (BENCHMARKS.md says why).
TARGETS: dict[str, Target] = {
    "trigger_vs_raw_sqlite": Target(
        "trigger_per_s_sqlite", "raw_sqlite_per_s", "/s", 0.35, "min",
        "triggers through fire() over raw sqlite3 writing the same rows", aim=0.5),
    "sweep_1m_vs_10k": Target(
        "sweep_1m_s", "sweep_10k_s", "s", 2.0, "max",
        "a sweep of 1,000 due among 1M pending over the same among 10k"),
    "daemon_rss_100k_vs_1k": Target(
        "daemon_rss_100k_mb", "daemon_rss_1k_mb", "MB", 1.3, "max",
        "daemon memory with 100,000 open cases over 1,000"),
    "show_cold_vs_import": Target(
        "show_cold_s", "import_sqlalchemy_s", "s", 1.25, "max",
        "scr show from a cold start over python -c 'import sqlalchemy'"),
    "smtp_vs_smtplib": Target(
        "smtp_messages_per_s", "smtplib_messages_per_s", "/s", 0.25, "min",
        "our delivery to aiosmtpd over smtplib sending the same bytes", aim=0.33),
    "portal_case_p95_vs_static": Target(
        "portal_case_p95_ms", "portal_static_p95_ms", "ms", 5.0, "max",
        "case page p95 over a static file's, 20 sessions, 100k cases"),
    "portal_inbox_p95_vs_static": Target(
        "portal_inbox_p95_ms", "portal_static_p95_ms", "ms", 10.0, "max",
        "inbox p95 over a static file's, 20 sessions, 100k cases"),
    "portal_case_vs_static": Target(
        "portal_case_per_s", "portal_static_per_s", "/s", 0.2, "min",
        "case pages/s over static files/s, 20 sessions asking flat out"),
    "timer_latency_s": Target(
        "timer_latency_s", None, "s", 2.0, "max", "median delay from due moment to firing"),
    "daemon_rss_100k_mb": Target(
        "daemon_rss_100k_mb", None, "MB", 150.0, "max", "daemon memory, 100,000 open cases"),
    "show_in_shell_ms": Target(
        "show_in_shell_ms", None, "ms", 50.0, "max", "show inside one shell"),
}


def main() -> int:
    log.configure(level=logging.WARNING)
    results: dict[str, float] = {}
    steps: list[tuple[str, Callable[[Path], dict[str, float]]]] = [
        ("triggers on SQLite", _triggers),
        ("triggers on PostgreSQL", _postgres),
        ("sweep", _sweep),
        ("daemon memory", _memory),
        ("timer latency", _latency),
        ("show", _show),
        ("SMTP delivery", _smtp),
        ("the portal", _portal),
    ]
    started = time.perf_counter()
    for name, step in steps:
        with tempfile.TemporaryDirectory(prefix="scr-bench-") as folder:
            t = time.perf_counter()
            print(f"measuring {name} ...", file=sys.stderr, flush=True)
            results.update({k: round(v, 4) for k, v in step(Path(folder)).items()})
            print(f"  {time.perf_counter() - t:.0f} s", file=sys.stderr, flush=True)
    RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print(_table(results))
    print(f"\n{platform.node()}: {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}; {time.perf_counter() - started:.0f} s; "
          f"written to {RESULTS}")
    return 0


def _table(results: dict[str, float]) -> str:
    """Each target with its figure, its floor, its ratio, the bound and whether it is met;
    then the figures that are neither."""
    lines = [f"{'target':<27}{'figure':>12}{'floor':>12}{'ratio':>8}  {'bound':<20}met"]
    shown, bounds = set(), False
    for key, target in TARGETS.items():
        if target.floor is None and not bounds:
            lines += ["", "bounds that are not ratios:"]
            bounds = True
        ratio = results.get(key)
        if ratio is None:
            lines.append(f"{key:<27}{'(not measured)':>12}")
            continue
        sign = ">=" if target.kind == "min" else "<="
        bound = f"{sign} {target.bound:g}" + (f" (aim {target.aim:g})" if target.aim else "")
        value = _with_unit(results.get(target.value, ratio), target.unit)
        if target.floor is None:
            floor, shown_ratio = "-", "-"
        else:
            floor, shown_ratio = _with_unit(results[target.floor], target.unit), f"{ratio:.3g}"
        lines.append(f"{key:<27}{value:>12}{floor:>12}{shown_ratio:>8}  {bound:<20}"
                     f"{'met' if target.met(ratio) else 'MISSED'}")
        lines.append(f"{'':<4}{target.meaning}")
        shown |= {key, target.value, target.floor}
    others = [k for k in sorted(results) if k not in shown]
    if others:
        lines += ["", "other figures:"]
        lines += [f"  {k:<27}{results[k]:>12.4g}" for k in others]
    return "\n".join(lines)


def _with_unit(value: float, unit: str) -> str:
    number = f"{value:.3g}" if unit == "s" or value < 10 else f"{value:,.0f}"
    return f"{number}{unit}" if unit.startswith("/") else f"{number} {unit}"


def _triggers(folder: Path) -> dict[str, float]:
    from bench.triggers import sqlite_ratio

    return sqlite_ratio(folder)


def _postgres(folder: Path) -> dict[str, float]:
    from sqlalchemy import text

    from bench.triggers import postgres_rate
    from scr.storage.db import make_engine
    from tests.board import PG_ADMIN_URL, pg_available

    if not pg_available():
        print("  no PostgreSQL on 127.0.0.1:5432: skipped", file=sys.stderr)
        return {}
    name = f"scr_bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        return {"trigger_per_s_postgres": postgres_rate(PG_ADMIN_URL.rsplit("/", 1)[0]
                                                        + f"/{name}")}
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _sweep(folder: Path) -> dict[str, float]:
    from bench.sweep import ratio

    return ratio(folder)


def _memory(folder: Path) -> dict[str, float]:
    from bench.daemon import memory

    return memory(folder)


def _latency(folder: Path) -> dict[str, float]:
    from bench.daemon import latency

    return latency(folder)


def _show(folder: Path) -> dict[str, float]:
    from bench.commands import show_times

    return show_times(folder)


def _portal(folder: Path) -> dict[str, float]:
    from bench.portal import figures

    return figures(folder)


def _smtp(folder: Path) -> dict[str, float]:
    from bench.smtp import rate

    return rate(folder)


if __name__ == "__main__":
    sys.exit(main())
