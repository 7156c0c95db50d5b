"""What the demo leaves behind, checked and summarised: the cases' final states, the e-mail
in the maildir (exactly the outbox, all sent), the SCR's timeline picture and a README."""

from __future__ import annotations

import shlex
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

from scr.handlers.transport import maildir_name
from scr.lifecycle.demo.cast import BY_NAME
from scr.lifecycle.demo.run import OffScript, Run
from scr.lifecycle.views import text as present
from scr.lifecycle.views.timeline import events, timeline_svg
from scr.storage import cases as stored_cases
from scr.storage import history, outbox
from scr.storage.db import Database, reading

# Templates whose subjects make a good sample, in the order the story reaches them.
# The first eight are shown: the SCRs', then the CSPR's in its own words (cspr/: its own
# wording of a shared template).
SAMPLE_TEMPLATES = ("timer.triage", "timer.returns", "submit_to_sub_group", "commission_scr",
                    "timer.panel", "cspr/timer.notification", "timer.rapid_review",
                    "commission_practice_review", "timer.completion", "timer.publication",
                    "publish", "timer.action", "sign_off_actions")
SUBJECTS_SHOWN = 8
# The message the summary suggests opening: the chair told why publication was blocked.
EXAMPLE = ("timer.publication", "chair")


def cases(db: Database, refs: dict[str, str]) -> list[dict[str, Any]]:
    """Each case's final state and how many history rows it has, in reference order."""
    found = []
    with reading(db) as tx:
        for ref in sorted(refs.values()):
            case = stored_cases.load(tx, ref)
            found.append({"ref": case.ref, "pseudonym": case.pseudonym,
                          "process": case.definition,
                          "process_version": case.definition_version, "kind": case.kind,
                          "state": case.state, "flags": list(case.flags),
                          "history_rows": len(history.of_case(tx, case.id))})
    return found


def mail(db: Database, maildir: Path) -> dict[str, Any]:
    """The outbox by status, template and recipient, checked against the maildir."""
    with reading(db) as tx:
        rows = outbox.listing(tx)
    files = sorted(p.name for p in (maildir / "new").iterdir()) if maildir.is_dir() else []
    expected = sorted(maildir_name(r.message_id) for r in rows)
    status = Counter(r.status for r in rows)
    if files != expected or status["sent"] != len(rows):
        raise OffScript(f"the maildir holds {len(files)} messages and the outbox {len(rows)} "
                        f"({status['sent']} sent): they should be the same, all sent")
    people: dict[str, dict[str, Any]] = {}
    for r in rows:
        entry = people.setdefault(r.recipient, {
            "name": r.recipient_name, "email": r.recipient,
            "post": BY_NAME[r.recipient_name].title, "messages": 0, "calendar_updates": 0})
        entry["messages"] += 1
        entry["calendar_updates"] += r.template == "calendar_update"
    subjects = []
    for template in SAMPLE_TEMPLATES:
        first = next((r for r in rows if r.template == template), None)
        if first is not None:
            subjects.append(first.subject)
    example = next((r for r in rows if (r.template, r.recipient_role) == EXAMPLE), rows[-1])
    return {
        "total": len(rows), "by_status": dict(status),
        "by_template": dict(sorted(Counter(r.template for r in rows).items())),
        "by_recipient": sorted(people.values(), key=lambda e: -e["messages"]),
        "in_maildir": len(files), "subjects": subjects,
        "example": {"path": str(maildir / "new" / maildir_name(example.message_id)),
                    "subject": example.subject, "to": example.recipient_name},
    }


def write_timeline(run: Run, ref: str, path: Path) -> str:
    """The case's timeline as of the run's end, drawn as SVG by lifecycle.views.timeline."""
    cal = run.settings.process.working_days
    with reading(run.db) as tx:
        case = stored_cases.load(tx, ref)
        found = events(tx, run.engine.processes.of(case), case, now=run.now, cal=cal)
        doc = {"ref": case.ref, "pseudonym": case.pseudonym, "state": case.state,
               "now": run.now.isoformat(), "events": [e.as_dict() for e in found]}
    path.write_text(timeline_svg(doc, cal), encoding="utf-8")
    return str(path)


def write_readme(folder: Path, database: Path, scr_ref: str, stopped: str) -> str:
    """How to explore the folder; `stopped` is the board's local time the run ended."""
    path = folder / "README.txt"
    url = shlex.quote(f"sqlite:///{database}")
    path.write_text(
        "This folder was made by `scr demo`: a training run on a throwaway board.\n\n"
        "  scr.db      the demo's own SQLite database (fictional people and cases)\n"
        "  mail/new/   every e-mail the run produced (a maildir; nothing was sent)\n"
        f"  {scr_ref}-timeline.svg   the SCR's timeline (open it in a web browser)\n"
        "  scr.log     the run's log, one JSON event per line\n\n"
        "Explore it with scr itself, for example:\n\n"
        f"  SCR_DATABASE_URL={url} scr list\n"
        f"  SCR_DATABASE_URL={url} scr history {scr_ref}\n"
        f"  SCR_DATABASE_URL={url} scr --as 'Ada Quill' show {scr_ref}\n\n"
        f"The demo's clock stopped at {stopped} (board time). Seen from a later day, its "
        "pending\ntimers are past due; to see the board as the run left it, run as of that "
        "moment\n(training only):\n\n"
        f"  SCR_ALLOW_CLOCK_OVERRIDE=1 SCR_DATABASE_URL={url} scr --now {stopped} overdue\n\n"
        "Delete the folder when you are done.\n", encoding="utf-8")
    return str(path)


def text(doc: dict[str, Any], run: Run) -> str:
    """The closing summary for people: cases, e-mail, refusals and files."""
    mail_doc = doc["messages"]
    lines = ["", "── What the run left behind " + "─" * 45, "",
             f"The simulated clock ran from {run.when(_moment(doc['clock']['start']))} to "
             f"{run.when(_moment(doc['clock']['end']))} in {doc['elapsed_s']:.1f} s, "
             "without sleeping.", ""]
    lines.append(present.table(
        ["case", "pseudonym", "process", "kind", "final state", "history rows"],
        [[c["ref"], c["pseudonym"], f"{c['process']} version {c['process_version']}",
          c["kind"], c["state"], c["history_rows"]] for c in doc["cases"]]))
    lines += ["", f"The daemon fired {len(doc['timers_fired'])} timers "
              f"({len(doc['ladders_fired'])} kinds); people fired {doc['steps']['people']} "
              f"triggers and {doc['steps']['refused']} were refused.", ""]
    lines.append(f"{mail_doc['total']} e-mails, all delivered into the maildir "
                 f"{doc['files']['maildir']} (nothing was sent over SMTP):")
    lines.append(present.table(
        ["to", "post", "messages", "of which calendar updates"],
        [[e["name"], e["post"], e["messages"], e["calendar_updates"]]
         for e in mail_doc["by_recipient"]]))
    lines += ["", "A few subjects:"]
    lines += [f"  {s}" for s in mail_doc["subjects"][:SUBJECTS_SHOWN]]
    example = mail_doc["example"]
    lines += ["", f"Open one in full ({example['subject']!r}, to {example['to']}):",
              f"  {example['path']}", "",
              f"The SCR's timeline: {doc['files']['timeline_svg']} (open it in a web browser)",
              f"More in {doc['dir']}: README.txt says how to explore it with scr."]
    return "\n".join(lines)


def _moment(iso: str) -> datetime:
    return datetime.fromisoformat(iso)
