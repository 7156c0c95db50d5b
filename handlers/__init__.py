"""Side effects of the case review lifecycle: rendering and delivering e-mail, calendar files.

Plain functions over frozen dataclasses, idempotent on the Message-ID, never reading
the clock, importing nothing of `states`, `storage` or `lifecycle`:

- `handlers.notices`: `Notice`, `Deadline`, `Rendered` (what a notification may say);
- `handlers.render`: `render(notice)` with the Jinja2 templates in `templates/`;
- `handlers.ics`: `CalendarEntry`, `to_ics()`, `cancellation()` (RFC 5545);
- `handlers.mail`: `Message`, `DeliveryResult`, `build_mime()`, `deliver()`,
  `next_attempt_at()`, `make_message_id()`;
- `handlers.transport`: `MaildirTransport`, `SmtpTransport.from_url()`, `redact_url()`.
"""
