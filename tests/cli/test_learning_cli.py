"""`scr learning` and `scr qa` on the command line, as the real command in a subprocess:
a review from elsewhere registered, considered and tracked; audits and training recorded
on a case; bad input refused with one line and nothing written; `scr list` and `scr
report` keep the register apart from the board's own cases."""

from __future__ import annotations

from scr.states.enums import DEFAULT_THEMES, FINDINGS
from tests.board import BM, HEALTH, SUBCHAIR
from tests.cli.scr import Scr

NOW = "2026-11-23T10:00"
LATER = "2027-02-01T10:00"
REVIEW = ("learning", "add", "--title", "Child Q: a review in another area",
          "--source", "partnership_review", "--publisher", "A partnership elsewhere",
          "--published-on", "2026-06-30", "--themes", "neglect,professional_curiosity",
          "--link", "https://example.org/child-q")


def test_a_review_from_elsewhere_from_registration_to_its_action_signed_off(scr):
    added = scr.ok("--as", BM, "--now", NOW, *REVIEW, "--json").json()
    ref = added["ref"]
    assert ref == "LRN-2026-0001" and added["state"] == "registered"
    assert added["learning"]["themes"] == ["neglect", "professional_curiosity"]
    assert added["referral"] is None and added["opens"] == "learning"

    listed = scr.ok("learning", "list", "--json").json()
    assert [(r["ref"], r["state"], r["relevant"]) for r in listed] == [
        (ref, "registered", None)]
    assert scr.ok("list", "--json").json() == []  # the board's own cases: none
    assert scr.ok("learning", "list", "--theme", "neglect", "--json").json() != []
    assert scr.ok("learning", "list", "--theme", "online_harm", "--json").json() == []

    done = scr.ok("--as", SUBCHAIR, "--now", NOW, "learning", "consider", ref, "relevant",
                  "--reason", "Our neglect audit found the same drift",
                  "--adopted", "Escalation protocol to be relaunched", "--json").json()
    assert done["state"] == "adopted" and done["learning"]["relevant"] is True
    scr.ok("--as", SUBCHAIR, "--now", NOW, "advance", ref, "add_action", "agency=health",
           "description=Relaunch the escalation protocol", f"owner={HEALTH}",
           "due=2027-01-29")
    scr.ok("--as", HEALTH, "--now", NOW, "advance", ref, "complete_action", "action=1",
           "evidence=Relaunched at the November forum")
    scr.ok("--as", SUBCHAIR, "--now", NOW, "advance", ref, "sign_off_action", "action=1")
    untested = scr.ok("qa", "untested", "--json").json()
    assert [(u["ref"], u["action"]) for u in untested] == [(ref, 1)]
    scr.ok("--as", BM, "--now", LATER, "qa", "audit", ref, "--finding", "embedded",
           "--actions", "1", "--date", "2027-02-01")
    assert scr.ok("qa", "untested").out.strip() == "every signed-off action has been audited"
    closed = scr.ok("--as", SUBCHAIR, "--now", LATER, "advance", ref, "sign_off_actions")
    assert "adopted → actions_signed_off" in closed.out

    shown = scr.ok("--as", BM, "learning", "show", ref).out
    assert "review     Child Q: a review in another area" in shown
    assert "considered 2026-11-23 by Sol Subchair: relevant here" in shown
    assert "adopted    Escalation protocol to be relaunched" in shown
    assert "Audits of the learning" in shown
    history = scr.ok("history", ref, "--json").json()
    assert [h["trigger"] for h in history] == [
        "register_review", "consider_relevant", "add_action", "complete_action",
        "sign_off_action", "record_audit", "sign_off_actions"]
    assert scr.ok("audit", "verify").code == 0


