"""The demo's fictional board: its people, and the four referrals with realistic free text.

Everyone here is invented; every address is at example.org. The referrals' summaries (and
the agencies' returns) name a child and give a date of birth, as real ones do, so that the
run shows those never leave the database: not in e-mail, the narration, the log or --json.

Three referrals are the board's older Serious Case Reviews (January 2025); the fourth is a
serious incident after the board began new cases as Child Safeguarding Practice Reviews,
decided by the three safeguarding partners, with an independent scrutineer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

BOARD_NAME = "Demoshire Safeguarding Children Partnership (training demo)"
MAIL_FROM = "Demoshire SCP demo <scr-demo@example.org>"


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    roles: tuple[str, ...]
    agency: str | None = None
    post: str = ""

    @property
    def title(self) -> str:
        return self.post or self.roles[0].replace("_", " ")


PEOPLE = (
    Person("Ada Quill", "ada.quill@example.org", ("business_manager",),
           post="business manager"),
    Person("Imogen Vale", "imogen.vale@example.org", ("chair",), post="independent chair"),
    Person("Samir Brook", "samir.brook@example.org", ("subgroup_chair",),
           post="sub-group chair"),
    Person("Gwen Hollis", "gwen.hollis@example.org", ("subgroup_member",), "education",
           post="sub-group member (education)"),
    Person("Tom Reed", "tom.reed@example.org", ("subgroup_member",), "voluntary_sector",
           post="sub-group member (voluntary sector)"),
    Person("Nadia Fern", "nadia.fern@example.org", ("agency_lead",), "childrens_social_care",
           post="children's social care lead"),
    Person("Owen Ashby", "owen.ashby@example.org", ("agency_lead",), "health",
           post="health lead"),
    Person("Ruth Stone", "ruth.stone@example.org", ("agency_lead",), "police",
           post="police lead"),
    Person("Priya Dale", "priya.dale@example.org", ("agency_lead",), "education",
           post="education lead"),
    Person("Felix Moor", "felix.moor@example.org", ("lead_reviewer",),
           post="independent lead reviewer"),
    Person("Hazel Wold", "hazel.wold@example.org", ("lead_reviewer",),
           post="independent lead reviewer"),
    Person("Iris Ledger", "iris.ledger@example.org", ("auditor",), post="auditor"),
    # The safeguarding partners (local authority, integrated care board, police) decide on
    # Child Safeguarding Practice Reviews together; the scrutineer reads and is told.
    Person("Marcus Hale", "marcus.hale@example.org", ("safeguarding_partner",),
           "local_authority", post="safeguarding partner (local authority)"),
    Person("Leah Oakes", "leah.oakes@example.org", ("safeguarding_partner",),
           "integrated_care_board", post="safeguarding partner (integrated care board)"),
    Person("Dev Carrow", "dev.carrow@example.org", ("safeguarding_partner",), "police",
           post="safeguarding partner (police)"),
    Person("June Farrier", "june.farrier@example.org", ("scrutineer",),
           post="independent scrutineer"),
)
BY_NAME = {p.name: p for p in PEOPLE}

(BM, CHAIR, SUBCHAIR, MEMBER_EDU, MEMBER_VCS, CSC, HEALTH, POLICE, EDUCATION, REVIEWER_SCR,
 REVIEWER_CR, AUDITOR, PARTNER_LA, PARTNER_ICB, PARTNER_POLICE, SCRUTINEER) = (
    p.name for p in PEOPLE)

# What the free text plants: a child's name and date of birth per referral. The demo's
# test searches every message, the narration, the log and the JSON for these.
PLANTED_NAMES = ("Jayden Thornequist", "Maisie Halvorsen-Pike", "Oskar Brindlecombe",
                 "Tamsin Oakridge-Vey")
PLANTED_BIRTH_DATES = ("14/03/2019", "14 March 2019", "02/07/2023", "2 July 2023",
                       "21/11/2021", "21 November 2021", "09/10/2014", "9 October 2014")

ROBIN: dict[str, Any] = {
    "pseudonym": "Child Robin", "incident_date": "2024-12-28", "harm": "death",
    "abuse": "suspected", "agency_concern": True, "grounds": [],
    "route": "child_death_review", "referrer_agency": "health", "criminal_proceedings": True,
    "summary": "Jayden Thornequist (DOB 14/03/2019) was found unresponsive at home on 28 "
    "December 2024 and died in hospital. Bruising of different ages was noted. The family "
    "was known to children's social care; two referrals from school in 2024 were closed "
    "without a visit. Police have arrested the mother's partner.",
}
WREN: dict[str, Any] = {
    "pseudonym": "Child Wren", "incident_date": "2025-01-06", "harm": "serious_harm",
    "abuse": "suspected", "agency_concern": False, "grounds": ["life_threatening_injury"],
    "route": "professional", "referrer_agency": "education", "criminal_proceedings": False,
    "summary": "Maisie Halvorsen-Pike, born 2 July 2023, was admitted with a skull fracture "
    "after a fall described by her father. Her older brother's nursery raised the referral. "
    "Agencies shared information promptly; the learning is about recognising injuries in "
    "babies who are not yet mobile.",
}
LINNET: dict[str, Any] = {
    "pseudonym": "Child Linnet", "incident_date": "2025-01-08", "harm": "serious_harm",
    "abuse": "not_suspected", "agency_concern": False, "grounds": [],
    "route": "professional", "referrer_agency": "health", "criminal_proceedings": False,
    "summary": "Oskar Brindlecombe (DOB 21/11/2021) was scalded by a kettle at home. The "
    "health visitor asked for consideration because of a previous attendance for a burn.",
}

# A Child Safeguarding Practice Review: a serious incident the local authority learnt of on
# Friday 28 February 2025, after the board began new cases as CSPRs.
KESTREL: dict[str, Any] = {
    "pseudonym": "Child Kestrel", "incident_date": "2025-02-27", "aware_on": "2025-02-28",
    "looked_after": False, "harm": "serious_harm", "abuse": "suspected",
    "agency_concern": True, "grounds": ["serious_sexual_abuse"], "route": "professional",
    "referrer_agency": "police", "criminal_proceedings": False,
    "summary": "Tamsin Oakridge-Vey, born 9 October 2014, was found by police at a flat "
    "where she had been exploited by adults she met online; she had been missing from home "
    "for four days. School had reported her missing twice before and the return interviews "
    "were not shared. She is now in hospital (DOB 09/10/2014 on the police log).",
}
REFERRALS = (ROBIN, WREN, LINNET, KESTREL)


def return_summary(referral: dict[str, Any], agency: str) -> str:
    """An agency's summary of involvement: it names the child, as real returns do."""
    child = PLANTED_NAMES[REFERRALS.index(referral)]
    return (f"{agency.replace('_', ' ').capitalize()} involvement with {child}: contacts, "
            "assessments and what was known, with dates, are set out in the attached "
            "chronology (held on the agency's secure system).")
