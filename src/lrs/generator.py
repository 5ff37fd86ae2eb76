"""Realistic, reproducible xAPI statements for benchmarks and imports (`lrs generate N --seed S`).

A few actors own a large share of the statements (Zipf-like), activities form course/module/lesson/question
trees with definitions of every interaction type, and the mix includes Groups, results, registrations,
contextActivities, SubStatements, StatementRefs and voiding. Every statement is valid xAPI 1.0.3 and 2.0.

An activity's definition is the same in every statement that carries it, as when it comes from a course package,
until the activity is revised (REVISE: a new description, kept from then on); each revision changes the LRS's
canonical definition once (D §2.4.4.1).
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import itertools
import random
import uuid
from collections.abc import Iterator
from typing import Any

ADL = "http://adlnet.gov/expapi/verbs/"
VERBS = [
    "experienced",
    "attempted",
    "answered",
    "completed",
    "passed",
    "failed",
    "launched",
    "initialized",
    "terminated",
    "progressed",
    "scored",
    "interacted",
    "commented",
    "shared",
    "registered",
    "suspended",
    "resumed",
    "mastered",
    "preferred",
    "attended",
]
# Rough shares of real traffic: answers and experiences dominate, lifecycle verbs follow.
VERB_WEIGHTS = [20, 8, 25, 8, 4, 2, 5, 5, 5, 6, 2, 3, 1, 1, 1, 1, 1, 1, 1, 1]
INTERACTIONS = ["true-false", "choice", "fill-in", "long-fill-in", "matching", "performance", "sequencing", "likert",
                "numeric", "other"]  # fmt: skip
HOME = "https://sso.example.com"
REVISE = 0.002  # the chance that a statement's activity has just been revised (its description rewritten)
WORDS = [
    "safety",
    "data",
    "privacy",
    "python",
    "leadership",
    "finance",
    "onboarding",
    "ethics",
    "security",
    "cloud",
    "sales",
    "support",
    "negotiation",
    "writing",
    "design",
    "testing",
    "agile",
    "kubernetes",
    "statistics",
    "compliance",
    "harassment",
    "first-aid",
    "excel",
    "communication",
]


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _lang(text: str) -> dict[str, str]:
    return {"en-US": text, "fr-FR": text + " (fr)"}


class Generator:
    """A seeded statement source; the same seed gives the same statements."""

    def __init__(self, seed: int = 1, actors: int = 5000, courses: int = 40) -> None:
        self.rng = random.Random(seed)
        self.actors = [self._actor(i) for i in range(actors)]
        # Zipf-like weights: actor i has weight 1/(i+1); cumulative for bisect.
        self.cum_actor = list(itertools.accumulate(1.0 / (i + 1) for i in range(actors)))
        self.courses = [self._course(c) for c in range(courses)]
        self.cum_course = list(itertools.accumulate(1.0 / (c + 1) ** 0.7 for c in range(courses)))
        self.registrations: dict[tuple[int, int], str] = {}
        self.recent: list[str] = []
        self.revision: dict[str, int] = {}  # revisions of an activity so far, by IRI
        self.descriptions: dict[tuple[str, int], str] = {}
        self.clock = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

    def _actor(self, i: int) -> dict[str, Any]:
        name = f"{self.rng.choice(WORDS).title()} Learner{i}"
        kind = i % 10
        if kind < 5:
            return {"objectType": "Agent", "name": name, "mbox": f"mailto:learner{i}@example.com"}
        if kind < 7:
            sha = hashlib.sha1(f"mailto:learner{i}@example.org".encode()).hexdigest()
            return {"objectType": "Agent", "name": name, "mbox_sha1sum": sha}
        if kind < 8:
            return {"objectType": "Agent", "openid": f"https://id.example.com/u/{i}"}
        return {"objectType": "Agent", "name": name, "account": {"homePage": HOME, "name": f"u{i:06d}"}}

    def _course(self, c: int) -> dict[str, Any]:
        topic = self.rng.choice(WORDS)
        course_id = f"https://lms.example.com/courses/{topic}-{c}"
        modules = []
        for m in range(5):
            lessons = []
            for lesson in range(4):
                questions = [
                    f"{course_id}/m{m}/l{lesson}/q{q}/{INTERACTIONS[(c + m + lesson + q) % len(INTERACTIONS)]}"
                    for q in range(5)
                ]
                lessons.append((f"{course_id}/m{m}/l{lesson}", questions))
            modules.append((f"{course_id}/m{m}", lessons))
        return {"id": course_id, "topic": topic, "modules": modules}

    def _words(self, iri: str, k: int) -> str:
        """An activity's description words: the same for every statement until the activity is revised."""
        if self.rng.random() < REVISE:
            self.revision[iri] = self.revision.get(iri, 0) + 1
        key = (iri, self.revision.get(iri, 0))
        text = self.descriptions.get(key)
        if text is None:
            text = self.descriptions[key] = " ".join(random.Random(f"{iri}#{key[1]}").choices(WORDS, k=k))
        return text

    def _pick(self, cum: list[float]) -> int:
        return bisect.bisect_left(cum, self.rng.random() * cum[-1])

    def _interaction(self, iri: str) -> dict[str, Any]:
        kind = iri.rsplit("/", 1)[-1]
        d: dict[str, Any] = {
            "name": _lang(f"Question {iri.rsplit('/', 2)[-2]}"),
            "description": _lang(f"A {kind} question about {self._words(iri, 1)}"),
            "type": "http://adlnet.gov/expapi/activities/cmi.interaction",
            "interactionType": kind,
        }

        def comps(prefix: str, n: int) -> list[dict[str, Any]]:
            return [{"id": f"{prefix}{k}", "description": _lang(f"Option {prefix}{k}")} for k in range(n)]

        if kind == "true-false":
            d["correctResponsesPattern"] = ["true"]
        elif kind == "choice":
            d["choices"] = comps("c", 4)
            d["correctResponsesPattern"] = ["c1[,]c3"]
        elif kind in ("fill-in", "long-fill-in"):
            d["correctResponsesPattern"] = ["{case_matters=false}python"]
        elif kind == "matching":
            d["source"], d["target"] = comps("s", 3), comps("t", 3)
            d["correctResponsesPattern"] = ["s0[.]t1[,]s1[.]t0[,]s2[.]t2"]
        elif kind == "performance":
            d["steps"] = comps("step", 3)
            d["correctResponsesPattern"] = ["step0[.]1[:]3[,]step1[.]a"]
        elif kind == "sequencing":
            d["choices"] = comps("c", 4)
            d["correctResponsesPattern"] = ["c2[,]c0[,]c3[,]c1"]
        elif kind == "likert":
            d["scale"] = comps("l", 5)
            d["correctResponsesPattern"] = ["l4"]
        elif kind == "numeric":
            d["correctResponsesPattern"] = ["4[:]6"]
        return d

    def _activity(self, iri: str, kind: str, name: str) -> dict[str, Any]:
        return {
            "objectType": "Activity",
            "id": iri,
            "definition": {
                "name": _lang(name),
                "description": _lang(f"{name}: {self._words(iri, 12)}"),
                "type": f"http://adlnet.gov/expapi/activities/{kind}",
                "moreInfo": iri + "/info",
            },
        }

    def statement(self) -> dict[str, Any]:
        """The next statement."""
        rng = self.rng
        self.clock += dt.timedelta(milliseconds=rng.randint(1, 2000))
        a = self._pick(self.cum_actor)
        c = self._pick(self.cum_course)
        course = self.courses[c]
        m_iri, lessons = rng.choice(course["modules"])
        l_iri, questions = rng.choice(lessons)
        verb = rng.choices(VERBS, VERB_WEIGHTS)[0]
        actor: dict[str, Any] = self.actors[a]
        if rng.random() < 0.03:
            members = [self.actors[self._pick(self.cum_actor)] for _ in range(rng.randint(2, 4))]
            actor = {"objectType": "Group", "name": f"Team {course['topic']}", "member": members}
            if rng.random() < 0.5:
                actor["account"] = {"homePage": HOME, "name": f"team-{c}-{a % 7}"}
        reg = self.registrations.setdefault((a, c), _uuid(rng))
        context: dict[str, Any] = {
            "registration": reg,
            "contextActivities": {
                "parent": [{"objectType": "Activity", "id": l_iri}],
                "grouping": [{"objectType": "Activity", "id": course["id"]}, {"id": m_iri}],
                "category": [{"id": "https://w3id.org/xapi/cmi5/context/categories/moveon"}],
            },
            "platform": rng.choice(["Moodle 4.3", "Docebo", "Cornerstone", "iOS app 7.2", "Android app 7.1"]),
            "language": "en-US",
            "extensions": {"https://lms.example.com/ext/session": _uuid(rng)},
        }
        if rng.random() < 0.2:
            context["instructor"] = self.actors[(a * 7 + 3) % len(self.actors)]
        stmt: dict[str, Any] = {"id": _uuid(rng), "actor": actor}
        roll = rng.random()
        if roll < 0.01 and self.recent:
            stmt["verb"] = {"id": ADL + "voided", "display": {"en-US": "voided"}}
            stmt["object"] = {"objectType": "StatementRef", "id": self.recent.pop(rng.randrange(len(self.recent)))}
            stmt["timestamp"] = self.clock.isoformat().replace("+00:00", "Z")
            return stmt
        stmt["verb"] = {"id": ADL + verb, "display": {"en-US": verb, "de-DE": verb + " (de)"}}
        if roll < 0.03 and self.recent:
            stmt["object"] = {"objectType": "StatementRef", "id": rng.choice(self.recent)}
        elif roll < 0.05:
            stmt["object"] = {
                "objectType": "SubStatement",
                "actor": self.actors[self._pick(self.cum_actor)],
                "verb": {"id": ADL + "mastered", "display": {"en-US": "will master"}},
                "object": self._activity(course["id"], "course", f"Course {course['topic']}"),
            }
        elif verb in ("answered", "scored", "interacted"):
            q = rng.choice(questions)
            stmt["object"] = {"objectType": "Activity", "id": q, "definition": self._interaction(q)}
        elif verb in ("registered", "completed", "passed", "failed", "mastered"):
            stmt["object"] = self._activity(course["id"], "course", f"Course {course['topic']}")
        else:
            stmt["object"] = self._activity(l_iri, "lesson", f"Lesson {l_iri.rsplit('/', 1)[-1]}")
        if verb in ("answered", "scored", "completed", "passed", "failed", "progressed"):
            raw = rng.randint(0, 100)
            stmt["result"] = {
                "score": {"scaled": raw / 100, "raw": raw, "min": 0, "max": 100},
                "success": raw >= 60,
                "completion": verb != "progressed",
                "duration": f"PT{rng.randint(0, 59)}M{rng.randint(0, 59)}.{rng.randint(0, 99):02d}S",
            }
            if verb == "answered":
                stmt["result"]["response"] = rng.choice(["true", "c1[,]c3", "python", "l4", "5"])
        if stmt["object"].get("objectType") != "Activity":
            del context["platform"]  # D §2.4.6: platform only describes Activities
        stmt["context"] = context
        stmt["timestamp"] = self.clock.isoformat().replace("+00:00", "Z")
        self.recent.append(stmt["id"])
        if len(self.recent) > 500:
            del self.recent[:250]
        return stmt

    def __iter__(self) -> Iterator[dict[str, Any]]:
        """Statements for ever."""
        while True:
            yield self.statement()
