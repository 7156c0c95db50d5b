"""The package a board installs: built from the tracked files alone, under its own
distribution name with its licence, holding what `scr` needs at run time (templates,
migrations, the portal's assets, the example referral) and the documents, and nothing of
the tests or the development tools."""

from __future__ import annotations

import os
import pwd
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    """The wheel, built offline from a copy of the files git tracks (and those about to
    be added), so the working tree's build leftovers cannot creep in."""
    source = tmp_path_factory.mktemp("source")
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                             "--exclude-standard"], cwd=ROOT, capture_output=True,
                            check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        origin = ROOT / name
        if origin.is_file():
            target = source / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(origin.read_bytes())
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(out), str(source)], check=True, capture_output=True)
    (built,) = out.glob("*.whl")
    return zipfile.ZipFile(built)


def test_the_distribution_has_its_own_name_and_licence(wheel):
    (metadata,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    text = wheel.read(metadata).decode()
    assert "\nName: scr-case-reviews\n" in text
    assert "\nLicense-Expression: MIT\n" in text
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in wheel.namelist())
    (entry_points,) = [n for n in wheel.namelist() if n.endswith("entry_points.txt")]
    assert "scr = scr.lifecycle.cli.main:main" in wheel.read(entry_points).decode()


def test_it_puts_one_name_into_site_packages_scr(wheel):
    """The four folders are installed as scr.states, scr.storage, scr.lifecycle and
    scr.handlers: nothing of ours at the top level can collide with another distribution's
    `storage` or `handlers`."""
    tops = {n.split("/", 1)[0] for n in wheel.namelist()}
    assert {t for t in tops if not t.endswith((".dist-info", ".data"))} == {"scr"}
    assert not [n for n in wheel.namelist() if n.startswith("scr/") and n.count("/") == 1]


def test_every_module_of_the_four_folders_is_in_it(wheel):
    """pyproject.toml lists the packages one by one; a folder left off the list fails here."""
    names = set(wheel.namelist())
    tracked = subprocess.run(["git", "ls-files", "states", "storage", "lifecycle", "handlers"],
                             cwd=ROOT, capture_output=True, text=True, check=True).stdout
    modules = [n for n in tracked.split() if n.endswith(".py")]
    assert len(modules) > 100
    assert [n for n in modules if f"scr/{n}" not in names] == []


def test_it_holds_what_scr_needs_and_the_documents(wheel):
    names = set(wheel.namelist())
    for needed in ("lifecycle/examples/referral.json", "handlers/templates/layout.html",
                   "handlers/templates/cspr/timer.action.txt",
                   "storage/migrations/versions/0009_record_seals.py",
                   "storage/migrations/env.py", "lifecycle/web/templates/case.html"):
        assert f"scr/{needed}" in names, needed
    docs = {n.split("share/doc/scr-case-reviews/", 1)[1] for n in names
            if "share/doc/scr-case-reviews/" in n}
    assert {"README.md", "SECURITY.md", "LICENSE", "regimes.md", "reliability.md",
            "deploy/README.md", "deploy/scr-daemon.service"} <= docs


def test_it_holds_no_tests_and_no_benchmarks(wheel):
    assert not [n for n in wheel.namelist() if n.startswith(("tests/", "bench/"))]


def test_pip_installs_it_beside_packages_called_storage_and_handlers(wheel, tmp_path):
    """A new environment that already has top-level `storage` and `handlers` packages (as
    other distributions install them): pip installs the wheel beside them, both stay
    importable, and the installed `scr` creates a database (migrations from the installed
    package data) and refers the example case, reading nothing from this checkout."""
    env = tmp_path / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    (site,) = (env / "lib").glob("python3*/site-packages")
    for other in ("storage", "handlers"):
        (site / other).mkdir()
        (site / other / "__init__.py").write_text(f"WHOSE = 'another distribution: {other}'\n")
    # The dependencies come from this environment's own site-packages (the test must not
    # need the network); a path in a .pth file loads no .pth of its own, so this
    # checkout's editable install stays out.
    (site / "dependencies.pth").write_text(
        next(p for p in sys.path if p.endswith("site-packages")) + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(env / "bin" / "python"),
                    "install", "-q", "--no-deps", "--no-index", wheel.filename],
                   check=True, capture_output=True)

    python = str(env / "bin" / "python")
    shown = subprocess.run(
        [python, "-c", "import storage, handlers, scr.storage.db, scr.handlers.render; "
                       "print(storage.WHOSE); print(handlers.WHOSE); "
                       "print(scr.storage.db.__file__)"],
        cwd=tmp_path, capture_output=True, text=True, check=True).stdout.splitlines()
    assert shown[:2] == ["another distribution: storage", "another distribution: handlers"]
    assert shown[2].startswith(str(site / "scr" / "storage"))

    login = pwd.getpwuid(os.getuid()).pw_name  # scr acts as the login that runs it
    run = {"cwd": tmp_path, "capture_output": True, "text": True,
           "env": {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
                   "SCR_DATABASE_URL": f"sqlite:///{tmp_path / 'board.db'}",
                   "SCR_MAIL_DIR": str(tmp_path / "mail")}}
    scr = str(env / "bin" / "scr")
    assert subprocess.run([scr, "init"], **run).returncode == 0
    added = subprocess.run([scr, "users", "add", "Sam Patel", "--email", "sam@board.example",
                            "--role", "business_manager", "--login", login], **run)
    assert added.returncode == 0, added.stderr
    example = subprocess.run([scr, "example", "referral"], **run)
    (tmp_path / "referral.json").write_text(example.stdout)
    referred = subprocess.run([scr, "refer", "--file", "referral.json"], **run)
    assert referred.returncode == 0, referred.stderr
    assert referred.stdout.strip()
