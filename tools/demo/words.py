"""The demo data's made-up text: fixed vocabularies, and a writer that draws sentences,
titles and citations from them with the random stream it is given."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import NamedTuple

from django.utils.text import slugify

# Made-up readers' addresses and cited works' links are under this reserved domain.
READER_DOMAIN = "example.invalid"
FAMOUS_WORK_SHARE = 0.05  # references citing one of a few well-known works

# The April 2014 fixture's tags first, so its tag pages grow with the demo data.
TAGS = (
    "blame culture", "children’s services", "inspection", "learning organisations",
    "mandatory reporting", "Ofsted", "outsourcing", "profession", "research", "retention",
    "statistics", "workforce",
    "adoption", "agency staff", "assessment", "caseloads", "child protection conferences",
    "domestic abuse", "early help", "family courts", "looked-after children",
    "Munro review", "neglect", "performance indicators", "reflective practice", "risk",
    "safeguarding partnerships", "serious case reviews", "social work education",
    "supervision", "thresholds", "Working Together",
)  # fmt: skip

SUBJECTS = (
    "Social workers", "Local authorities", "Ofsted inspectors", "Ministers",
    "Frontline managers", "Family support workers", "Independent reviewing officers",
    "Children’s services", "Safeguarding partnerships", "Health visitors", "Schools",
    "Family courts", "Agency staff", "Newly qualified social workers", "Team managers",
    "Inspectors", "Researchers", "Parents", "Young people", "Foster carers",
)  # fmt: skip
VERBS = (
    "need", "describe", "question", "depend on", "rarely see", "struggle with",
    "argue for", "worry about", "report on", "underestimate", "value", "measure",
    "inherit", "rely on", "overlook", "have to balance", "talk about", "learn from",
)  # fmt: skip
OBJECTS = (
    "caseloads", "the threshold for intervention", "reflective supervision",
    "the assessment framework", "serious case reviews", "early help",
    "the inspection regime", "mandatory reporting", "staff turnover", "the evidence base",
    "performance indicators", "child protection plans", "care proceedings",
    "multi-agency working", "written records", "home visits", "the duty desk", "risk",
    "the views of children", "mistakes", "the cost of agency staff", "thresholds",
)  # fmt: skip
TAILS = (
    "", "", "", " in practice", " more than ever", " across England",
    " after the last inspection", " without enough time", " when budgets are cut",
    " at the front door", " in the long run", " year after year",
    ", or so the figures suggest", " because the system asks them to",
)  # fmt: skip
OPENERS = (
    "", "", "", "", "However, ", "In my experience, ", "Of course, ", "Even so, ",
    "As I argued before, ", "Put simply, ", "Meanwhile, ", "It seems to me that ",
)  # fmt: skip
TITLES = (
    "{Object} and {object}", "Why {object} matters", "A note on {object}",
    "{Object} – again?", "What {subject} say about {object}", "More on {object}",
    "{Object}: the wrong approach", "Thinking about {object}", "{Object} under pressure",
)  # fmt: skip
COMMENT_OPENERS = (
    "I agree. ", "Thank you for this. ", "I am not so sure. ", "Exactly. ",
    "This rings true. ", "A good question. ", "", "", "",
)  # fmt: skip
QUESTIONS = (
    "How does your team decide what counts as {object}?",
    "What would help your service with {object}?",
    "Has {object} changed where you work?",
)
SURNAMES = (
    "Adams", "Brown", "Clarke", "Davies", "Evans", "Fisher", "Green", "Hughes", "Iqbal",
    "Jones", "Khan", "Lewis", "Morgan", "Nolan", "Owen", "Patel", "Quinn", "Roberts",
    "Shah", "Taylor", "Usher", "Vaughan", "Walker", "Young",
)  # fmt: skip
PUBLISHERS = (
    "Department for Education", "Ofsted", "NSPCC", "Community Care",
    "British Journal of Social Work", "Child & Family Social Work", "Research in Practice",
    "Local Government Association", "Policy Press",
)  # fmt: skip
# Works many posts cite, so "cited elsewhere" and the reference index have something
# to group.
FAMOUS_WORKS = (
    "Munro, E. (2011) The Munro Review of Child Protection: Final Report. "
    "Department for Education.",
    "Laming, Lord (2003) The Victoria Climbié Inquiry. The Stationery Office.",
    "Laming, Lord (2009) The Protection of Children in England: A Progress Report. "
    "The Stationery Office.",
    "HM Government (2013) Working Together to Safeguard Children. Department for Education.",
    "NSPCC (2014) How safe are our children?",
    "Social Work Reform Board (2010) Building a safe and confident future.",
    "Senge, P. (1990) The Fifth Discipline. Doubleday.",
    "Croisdale-Appleby, D. (2014) Re-visioning social work education.",
)  # fmt: skip


class Citation(NamedTuple):
    citation: str
    url: str


def _mid_sentence(subject: str) -> str:
    """The subject as written after other words: names keep their capital."""
    return subject if subject.startswith("Ofsted") else subject[0].lower() + subject[1:]


class Writer:
    """Plausible-looking text from the fixed vocabularies above."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def sentence(self, marker: str = "") -> str:
        choice = self.rng.choice
        opener, subject = choice(OPENERS), choice(SUBJECTS)
        if opener:
            subject = _mid_sentence(subject)
        return f"{opener}{subject} {choice(VERBS)} {choice(OBJECTS)}{choice(TAILS)}{marker}."

    def paragraph(self, sentences: int, markers: Sequence[str] = ()) -> str:
        slots = [""] * sentences
        for marker in markers:
            slots[self.rng.randrange(sentences)] += marker
        return " ".join(self.sentence(slot) for slot in slots)

    def title(self) -> str:
        subject = _mid_sentence(self.rng.choice(SUBJECTS))
        obj = self.rng.choice(OBJECTS)
        return self.rng.choice(TITLES).format(
            subject=subject, object=obj, Object=obj[0].upper() + obj[1:]
        )

    def citation(self) -> Citation:
        rng = self.rng
        if rng.random() < FAMOUS_WORK_SHARE:
            return Citation(rng.choice(FAMOUS_WORKS), "")
        words = self.title()
        year = rng.randint(1995, 2018)
        author = f"{rng.choice(SURNAMES)}, {rng.choice('ABCDEFGHJKLMNPRSTW')}."
        citation = f"{author} ({year}) {words}. {rng.choice(PUBLISHERS)}."
        url = ""
        if rng.random() < 0.6:
            url = f"https://{READER_DOMAIN}/{year}/{slugify(words)}"
        return Citation(citation, url)
