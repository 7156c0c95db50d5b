"""TEMPORARY stub; replaced by the handlers branch."""

from __future__ import annotations

from handlers.notices import Notice, Rendered


def render(notice: Notice) -> Rendered:
    subject = f"[{notice.case_ref} {notice.pseudonym}] {notice.event_label}"
    text = f"{notice.event_label}\nBy: {notice.actor}\nReason: {notice.reason or '-'}\n"
    return Rendered(subject, text, f"<p>{subject}</p>")
