"""Keeping the API key out of everything a user can see."""

from __future__ import annotations

import re

__all__ = ["mask_key", "redact"]

_QUERY_KEY = re.compile(r"(HAIQU_API_KEY=)[^&#\s'\"]*", re.IGNORECASE)


def redact(text: str, secret: str | None = None) -> str:
    """``text`` with the key's query parameter and any occurrence of ``secret`` masked."""
    text = _QUERY_KEY.sub(r"\1***", text)
    if secret:
        text = text.replace(secret, "***")
    return text


def mask_key(secret: str | None) -> str:
    """A display form of a key that reveals nothing of it."""
    return "***" if secret else "<none>"
