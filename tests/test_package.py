"""The package a board installs: built from the tracked files alone, under its own
distribution name with its licence, holding what `scr` needs at run time (templates,
migrations, the portal's assets, the example referral) and the documents, and nothing of
the tests or the development tools."""

from __future__ import annotations

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
    assert "scr = lifecycle.cli.main:main" in wheel.read(entry_points).decode()


def test_it_holds_what_scr_needs_and_the_documents(wheel):
    names = set(wheel.namelist())
    for needed in ("lifecycle/examples/referral.json", "handlers/templates/layout.html",
                   "handlers/templates/cspr/timer.action.txt",
                   "storage/migrations/versions/0009_record_seals.py",
                   "storage/migrations/env.py", "lifecycle/web/templates/case.html"):
        assert needed in names, needed
    docs = {n.split("share/doc/scr-case-reviews/", 1)[1] for n in names
            if "share/doc/scr-case-reviews/" in n}
    assert {"README.md", "SECURITY.md", "LICENSE", "regimes.md", "reliability.md",
            "deploy/README.md", "deploy/scr-daemon.service"} <= docs


def test_it_holds_no_tests_and_no_benchmarks(wheel):
    assert not [n for n in wheel.namelist() if n.startswith(("tests/", "bench/"))]
