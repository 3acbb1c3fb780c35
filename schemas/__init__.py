"""Event contracts: the CloudEvents envelope and one versioned JSON Schema per event type."""

from schemas.catalogue import Catalogue, EventType, load_catalogue
from schemas.validation import EventValidator, Problem

__all__ = ["Catalogue", "EventType", "EventValidator", "Problem", "load_catalogue"]
