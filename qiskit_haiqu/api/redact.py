"""Keeping the API key out of everything a user can see."""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

from qiskit_haiqu.errors import HaiquConfigurationError

__all__ = [
    "HTTP_LOGGERS",
    "RedactingFilter",
    "clean_api_key",
    "install_log_redaction",
    "mask_key",
    "redact",
    "redact_data",
]

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


def clean_api_key(key: object) -> str:
    """The key ready for a header: surrounding whitespace removed (with a warning).

    Nothing said here, warning or error, contains the key or any part of it.

    Raises:
        HaiquConfigurationError: the key is not a string, is blank, or holds non-ASCII or
            control characters (which no HTTP header can carry).
    """
    if not isinstance(key, str):
        raise HaiquConfigurationError(f"The Haiqu API key must be a str, not {type(key).__name__}.")
    stripped = key.strip()
    if not stripped:
        raise HaiquConfigurationError(
            "The Haiqu API key is blank. Pass HaiquClient(api_key=...) or set HAIQU_API_KEY."
        )
    if stripped != key:
        warnings.warn(
            "The Haiqu API key had surrounding whitespace (a trailing newline read from a "
            "file?); it was removed.",
            UserWarning,
            stacklevel=3,
        )
    bad = [i for i, char in enumerate(stripped) if not (char.isascii() and char.isprintable())]
    if bad:
        raise HaiquConfigurationError(
            f"The Haiqu API key contains {len(bad)} non-ASCII or control character(s) (the "
            f"first at position {bad[0] + 1}), which an API key never has. Copy the key again "
            "from the Haiqu dashboard into HAIQU_API_KEY (or api_key=...)."
        )
    return stripped


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
    """Masks ``HAIQU_API_KEY=...`` in log records (httpx and uvicorn log full URLs at INFO).

    The record's arguments are redacted one by one, so formatters that read them (uvicorn's
    access log does) keep working; only when that is not enough is the message flattened.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message without the key; never drops a record."""
        if not _QUERY_KEY.search(record.getMessage()):
            return True
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redact_arg(arg) for arg in record.args)
        elif isinstance(record.args, Mapping):
            record.args = {key: _redact_arg(arg) for key, arg in record.args.items()}
        message = record.getMessage()
        if redact(message) != message:
            record.msg, record.args = redact(message), None
        return True


def _redact_arg(value: object) -> object:
    """A log argument without the key (numbers stay numbers for ``%d``)."""
    if isinstance(value, int | float):
        return value
    text = value if isinstance(value, str) else str(value)
    return redact(text) if _QUERY_KEY.search(text) else value


_FILTER = RedactingFilter()
# Logger filters see only the records of their own logger, not of its children.
HTTP_LOGGERS = (
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "qiskit_haiqu",
)


def install_log_redaction(names: Iterable[str] = HTTP_LOGGERS) -> None:
    """Attach the redacting filter to these loggers (idempotent).

    Args:
        names: Logger names; by default the client's HTTP stack. The emulator adds
            uvicorn's loggers, whose access log prints request URLs.
    """
    for name in names:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
