"""`scr audit verify` and `scr audit key`: is the record what its history says, and is it
the record the board saw before?

`verify` walks every case's hash chain (storage.chain) and checks each case's record
against the seal of its newest history row (storage.seal), and the users' audit trail the
same way (storage.ledger). It prints every case's head (reference, row, hash) and one
digest over all the heads, an HMAC keyed with a secret the database does not hold
(SCR_AUDIT_KEY, or the file SCR_AUDIT_KEY_FILE names). Anyone who can write the database
can rewrite a row and recompute every hash after it; what they cannot do is make a head
kept off the server match. `verify --against FILE` takes an earlier `verify --json` kept
elsewhere: its digest must match its heads under the key (so the copy is the one scr
made), and each head it holds must still be in its chain at the same row (so nothing up
to that row has been rewritten since). SECURITY.md ("The record cannot be changed unseen")
says how a board keeps those copies.

A break exits 5, naming each case found broken.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import secrets
import stat
from argparse import Namespace
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from scr.lifecycle.cli.app import App, Output
from scr.states.errors import InvalidInput, LifecycleError
from scr.storage import history, ledger
from scr.storage.db import reading

EXIT_BROKEN = 5
KEY_MIN = 16  # bytes: an HMAC key shorter than this is guessable
ANCHOR_MAX = 200 * 1024 * 1024  # an earlier output of 100,000 cases is about 15 MB


class ChainBroken(LifecycleError):
    """The record does not verify: a row was altered, removed or reordered, a record was
    changed outside its history, or a head kept off the server is no longer in its chain."""

    exit_code = EXIT_BROKEN


def audit_key(environ: Mapping[str, str] | None = None) -> tuple[bytes, str] | None:
    """The audit key and where it came from, or None when none is set. A key file must be
    the owner's alone (like an SSH key): a key others can read anchors nothing."""
    env = os.environ if environ is None else environ
    text = env.get("SCR_AUDIT_KEY")
    if text:
        key = text.encode("utf-8")
        where = "SCR_AUDIT_KEY"
    elif env.get("SCR_AUDIT_KEY_FILE"):
        path = Path(env["SCR_AUDIT_KEY_FILE"])
        try:
            info = path.stat()
            if not stat.S_ISREG(info.st_mode):
                raise InvalidInput(f"SCR_AUDIT_KEY_FILE: {path} is not a regular file")
            if info.st_mode & 0o077:
                raise InvalidInput(f"SCR_AUDIT_KEY_FILE: {path} may be read by others "
                                   f"(chmod 600 {path})")
            key = path.read_bytes()[:4096].strip()
        except OSError as exc:
            raise InvalidInput(f"SCR_AUDIT_KEY_FILE: cannot read {path}: "
                               f"{exc.strerror or exc}") from None
        where = f"SCR_AUDIT_KEY_FILE {path}"
    else:
        return None
    if len(key) < KEY_MIN:
        raise InvalidInput(f"{where.split()[0]}: the audit key must be at least {KEY_MIN} "
                           "bytes (scr audit key FILE makes one)")
    return key, where


def heads_digest(key: bytes, heads: Sequence[Sequence[Any]],
                 users: Sequence[Any]) -> str:
    """HMAC-SHA256 over every case's (ref, seq, head) and the users' (seq, head)."""
    body = {"v": 1, "cases": [list(h) for h in heads], "users": list(users)}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hmac.new(key, canonical.encode("utf-8"), hashlib.sha256).hexdigest()


def verify(app: App, args: Namespace) -> Output:
    key = audit_key()
    if args.against and key is None:
        raise InvalidInput("--against needs the audit key that made the anchor: set "
                           "SCR_AUDIT_KEY or SCR_AUDIT_KEY_FILE")
    against = _anchor(Path(args.against)) if args.against else None
    with reading(app.db()) as tx:
        walk = history.verify(tx)
        lines, users_break = ledger.verify(tx)
        users_head = ledger.head(tx)
        moved = _moved(tx, against, key) if against is not None and key is not None else []
    breaks = [*walk.breaks, *([users_break] if users_break else []), *moved]
    if breaks:
        more = f" (and {len(breaks) - 1} more: " + "; ".join(map(str, breaks[1:6])) + \
            ("; ..." if len(breaks) > 6 else "") + ")" if len(breaks) > 1 else ""
        raise ChainBroken(f"the record does not verify: {breaks[0]}{more}")
    digest = heads_digest(key[0], walk.heads, list(users_head)) if key else None
    data = {
        "intact": True, "cases": walk.cases, "rows": walk.rows, "sealed": walk.sealed,
        "unsealed": walk.unsealed, "at": app.now().isoformat(),
        "users": {"lines": lines, "seq": users_head[0], "head": users_head[1]},
        "heads": [{"ref": ref, "seq": seq, "head": head} for ref, seq, head in walk.heads],
        "digest": digest, "key": key[1] if key else None,
    }
    if against is not None:
        data["anchor"] = {"file": args.against, "at": against.get("at"),
                          "heads": len(against["heads"])}
    return Output(data, _text(data))


