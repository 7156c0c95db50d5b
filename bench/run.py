"""`make bench`: measure the performance targets (BENCHMARKS.md) and write bench/results.json.

Each figure is the median of several runs; ratios are taken within one run, alternating
the two sides, so a noisy machine weighs on both. Nothing here is asserted: the table says
which targets are met.
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
from pathlib import Path

from lifecycle import log

RESULTS = Path(__file__).with_name("results.json")
# key: (target, "min" or "max", what it means)
TARGETS: dict[str, tuple[float, str, str]] = {
    "trigger_vs_raw_sqlite": (0.25, "min", "triggers/s through fire() over raw sqlite3"),
    "sweep_1m_vs_10k": (2.0, "max", "sweep of 1,000 due among 1M pending over 10k"),
    "daemon_rss_100k_mb": (150.0, "max", "daemon memory with 100,000 open cases (MB)"),
    "daemon_rss_100k_vs_1k": (1.3, "max", "daemon memory, 100,000 over 1,000 cases"),
    "timer_latency_s": (2.0, "max", "median delay from due moment to firing (s)"),
    "show_cold_s": (0.5, "max", "scr show from a cold start (s)"),
    "show_in_shell_ms": (50.0, "max", "show inside one shell (ms)"),
    "smtp_messages_per_s": (200.0, "min", "outbox delivery to a local SMTP server (msg/s)"),
    "portal_case_p95_ms": (50.0, "max", "portal case page p95, 20 sessions, 100k cases (ms)"),
    "portal_inbox_p95_ms": (100.0, "max", "portal inbox p95, 20 sessions, 100k cases (ms)"),
    "portal_case_vs_static": (0.2, "min", "portal case pages/s over static files/s"),
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
    lines = [f"{'figure':<26}{'value':>12}  {'target':<10}{'':<6}meaning"]
    for key, value in sorted(results.items()):
        target = TARGETS.get(key)
        if target is None:
            lines.append(f"{key:<26}{value:>12.4g}")
            continue
        bound, kind, meaning = target
        met = value >= bound if kind == "min" else value <= bound
        sign = ">=" if kind == "min" else "<="
        lines.append(f"{key:<26}{value:>12.4g}  {sign} {bound:<7g} {'met' if met else 'MISSED':<7}"
                     f"{meaning}")
    return "\n".join(lines)


def _triggers(folder: Path) -> dict[str, float]:
    from bench.triggers import sqlite_ratio

    return sqlite_ratio(folder)


def _postgres(folder: Path) -> dict[str, float]:
    from sqlalchemy import text

    from bench.triggers import postgres_rate
    from storage.db import make_engine
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
