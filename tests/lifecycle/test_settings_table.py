"""The settings table (lifecycle/settings.py, TABLE): each setting declared once, `load`
driven by it, and every place that documents a setting written from it or checked
against it, so that a default is written once."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from datetime import UTC, datetime, time
from pathlib import Path

import pytest

from scr.lifecycle.config import reference
from scr.lifecycle.config.kinds import Offsets, Table
from scr.lifecycle.settings import (
    DEFAULT,
    TABLE,
    Board,
    MailSettings,
    Settings,
    WebSettings,
    load,
)
from scr.states.errors import InvalidInput

ROOT = Path(__file__).resolve().parents[2]
SECRET = "s3cr3t-pw"


def _load(tmp_path: Path, toml: str = "", **env: str) -> Settings:
    path = tmp_path / "scr.toml"
    path.write_text(toml, encoding="utf-8")
    return load(environ={"SCR_CONFIG": str(path), **env})


def test_each_setting_is_declared_once():
    names = [s.name for s in TABLE]
    variables = [s.env for s in TABLE if s.env]
    assert len(names) == len(set(names)) and len(variables) == len(set(variables))
    assert all(s.help and "\n" not in s.help for s in TABLE)


def test_docs_configuration_is_written_from_the_table():
    """docs/configuration.md and README.md's table of the environment are the table's;
    `python -m scr.lifecycle.config.reference` writes them again."""
    assert (ROOT / "docs/configuration.md").read_text(encoding="utf-8") == reference.markdown()
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert reference.readme(text) == text


def test_scr_help_environment_says_what_the_table_says():
    """`scr help environment` names every variable of the table, in the table's words (its
    NO_COLOR is the shell's, not a setting)."""
    from scr.lifecycle.cli.helping import ENVIRONMENT

    table = {s.env: s.help for s in TABLE if s.env}
    assert {k: v for k, v in ENVIRONMENT.items() if k != "NO_COLOR"} == table
    # Where the words name the default, it is the table's.
    assert all(str(s.default) in s.help for s in TABLE
               if s.env and s.default not in (None, False))


def test_every_variable_the_code_reads_is_in_the_table():
    """A new SCR_ variable is declared in the table (and so documented) before it is read."""
    declared = {s.env for s in TABLE if s.env}
    named = {node.value for folder in ("states", "storage", "lifecycle", "handlers")
             for path in (ROOT / folder).rglob("*.py") if "migrations" not in path.parts
             for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
             if isinstance(node, ast.Constant) and isinstance(node.value, str)
             and re.fullmatch(r"SCR_[A-Z_]+", node.value)}
    assert named <= declared, named - declared


def _as_written(value: object) -> object:
    """A default as a TOML file or the environment would give it."""
    if isinstance(value, time):
        return value.isoformat("minutes")
    if isinstance(value, tuple):
        return list(value)
    return str(value) if isinstance(value, Path) else value


@pytest.mark.parametrize("setting", [s for s in TABLE if s.default not in (None, False)
                                     and not isinstance(s.kind, Table | Offsets)],
                         ids=lambda s: s.name)
def test_every_default_is_a_value_its_kind_accepts(setting):
    assert setting.kind.read(_as_written(setting.default), setting.name) == setting.default


def test_nothing_configured_is_the_dataclasses_defaults():
    """With no file and no environment, `load` gives what the dataclasses default to: both
    are the table's."""
    settings = load(environ={})
    assert settings.web == WebSettings()
    assert settings.mail == MailSettings()
    assert settings.board == Board(portal_url=WebSettings().base_url)
    assert settings.database_url == Settings().database_url == DEFAULT["database.url"]
    assert settings.daemon_interval == Settings().daemon_interval
    calendar = settings.process.working_days
    assert (calendar.timezone, calendar.country, calendar.subdiv, calendar.day_start) == (
        "Europe/London", "GB", "ENG", time(9, 0))
    assert settings.process.start == ("cspr", None) and settings.actor is None


def test_an_option_overrides_the_environment_which_overrides_the_file(tmp_path):
    config = '[database]\nurl = "sqlite:///file.db"\n'
    assert _load(tmp_path, config).database_url == "sqlite:///file.db"
    assert _load(tmp_path, config, SCR_DATABASE_URL="sqlite:///env.db").database_url \
        == "sqlite:///env.db"
    assert _load(tmp_path, config, SCR_DATABASE_URL="").database_url == "sqlite:///file.db"
    env = {"SCR_ACTOR": "Env", "SCR_NOW": "2026-06-01T10:00", "SCR_ALLOW_CLOCK_OVERRIDE": "1"}
    settings = load(environ=env, actor="Option", now="2026-07-01T10:00")
    assert settings.actor == "Option" and settings.training
    assert settings.now == datetime(2026, 7, 1, 9, 0, tzinfo=UTC)  # 10:00 in London, BST
    assert load(environ=env).now == datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def test_the_derived_defaults_follow_the_settings_they_come_from(tmp_path):
    """A named board sends as its name at the portal's host; the retry cap is at least the
    first wait."""
    settings = _load(tmp_path, '[board]\nname = "Anyshire SCP"\n[web]\nbase_url = '
                     '"https://reviews.anyshire.gov.uk/"\n[mail]\nbackoff_seconds = 30000\n')
    assert settings.board.mail_from == "Anyshire SCP <scr@reviews.anyshire.gov.uk>"
    assert settings.web.base_url == settings.board.portal_url == "https://reviews.anyshire.gov.uk"
    assert settings.mail.backoff_cap_seconds == 30000


