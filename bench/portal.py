"""The portal under load: 20 signed-in sessions at once over a database of 100,000 cases,
each page set against a static file served by the same portal under the same load.

`scr web` runs as its own process (the real command, one worker, on a free loopback port).
Two kinds of load, each from 20 client threads with a session (and a connection) each:

- latency: every session asks for a page, then waits until a second has passed since it
  asked before asking again (20 people clicking once a second, each, all at once: far
  busier than a board's portal). The case page, a static file and the inbox take turns
  in short rounds, so a noisy moment on the machine weighs on all three. Reported: each
  one's median and p95 over all its rounds, and the case page's and inbox's p95 over the
  static file's.
- rate: every session asks as fast as the server answers, for a case page, then for a
  static file, in rounds too. Reported: both rates, and the case page's over the static
  file's.

The static file goes through the same middleware as a page (security headers, the access
log, the form cookie) but reads no database and renders no template: it is the floor that
this server, this machine and this load set for any page.
"""

from __future__ import annotations

import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.seed import T0, case_in, clone, fresh

ROOT = Path(__file__).resolve().parent.parent
SESSIONS = 20
CASES = 100_000
ROUNDS = 4
SECONDS = 3.0  # of load for each kind of page in a round
PACE = 1.0  # seconds between one session's requests, for the latency figures
STATIC = "/static/scr.css"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _sessions(db: object, user: str, n: int) -> list[str]:
    """`n` live sessions of `user`, made as a sign-in would (their cookies)."""
    from scr.lifecycle.web.identity import digest
    from scr.storage import users, web
    from scr.storage.db import transaction

    cookies = []
    with transaction(db) as tx:  # type: ignore[arg-type]
        who = users.named(tx, user)
        for _ in range(n):
            cookie = secrets.token_urlsafe(32)
            web.start_session(tx, token_hash=digest(cookie), user_id=who.id,
                              csrf_token=secrets.token_urlsafe(32), method="email", now=T0,
                              expires_at=T0 + timedelta(days=3650))
            cookies.append(cookie)
    return cookies


def _load(url: str, clients: list[Any], seconds: float,
          pace: float | None = None) -> list[float]:
    """Every request's latency (s), from all sessions at once for `seconds`; with `pace`,
    each session asks at most once every `pace` seconds."""
    latencies: list[float] = []
    problems: list[str] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def run(client: Any) -> None:
        mine = []
        if pace is not None:  # people do not click in step: each starts at its own moment
            time.sleep(random.uniform(0, pace))
        while time.monotonic() < stop:
            started = time.perf_counter()
            response = client.get(url)
            took = time.perf_counter() - started
            mine.append(took)
            if response.status_code != 200:
                with lock:
                    problems.append(f"{url}: {response.status_code}")
                return
            if pace is not None and took < pace:
                time.sleep(min(pace - took, max(0.0, stop - time.monotonic())))
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=run, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if problems:
        raise RuntimeError(f"{len(problems)} sessions were refused, e.g. {problems[0]}")
    return latencies


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def figures(folder: Path) -> dict[str, float]:
    import httpx

    from scr.states.enums import State

    path = folder / "portal.db"
    board = fresh(path)
    ref = case_in(board, State.CHAIR_DECISION)
    clone(path, ref, CASES - 1)
    cookies = _sessions(board.db, "Ivy Chair", SESSIONS)
    board.db.dispose()
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCR_")}
    env.update({"PYTHONPATH": str(ROOT), "SCR_DATABASE_URL": f"sqlite:///{path}",
                "SCR_MAIL_DIR": str(folder / "mail"), "SCR_ALLOW_CLOCK_OVERRIDE": "1",
                # A few minutes after the sessions began: they are live.
                "SCR_NOW": (T0 + timedelta(minutes=5)).isoformat()})
    server = subprocess.Popen([sys.executable, "-m", "scr.lifecycle.cli", "web", "--port",
                               str(port)], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    pages = {"case": f"{base}/cases/{ref}", "static": f"{base}{STATIC}", "inbox": f"{base}/"}
    paced: dict[str, list[float]] = {name: [] for name in pages}
    busy: dict[str, list[float]] = {"case": [], "static": []}
    clients = [httpx.Client(cookies={"scr_session": c}, timeout=30) for c in cookies]
    try:
        _wait(base)
        for url in pages.values():  # warm up: templates, caches, every session's connection
            _load(url, clients, 1.0, pace=PACE)
        for _ in range(ROUNDS):
            for name in ("case", "static", "inbox", "static"):
                paced[name] += _load(pages[name], clients, SECONDS / (1 + (name == "static")),
                                     pace=PACE)
            for name in busy:
                busy[name] += _load(pages[name], clients, SECONDS / 2)
    finally:
        for client in clients:
            client.close()
        server.terminate()
        server.wait(20)
    out: dict[str, float] = {}
    for name, latencies in paced.items():
        out[f"portal_{name}_p50_ms"] = statistics.median(latencies) * 1000
        out[f"portal_{name}_p95_ms"] = _p95(latencies) * 1000
    for name in ("case", "inbox"):
        out[f"portal_{name}_p95_vs_static"] = (out[f"portal_{name}_p95_ms"]
                                               / out["portal_static_p95_ms"])
    seconds = ROUNDS * SECONDS / 2
    out["portal_case_per_s"] = len(busy["case"]) / seconds
    out["portal_static_per_s"] = len(busy["static"]) / seconds
    out["portal_case_vs_static"] = out["portal_case_per_s"] / out["portal_static_per_s"]
    return out


def _wait(base: str) -> None:
    import httpx

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/sign-in", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("scr web did not start")