def test_bad_input_is_one_line_and_writes_nothing(scr):
    bad = scr("--as", BM, "--now", NOW, "learning", "add", "--title", "X", "--source",
              "gossip", "--publisher", "P", "--published-on", "2026-01-01", "--themes",
              "neglect")
    assert bad.code == 2 and bad.err.startswith("error:") and bad.err.count("\n") == 1
    future = scr("--as", BM, "--now", NOW, *REVIEW[:-4], "--themes", "neglect",
                 "--published-on", "2027-01-01")
    assert future.code == 2 and "published_on" in future.err and "Traceback" not in future.err
    assert scr.ok("learning", "list", "--json").json() == []
    ref = scr.ok("--as", BM, "--now", NOW, *REVIEW, "--json").json()["ref"]
    refused = scr("--as", HEALTH, "--now", NOW, "learning", "consider", ref, "not_relevant",
                  "--reason", "Not ours")
    assert refused.code == 3 and refused.err.startswith("error:")
    adopted = scr("--as", SUBCHAIR, "--now", NOW, "learning", "consider", ref,
                  "not_relevant", "--reason", "x", "--adopted", "y")
    assert adopted.code == 2
    early = scr("--as", BM, "--now", NOW, "qa", "audit", ref, "--finding", "embedded")
    assert early.code == 3 and "does not apply" in early.err
    assert len(scr.ok("history", ref, "--json").json()) == 1  # nothing written
    referral = scr("--as", BM, "--now", NOW, "refer", "--process", "learning")
    assert referral.code == 2 and "scr learning add" in referral.err
    case_shown = scr("learning", "show", "CR-2026-0404")
    assert case_shown.code == 2 and case_shown.err.startswith("error: unknown case")


def test_training_on_a_case_and_the_report_s_figures(scr, referral_file):
    """Training recorded on a board's own published case; the report counts it, and the
    register's records stay out of the case figures."""
    ref = scr.ok("--as", BM, "--now", NOW, "refer", "--file", referral_file(),
                 "--json").json()["ref"]
    not_yet = scr("--as", BM, "--now", NOW, "qa", "training", ref, "--course", "C",
                  "--audience", "A", "--from", "2026-11-01", "--to", "2026-11-02",
                  "--trained", "5")
    assert not_yet.code == 3  # a case's learning is checked once its actions are tracked
    scr.ok("--as", BM, "--now", NOW, *REVIEW)
    doc = scr.ok("--now", LATER, "report", "--from", "2026-01-01", "--to", "2026-12-31",
                 "--json").json()
    assert doc["referrals"]["received"] == 1
    assert doc["learning"]["registered"] == 1
    assert doc["learning"]["awaiting_consideration"] == 1
    text = scr.ok("--now", LATER, "report", "--from", "2026-01-01", "--to",
                  "2026-12-31").out
    assert "## Learning from reviews elsewhere" in text
    assert "## Is the learning embedded?" in text


def test_tab_completion_and_help_know_the_new_commands(scr):
    assert {"add", "consider", "list", "show", "themes"} <= set(
        scr.ok("complete", "scr learning ").out.split())
    assert scr.ok("complete", "scr qa audit REF --finding ").out.split() == list(FINDINGS)
    themes = scr.ok("complete", "scr learning add --themes n").out.split()
    assert themes == [t for t in DEFAULT_THEMES if t.startswith("n")] and themes
    page = scr.ok("help", "qa").out
    assert "untested" in page and "training" in page
    assert scr.ok("learning", "themes", "--json").json() == list(DEFAULT_THEMES)


def test_a_board_sets_its_own_themes(tmp_path):
    """`[learning] themes` replaces the default list: a review is filed under the board's
    themes only; a list that is not of slugs is bad configuration, named by its key."""
    config = tmp_path / "scr.toml"
    config.write_text('[learning]\nthemes = ["neglect", "county_lines"]\n', encoding="utf-8")
    scr = Scr.in_dir(tmp_path, SCR_CONFIG=str(config))
    scr.ok("init")
    scr.ok("users", "add", BM, "--email", "bm@board.test", "--role", "business_manager")
    assert scr.ok("learning", "themes", "--json").json() == ["neglect", "county_lines"]
    add = (*REVIEW[:-4], "--themes", "county_lines")
    assert scr.ok("--as", BM, "--now", NOW, *add, "--json").json()["learning"]["themes"] == [
        "county_lines"]
    refused = scr("--as", BM, "--now", NOW, *REVIEW[:-4], "--themes", "online_harm")
    assert refused.code == 2 and "unknown value 'online_harm'" in refused.err
    config.write_text('[learning]\nthemes = "neglect"\n', encoding="utf-8")
    bad = scr("learning", "list")
    assert bad.code == 2 and bad.err.startswith("error: config: learning.themes")


