"""JSON answers encoded once by orjson, instead of by FastAPI's generic validation and encoding.

A route that returns a ``Response`` is answered as it is: FastAPI neither validates the
content against the route's ``response_model`` (for a ``def`` route that validation is
one more hop through the thread pool) nor serialises it again. Routes keep their
``response_model`` and ``responses=`` so the OpenAPI description is unchanged; the bytes
are those FastAPI would have sent for the same content (compact separators, UTF-8 text
unescaped, the same float forms).
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response


class JsonResponse(Response):
    """``application/json`` content encoded by ``orjson.dumps``.

    For JSON-native content only (str keys, str, int within 64 bits, float, bool, None,
    lists, dicts): what the read models and the log hold, since they are stored and
    decoded as JSON by orjson already.

    Raises:
        TypeError: content orjson cannot encode (a programming error: 500).
    """

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)
