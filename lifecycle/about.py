"""What this `scr` is: its version, the distribution it was installed from, and the
examples it ships.

The distribution is `scr-case-reviews` (the name `scr` on the public package index belongs
to another project); the command it installs is `scr`.
"""

from __future__ import annotations

from importlib import metadata, resources

DISTRIBUTION = "scr-case-reviews"
EXAMPLES = ("referral",)


def version() -> str:
    """The installed version; "unknown" when run from a copy that was never installed."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "unknown"


def example(name: str) -> str:
    """The text of a shipped example (`EXAMPLES`): the referral file of the tour."""
    return (resources.files("scr.lifecycle.examples") / f"{name}.json").read_text(encoding="utf-8")
