"""Side effects of the case review lifecycle: rendering and delivering e-mail, calendar files.

Plain functions over frozen dataclasses, idempotent on the Message-ID, never reading
the clock, importing nothing of `states`, `storage` or `lifecycle`:

- `handlers.notices`: `Notice`, `Deadline`, `Rendered` (what a notification may say),
  `CommandLine` (the commands of the case's definition, and who is shown them);
- `handlers.catalogue`: which templates there are, read from `templates/` (a regime's
  wording in its folder, extending the shared template);
- `handlers.render`: `render(notice, commands)` with the Jinja2 templates in `templates/`;
- `handlers.commands`: how a body says to act (a command line, the portal's form, words);
- `handlers.ics`: `CalendarEntry`, `to_ics()`, `cancellation()` (RFC 5545);
- `handlers.mail`: `Message`, `DeliveryResult`, `build_mime()`, `deliver()`,
  `next_attempt_at()`, `make_message_id()`;
- `handlers.transport`: `MaildirTransport`, `SmtpTransport.from_url()`, `redact_url()`.
"""
