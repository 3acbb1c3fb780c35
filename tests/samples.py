"""1EdTech's published sample credentials (tests/data/1edtech/samples), as a channel carries them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SAMPLES = Path(__file__).resolve().parent / "data" / "1edtech" / "samples"
# The samples whose every proof verifies (the others are named for the error they hold).
VALID_JSON = (
    "ob30-simple.json",
    "ob30-simple-eddsa-2022.json",
    "ob30-simple-did-key-method.json",
    "clr20-simple.json",
)


def sample(name: str) -> Any:
    """The sample ``name``: a VC-JWT's compact text, or a JSON credential's document."""
    text = (SAMPLES / name).read_text()
    return text.strip() if name.endswith(".jwt") else json.loads(text)