# Each bad value and the one line that refuses it, word for word (the command line prints it
# after `error: `).
REFUSED = [
    ("[board]\nnosuch = 1\n", {}, "config: unknown setting board.nosuch"),
    ("[nosuch]\n", {}, "config: unknown section [nosuch]"),
    ('timers = "x"\n', {}, "config: unknown section [timers]"),
    ("[board]\nname = 5\n", {}, "config: board.name must be text"),
    ('[board]\nname = ""\n', {}, "config: board.name must not be empty"),
    ('[board]\nname = "a\\nb"\n', {},
     "config: board.name: contains a control character (U+000A)"),
    ('[board]\nmail_from = "a@b.c, d@e.f"\n', {}, "config: board.mail_from must be one e-mail "
     "address, e.g. \"Anyshire SCP <scr@anyshire.gov.uk>\" (got 'a@b.c, d@e.f')"),
    ('[board]\nref_prefix = "CR\\n"\n', {}, "config: board.ref_prefix must be 1 to 10 letters "
     "or digits, starting with a letter, e.g. CR (got 'CR\\n')"),
    ('[board]\nagencies = ["Camhs"]\n', {},
     "config: board.agencies must be a list of lower-case slugs"),
    ('[calendar]\ntimezone = "Mars/Base"\n', {}, "config: unknown time zone 'Mars/Base'"),
    ('[calendar]\nday_start = "25:00"\n', {},
     "config: day_start '25:00' is not a time like 09:00"),
    ('[calendar]\ncountry = "ZZ"\n', {}, "config: calendar.country 'ZZ' is not a country the "
     "holidays package knows (an ISO 3166 code, e.g. GB)"),
    ('[calendar]\nsubdivision = "XXX"\n', {}, "config: calendar.subdivision 'XXX' is not a "
     "subdivision of GB (one of ENG, NIR, SCT, WLS)"),
    ('[timers]\n"returns.due" = "10 weeks"\n', {}, "config: timers: returns.due: not an "
     "offset: '10 weeks' (use e.g. 3wd, -2wd, 14d, 6m)"),
    ("[mail]\nmax_attempts = 2.5\n", {},
     "config: mail.max_attempts must be a whole number from 1 to 1000 (got 2.5)"),
    ("[mail]\nbackoff_seconds = nan\n", {},
     "config: mail.backoff_seconds must be a number from 1 to 86400 (got nan)"),
    ("[mail]\nbackoff_cap_seconds = 30\n", {},
     "config: mail.backoff_cap_seconds must be at least mail.backoff_seconds (60)"),
    ("[daemon]\ninterval_seconds = true\n", {},
     "config: daemon.interval_seconds must be a number from 0.1 to 3600 (got True)"),
    ("[web]\nsession_hours = 1e30\n", {},
     "config: web.session_hours must be a number from 0.25 to 744 (got 1e+30)"),
    ('[web]\nbase_url = "ftp://x"\n', {}, "config: web.base_url must be an http:// or "
     "https:// address, e.g. https://reviews.example.gov.uk"),
    ("[web]\noidc = 5\n", {}, "config: web.oidc must be a table ([web.oidc])"),
    ("[web.oidc]\n", {}, "config: web.oidc.issuer must be an https:// address"),
    ('[web.oidc]\nissuer = "https://idp.example"\n', {},
     "config: web.oidc.client_id must be given"),
    ('[web.oidc]\nissuer = "https://idp.example"\nclient_id = "c"\n', {},
     "config: [web.oidc] needs SCR_OIDC_CLIENT_SECRET in the environment"),
    ('[web.oidc]\nissuer = "https://i"\nclient_id = "c"\nclient_secret = "x"\n',
     {"SCR_OIDC_CLIENT_SECRET": SECRET}, "config: unknown setting web.oidc.client_secret "
     "(the client secret goes in SCR_OIDC_CLIENT_SECRET)"),
    ('[process]\ndefault = "lscb"\n', {}, "config: process: no process definition called "
     "'lscb' (known: cspr, learning, scr)"),
    ('[process]\ndefault = "learning"\n', {}, "config: process.default: learning is not a "
     "process for referrals (its records are added with scr learning add)"),
    ("[process]\nversion = 1.5\n", {}, 'config: process.version must be text, e.g. "1"'),
    ('[process]\nlead_partner = "mayor"\n', {}, "config: process.lead_partner must be one of "
     "local_authority, integrated_care_board, police"),
    ("[learning]\nthemes = []\n", {},
     "config: learning.themes must be a list of lower-case slugs"),
    ("[database]\nurl = 5\n", {}, "config: database.url must be text"),
    ("", {"SCR_NOW": "2026-11-23T09:00"}, "--now is refused: set SCR_ALLOW_CLOCK_OVERRIDE=1 "
     "to run as of another moment (training and tests only)"),
    ("", {"SCR_NOW": "yesterday", "SCR_ALLOW_CLOCK_OVERRIDE": "1"},
     "not an ISO date-time: 'yesterday' (e.g. 2027-01-05T10:00)"),
    ("", {"SCR_ACTOR": "bad\udcff"}, "SCR_ACTOR is not UTF-8 text"),
    ("", {"SCR_SMTP_URL": f"ftp://user:{SECRET}@mail.example"}, "SCR_SMTP_URL: unsupported "
     "mail URL scheme in ftp://user:***@mail.example (use smtp, smtp+starttls or smtps)"),
]