def test_a_review_registered_twice_is_withdrawn_and_the_other_corrected(scr):
    first = scr.ok("--as", BM, "--now", NOW, *REVIEW, "--json").json()["ref"]
    twice = scr.ok("--as", BM, "--now", NOW, *REVIEW, "--json").json()["ref"]
    done = scr.ok("--as", BM, "--now", NOW, "learning", "withdraw", twice, "--reason",
                  f"Registered twice: see {first}", "--json").json()
    assert done["state"] == "withdrawn"
    assert [r["ref"] for r in scr.ok("learning", "list", "--state", "registered",
                                     "--json").json()] == [first]
    again = scr("--as", BM, "--now", NOW, "learning", "withdraw", twice, "--reason", "x")
    assert again.code == 3 and again.err.startswith("error:")
    fixed = scr.ok("--as", BM, "--now", NOW, "learning", "amend", first, "--reason",
                   "The publisher's name in full", "--publisher", "Anytown Safeguarding "
                   "Children Partnership", "--json").json()
    assert fixed["learning"]["publisher"] == "Anytown Safeguarding Children Partnership"
    nothing = scr("--as", BM, "--now", NOW, "learning", "amend", first, "--reason", "x")
    assert nothing.code == 2 and nothing.err.startswith("error: give at least one of")


def test_amend_withdraw_and_training_by_the_register_s_own_words(scr):
    """`learning amend` takes an option for each parameter the register's correcting trigger
    takes, `learning withdraw` fires its withdrawal, and `qa training --from/--to` records
    the course's first and last days."""
    ref = scr.ok("--as", BM, "--now", NOW, *REVIEW, "--json").json()["ref"]
    nothing = scr("--as", BM, "--now", NOW, "learning", "amend", ref, "--reason", "x")
    assert nothing.code == 2 and ("give at least one of --title, --source, --publisher, "
                                  "--published-on, --themes, --link") in nothing.err
    scr.ok("--as", BM, "--now", NOW, "learning", "amend", ref, "--reason", "a typo",
           "--published-on", "2026-06-29")
    shown = scr.ok("--as", BM, "learning", "show", ref, "--json").json()["learning"]
    assert shown["published_on"] == "2026-06-29"
    listed = scr.ok("learning", "list", "--json").json()
    assert [(r["ref"], r["published_on"], r["themes"]) for r in listed] == [
        (ref, "2026-06-29", ["neglect", "professional_curiosity"])]
    assert "2026-06-29" in scr.ok("learning", "list").out

    other = scr.ok("--as", BM, "--now", NOW, *REVIEW, "--json").json()["ref"]
    gone = scr.ok("--as", BM, "--now", NOW, "learning", "withdraw", other, "--reason",
                  "registered twice")
    assert "registered → withdrawn" in gone.out

    scr.ok("--as", SUBCHAIR, "--now", NOW, "learning", "consider", ref, "relevant",
           "--reason", "Ours too", "--adopted", "Relaunch the protocol")
    scr.ok("--as", SUBCHAIR, "--now", NOW, "qa", "training", ref, "--course", "Curiosity",
           "--audience", "GPs", "--from", "2026-11-01", "--to", "2026-11-02", "--trained", "5")
    training = scr.ok("--as", BM, "learning", "show", ref, "--json").json()["training"]
    assert [(t["starts_on"], t["ends_on"], t["trained"]) for t in training] == [
        ("2026-11-01", "2026-11-02", 5)]
    assert "2026-11-01 to 2026-11-02" in scr.ok("--as", BM, "learning", "show", ref).out
    assert "2026-11-02" in scr.ok("qa", "list").out
