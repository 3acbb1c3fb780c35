"""Wire events the unit tests ingest: one issuer, one learner, a course and its retraction."""

from __future__ import annotations

import orjson

UNI = "https://registrar.uni-north.example"
LEARNER = "lrn_0123456789ABCDEFGHJKMNPQRS"


def course(event_id: str) -> bytes:
    """A course completed by ``LEARNER``, from ``UNI``, as the bytes a channel carries."""
    return orjson.dumps(
        {
            "specversion": "1.0",
            "id": event_id,
            "source": UNI,
            "type": "org.lll.learning.course-completed.v1",
            "subject": LEARNER,
            "time": "2024-06-30T12:00:00Z",
            "data": {"courseId": "C-1", "title": "Statistics I", "endDate": "2024-06"},
        }
    )


def retraction(event_id: str, target_id: str) -> bytes:
    """``UNI`` retracting its own event ``target_id`` about ``LEARNER``."""
    return orjson.dumps(
        {
            "specversion": "1.0",
            "id": event_id,
            "source": UNI,
            "type": "org.lll.corrections.event-retracted.v1",
            "subject": LEARNER,
            "time": "2024-07-01T00:00:00Z",
            "data": {
                "target": {"source": UNI, "id": target_id},
                "reason": "wrong learner",
                "retractedAt": "2024-07-01T00:00:00Z",
            },
        }
    )