@pytest.mark.parametrize(("toml", "env", "message"), REFUSED,
                         ids=[m[:50] for _, _, m in REFUSED])
def test_a_bad_value_is_refused_in_one_line_naming_it(tmp_path, toml, env, message):
    with pytest.raises(InvalidInput) as refused:
        _load(tmp_path, toml, **env)
    assert str(refused.value) == message


def test_secrets_are_never_shown(tmp_path):
    """The SMTP and database passwords and the OpenID Connect client secret stay out of the
    settings' repr (and so out of any log of it)."""
    settings = _load(tmp_path, '[web.oidc]\nissuer = "https://idp.example/"\nclient_id = "c"\n',
                     SCR_OIDC_CLIENT_SECRET=SECRET,
                     SCR_SMTP_URL=f"smtps://user:{SECRET}@mail.example:465",
                     SCR_DATABASE_URL=f"postgresql+psycopg://scr:{SECRET}@db/scr")
    assert settings.web.oidc.client_secret == SECRET
    assert SECRET in str(settings.mail.smtp_url) and SECRET in settings.database_url
    assert SECRET not in repr(settings)
    assert {s.env for s in TABLE if s.secret} >= {"SCR_SMTP_URL", "SCR_OIDC_CLIENT_SECRET",
                                                 "SCR_AUDIT_KEY", "SCR_DATABASE_URL"}


def _readme_example() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    example = re.search(r"```toml\n(.*?)```", text.split("## Configuration", 1)[1], re.S)
    assert example, "README.md's Configuration shows an example file"
    return example[1]


def test_the_readme_example_is_a_configuration_scr_accepts(tmp_path):
    example = _readme_example()
    settings = _load(tmp_path, example, SCR_OIDC_CLIENT_SECRET=SECRET)
    assert settings.board.ref_prefix == tomllib.loads(example)["board"]["ref_prefix"]


def _prose_defaults() -> list[tuple[str, str, str, str]]:
    """Where the documents quote a setting's default in prose, "`[web] session_hours` (8)"
    or "`interval_seconds` (...; 15 by default)": each (file, key, quoted, the table's)."""
    found = []
    keys = {s.key.rpartition(".")[2]: s for s in TABLE if s.key and s.file}
    documents = [ROOT / "README.md", ROOT / "SECURITY.md", ROOT / "deploy/README.md",
                 *(ROOT / "docs").glob("*.md")]
    for path in documents:
        text = " ".join(path.read_text(encoding="utf-8").split())
        for key, number, by_default in re.findall(
                r"`(?:\[[\w.]+\] )?(\w+)` \((?:([\d.]+)|[^()]*?([\d.]+) by default)\)", text):
            if key in keys:
                shown = f"{keys[key].default:g}"
                found.append((path.name, key, number or by_default, shown))
    return found


def test_the_defaults_quoted_in_the_documents_are_the_tables():
    found = _prose_defaults()
    assert {key for _, key, _, _ in found} >= {"session_idle_minutes", "interval_seconds"}
    assert [f for f in found if f[2] != f[3]] == []


def test_the_check_of_quoted_defaults_sees_a_stale_one(tmp_path, monkeypatch):
    doc = tmp_path / "docs"
    doc.mkdir()
    (doc / "x.md").write_text("`[web] session_hours` (9) and `link_minutes` (15)")
    for name in ("README.md", "SECURITY.md"):
        (tmp_path / name).write_text("")
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy/README.md").write_text("")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert _prose_defaults() == [("x.md", "session_hours", "9", "8"),
                                 ("x.md", "link_minutes", "15", "15")]
