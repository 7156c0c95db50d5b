"""The tests' moved clock: with TESTS_DAYS_AHEAD=N in the environment, every Python process
the test run starts (pytest, its xdist workers, each `scr` command, daemon and portal they
run) reads the wall clock as N days after the real moment, advancing as time passes.

This folder is on PYTHONPATH for the whole run (Makefile, tests/cli/scr.py), so Python
imports this module at start-up in every process. time-machine moves `datetime.now`,
`time.time` and their kin but not the monotonic clock, so sleeps, timeouts and subprocess
waits behave as they should (Debian's faketime breaks those). Nothing of scr's own code
knows of it: the product takes the moment from the operating system, or from --now.
"""

import os

_days = os.environ.get("TESTS_DAYS_AHEAD", "").strip()
if _days and _days != "0":
    import sys
    from datetime import UTC, datetime, timedelta

    # time-machine imports pytest and dateutil if it can, for features not used here: half
    # a second on every `scr` process the tests start. Hide them while it loads.
    _hidden = {name: sys.modules.pop(name, None) for name in ("pytest", "dateutil")}
    sys.modules.update(dict.fromkeys(_hidden))
    try:
        import time_machine
    finally:
        for _name, _module in _hidden.items():
            if _module is None:
                del sys.modules[_name]
            else:
                sys.modules[_name] = _module

    time_machine.travel(datetime.now(UTC) + timedelta(days=int(_days)), tick=True).start()
