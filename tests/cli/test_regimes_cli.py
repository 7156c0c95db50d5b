"""The regimes on the command line: the board's default, `refer --process`, the process a
case document names, and the partners and scrutineer as users."""

from __future__ import annotations

from tests.board import BM
from tests.cli.scr import Scr

NOW = "2026-11-23T10:00"


def test_refer_process_starts_one_case_under_another_regime(scr, referral_file, tmp_path):
    """This board starts new cases as SCRs (version 1); `--process cspr` starts one as a
    CSPR, and `--process scr` means the newest SCR version; the case says which."""
    old = scr.ok("--as", BM, "--now", NOW, "refer", "--file", referral_file(),
                 "--json").json()
    assert (old["process"], old["process_version"]) == ("scr", "1")
    cspr = scr.ok("--as", BM, "--now", NOW, "refer", "--process", "cspr", "--file",
                  referral_file(pseudonym="Child P"), "--aware-on", "2026-11-23",
                  "--no-looked-after", "--json").json()
    assert (cspr["process"], cspr["process_version"], cspr["state_label"]) == \
        ("cspr", "2", "Serious incident notification")
    assert cspr["criteria"]["binding"] is False
    assert "notification.due" in {t["name"] for t in cspr["timers"]}
    shown = scr.ok("show", cspr["ref"]).out
    assert "process    cspr version 2 (Child Safeguarding Practice Review)" in shown
    # This board's own process is scr version 1: `--process scr` is that, which takes no
    # awareness or looked-after fields.
    own = scr("--as", BM, "--now", NOW, "refer", "--process", "scr", "--file",
              referral_file(pseudonym="Child Q"), "--looked-after")
    assert own.code == 2 and own.err.count("\n") == 1
    assert own.err.startswith("error: unknown parameter 'looked_after'")
    unknown = scr("--as", BM, "--now", NOW, "refer", "--process", "lscb", "--file",
                  referral_file())
    assert unknown.code == 2 and unknown.err.startswith("error:")
    listed = scr.ok("list", "--json").json()
    assert [(c["process"], c["process_version"]) for c in listed] == [("scr", "1"),
                                                                      ("cspr", "2")]


def test_a_board_without_a_process_setting_starts_cspr_cases(tmp_path, referral_file):
    """No [process] in the config: new cases are Child Safeguarding Practice Reviews, and
    `--process scr` is the newest SCR version, which needs the day of awareness."""
    empty = tmp_path / "empty.toml"
    empty.write_text("", encoding="utf-8")
    scr = Scr.in_dir(tmp_path, SCR_CONFIG=str(empty))
    scr.ok("init")
    scr.ok("users", "add", BM, "--email", "bm@board.test", "--role", "business_manager")
    case = scr.ok("--as", BM, "--now", NOW, "refer", "--file", referral_file(),
                  "--aware-on", "2026-11-23", "--no-looked-after", "--json").json()
    assert (case["process"], case["process_version"]) == ("cspr", "2")
    missing = scr("--as", BM, "--now", NOW, "refer", "--process", "scr", "--file",
                  referral_file(pseudonym="Child Q"), "--looked-after")
    assert missing.code == 2 and missing.err.count("\n") == 1
    assert missing.err.startswith("error:") and "aware_on" in missing.err
    assert len(scr.ok("list", "--json").json()) == 1  # nothing written
    v2 = scr.ok("--as", BM, "--now", NOW, "refer", "--process", "scr", "--file",
                referral_file(pseudonym="Child Q"), "--aware-on", "2026-11-20",
                "--looked-after", "--json").json()
    assert (v2["process"], v2["process_version"]) == ("scr", "2")
    assert v2["referral"]["looked_after"] is True


def test_partners_need_their_partner_and_the_scrutineer_reads_the_summary(scr,
                                                                         referral_file):
    bad = scr("--as", BM, "users", "add", "Ann Cole", "--email", "ann@council.example",
              "--role", "safeguarding_partner")
    assert bad.code == 2 and "local_authority, integrated_care_board, police" in bad.err
    scr.ok("--as", BM, "users", "add", "Ann Cole", "--email", "ann@council.example",
           "--role", "safeguarding_partner", "--agency", "local_authority")
    scr.ok("--as", BM, "users", "add", "Rue Scrutiny", "--email", "rue@scrutiny.example",
           "--role", "scrutineer")
    ref = scr.ok("--as", BM, "--now", NOW, "refer", "--process", "cspr", "--file",
                 referral_file(), "--aware-on", "2026-11-23", "--no-looked-after",
                 "--json").json()["ref"]
    read = scr.ok("--as", "Rue Scrutiny", "show", ref, "--json").json()
    assert read["referral"]["summary"] == "What the referrer wrote."
    # The scrutineer fires nothing.
    refused = scr("--as", "Rue Scrutiny", "--now", NOW, "advance", ref,
                  "record_notification", "date=2026-11-23")
    assert refused.code == 3 and "may not fire record_notification" in refused.err
