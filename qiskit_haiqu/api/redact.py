"""Keeping the API key out of everything a user can see."""

from __future__ import annotations

import logging
import re
from typing import Any

__all__ = ["RedactingFilter", "install_log_redaction", "mask_key", "redact", "redact_data"]

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


def redact_data(value: Any, secret: str | None = None) -> Any:
    """``value`` (JSON-like data) with :func:`redact` applied to every string in it."""
    if isinstance(value, str):
        return redact(value, secret)
    if isinstance(value, list | tuple):
        return type(value)(redact_data(item, secret) for item in value)
    if isinstance(value, dict):
        return {redact_data(k, secret): redact_data(v, secret) for k, v in value.items()}
    return value


class RedactingFilter(logging.Filter):
    """Masks ``HAIQU_API_KEY=...`` in log records (httpx logs full URLs at INFO)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message without the key; never drops a record."""
        message = record.getMessage()
        if "HAIQU_API_KEY" in message.upper():
            record.msg = redact(message)
            record.args = None
        return True


_FILTER = RedactingFilter()


def install_log_redaction() -> None:
    """Attach the redacting filter to the loggers of the HTTP stack (idempotent)."""
    for name in ("httpx", "httpcore", "qiskit_haiqu"):
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
