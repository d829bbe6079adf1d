"""What a job needs to be decoded again later, stored in its description.

A reattached job (``HaiquSampler.job(id)`` in another process) has the circuits (their QPY is
stored by the service) but not the pub shapes; this packs them into a short marker that rides
in the job's ``description``: ``[qhc:<base64 of zlib'd JSON>]``.
"""

from __future__ import annotations

import base64
import json
import re
import zlib
from typing import Any

__all__ = ["MAX_CONTEXT_CHARS", "read_context", "write_context"]

MAX_CONTEXT_CHARS = 700
"""Longer contexts are not stored (the description holds 1024 characters in all)."""

_MARKER = re.compile(r"\[qhc:([A-Za-z0-9+/=]+)\]")


def write_context(context: dict[str, Any]) -> str | None:
    """The marker for ``context``, or ``None`` when it would be too long to store."""
    packed = zlib.compress(json.dumps(context, separators=(",", ":")).encode(), 9)
    marker = f"[qhc:{base64.b64encode(packed).decode('ascii')}]"
    return marker if len(marker) <= MAX_CONTEXT_CHARS else None


def read_context(description: str | None) -> dict[str, Any] | None:
    """The context stored in a job description, or ``None`` when it has none."""
    found = _MARKER.search(description or "")
    if found is None:
        return None
    try:
        value = json.loads(zlib.decompress(base64.b64decode(found.group(1))))
    except (ValueError, zlib.error):
        return None
    return value if isinstance(value, dict) else None
