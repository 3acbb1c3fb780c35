"""The demo's event builder, its population record, and pathway definitions."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from demo.reference import (
    CROCKFORD,
    EMPLOYERS,
    FIELD_INSTITUTION,
    FIELDS,
    INSTITUTIONS,
    SKILLS,
    TYPE,
    IssuerSpec,
)
from ledger.records import LEDGER_SOURCE
from schemas.times import utc_seconds


@dataclass
class Population:
    """What ``generate`` produces: issuers, valid events (in time order), bad inputs."""

    issuers: list[IssuerSpec]
    events: list[dict[str, Any]] = field(default_factory=list)
    bad_lines: list[tuple[str, bytes]] = field(default_factory=list)
    learners: list[str] = field(default_factory=list)
    erasure_requested: list[str] = field(default_factory=list)


class EventBuilder:
    def __init__(self, rng: random.Random, population: Population) -> None:
        self.rng = rng
        self.pop = population
        self.seq: dict[str, int] = {}
        self.by_id = {i.id: i for i in (*INSTITUTIONS, *EMPLOYERS)}

    def emit(
        self, issuer: str, kind: str, subject: str | None, when: datetime, data: dict[str, Any]
    ) -> dict[str, Any]:
        source = LEDGER_SOURCE if issuer == "ledger" else self.by_id[issuer].source
        n = self.seq[issuer] = self.seq.get(issuer, 0) + 1
        ev: dict[str, Any] = {
            "specversion": "1.0",
            "id": f"{issuer}-{n:08d}",
            "source": source,
            "type": TYPE.format(kind),
            "time": utc_seconds(when),
            "datacontenttype": "application/json",
            "data": data,
        }
        if subject is not None:
            ev["subject"] = subject
        self.pop.events.append(ev)
        return ev


def learner_id(rng: random.Random) -> str:
    return "lrn_" + "".join(rng.choice(CROCKFORD) for _ in range(26))


def day(d: datetime) -> str:
    return d.strftime("%Y-%m-%d")


def define_pathways(b: EventBuilder, start: datetime) -> dict[str, list[dict[str, Any]]]:
    """Each field's stackable micro-credentials towards a certificate."""
    out: dict[str, list[dict[str, Any]]] = {}
    for f in FIELDS:
        inst = FIELD_INSTITUTION[f]
        comps = [
            {
                "achievementId": f"{f}-mc-{i}",
                "title": f"{SKILLS[f][i].capitalize()} micro-credential",
                "required": i < 3,
            }
            for i in range(5)
        ]
        b.emit(
            inst,
            "credentials.pathway-defined",
            None,
            start,
            {
                "pathwayId": f"{f}-certificate-pathway",
                "title": f"Certificate in {f.capitalize()}",
                "description": f"Three core and one of two elective micro-credentials in {f}.",
                "target": {
                    "achievementId": f"{f}-certificate",
                    "title": f"Certificate in {f.capitalize()}",
                    "kind": "certificate",
                },
                "components": comps,
                "minimumOptional": 1,
            },
        )
        out[f] = comps
    return out