def _text(data: Mapping[str, Any]) -> str:
    lines = [f"history intact: {data['cases']} cases, {data['rows']} rows verified"]
    if data["cases"]:
        lines.append(f"  {data['sealed']} cases match the seal of their newest row"
                     + (f"; {data['unsealed']} have history only from before seals (sealed "
                        "at their next change)" if data["unsealed"] else ""))
    users = data["users"]
    lines.append(f"users' audit trail intact: {users['lines']} lines"
                 + ("; users and roles match its seal" if users["lines"] else ""))
    if "anchor" in data:
        anchor = data["anchor"]
        lines.append(f"anchor {anchor['file']} (made {anchor['at']}): its digest matches, "
                     f"and its {anchor['heads']} heads are still in their chains")
    lines.append("heads (case, row, hash):")
    lines += [f"  {h['ref']}  {h['seq']}  {h['head']}" for h in data["heads"]]
    lines.append(f"  (users)  {users['seq']}  {users['head']}")
    if data["digest"]:
        lines.append(f"digest (HMAC-SHA256, key from {data['key']}): {data['digest']}")
        lines.append("keep a copy of `scr audit verify --json` off this server: "
                     "`scr audit verify --against COPY` checks the record against it")
    else:
        lines.append("no digest: set SCR_AUDIT_KEY or SCR_AUDIT_KEY_FILE (a key this "
                     "database does not hold; scr audit key FILE makes one)")
    return "\n".join(lines)


def _anchor(path: Path) -> dict[str, Any]:
    """An earlier `scr audit verify --json`, read with a limit and checked for shape."""
    try:
        if not path.is_file():
            raise InvalidInput(f"--against: {path} is not a regular file")
        with path.open("rb") as file:
            raw = file.read(ANCHOR_MAX + 1)
    except OSError as exc:
        raise InvalidInput(f"--against: cannot read {path}: {exc.strerror or exc}") from None
    if len(raw) > ANCHOR_MAX:
        raise InvalidInput(f"--against: {path} is larger than an audit output can be")
    try:
        found = json.loads(raw.decode("utf-8"))
        heads = [(str(h["ref"]), int(h["seq"]), str(h["head"])) for h in found["heads"]]
        users = (int(found["users"]["seq"]), str(found["users"]["head"]))
        digest = str(found["digest"])
    except (ValueError, TypeError, KeyError, RecursionError):
        raise InvalidInput(f"--against: {path} is not the output of scr audit verify "
                           "--json") from None
    return {"heads": heads, "users": users, "digest": digest, "at": found.get("at")}


def _moved(tx: Any, anchor: Mapping[str, Any], key: tuple[bytes, str]) -> list[Any]:
    """What no longer matches the anchor: its own digest, or heads not in their chains."""
    from scr.storage.chain import Break

    expected = heads_digest(key[0], anchor["heads"], list(anchor["users"]))
    if not hmac.compare_digest(expected, anchor["digest"]):
        return [Break("(anchor)", None, "the anchor's digest does not match its heads: the "
                      "copy was altered, or made with another key")]
    moved = []
    for ref, seq, head in anchor["heads"]:
        now_there = history.hash_at(tx, ref, seq)
        if now_there is None:
            moved.append(Break(ref, seq, "in the anchor, but the row is gone"))
        elif now_there != head:
            moved.append(Break(ref, seq, "rewritten since the anchor (its hash differs)"))
    seq, head = anchor["users"]
    if seq and ledger.line_at(tx, seq) != head:
        moved.append(Break(ledger.WHERE, seq, "rewritten since the anchor"))
    return moved


def make_key(app: App, args: Namespace) -> Output:
    """Write a new random key to FILE, readable by its owner alone; never over a file."""
    path = Path(args.file)
    key = secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise InvalidInput(f"{path} exists: scr audit key never overwrites a key") from None
    except OSError as exc:
        raise InvalidInput(f"cannot create {path}: {exc.strerror or exc}") from None
    with os.fdopen(fd, "w") as file:
        file.write(key + "\n")
    return Output({"file": str(path)},
                  f"wrote a new audit key to {path} (mode 600); set "
                  f"SCR_AUDIT_KEY_FILE={path} for scr audit verify, and keep a copy of the "
                  "key where the database's administrators cannot reach it")


def add_commands(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """`audit verify` and `audit key`."""
    from scr.lifecycle.cli.main import add_json_option

    audit = command("audit", "check that the record is what its history says")
    sub = audit.add_subparsers(dest="audit_command", metavar="ACTION",
                               parser_class=type(audit))
    check = sub.add_parser("verify", help="verify every chain and seal, and print the heads")
    check.add_argument("--against", metavar="FILE",
                       help="an earlier `scr audit verify --json`, kept off the server")
    add_json_option(check)
    check.set_defaults(func=verify)
    key = sub.add_parser("key", help="write a new audit key to FILE (mode 600)")
    key.add_argument("file")
    key.set_defaults(func=make_key, in_shell=False)
