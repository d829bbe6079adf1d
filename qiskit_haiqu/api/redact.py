"""Keeping the API key and device credentials out of everything a user can see.

The API key is masked as ``***``; the secret device credentials (``haiqu-api.md`` §8) as
``**********``, the mask pydantic's ``SecretStr`` shows. The region, instance and server URL
that travel with them are not secret and stay readable.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

from qiskit_haiqu.api.bodies import RawRows
from qiskit_haiqu.api.flow import CREDENTIAL_KEYS
from qiskit_haiqu.errors import HaiquConfigurationError

__all__ = [
    "HTTP_LOGGERS",
    "PLAIN_CREDENTIAL_KEYS",
    "SECRET_CREDENTIAL_KEYS",
    "SECRET_MASK",
    "RedactingFilter",
    "clean_api_key",
    "install_log_redaction",
    "mask_credentials",
    "mask_key",
    "redact",
    "redact_data",
]

SECRET_MASK = "**********"  # noqa: S105 - the mask, not a secret
"""What a secret device credential shows instead of its value (as pydantic's ``SecretStr``)."""

PLAIN_CREDENTIAL_KEYS = frozenset({"aws_default_region", "ibm_quantum_instance", "iqm_server_url"})
"""Device-credential names whose values are settings, not secrets (shown as they are)."""

SECRET_CREDENTIAL_KEYS = CREDENTIAL_KEYS - PLAIN_CREDENTIAL_KEYS
"""Device-credential names whose values are secrets: masked wherever they are shown."""

_QUERY_KEY = re.compile(r"(HAIQU_API_KEY=)[^&#\s'\"]*", re.IGNORECASE)
_SECRET_NAMES = "|".join(sorted(SECRET_CREDENTIAL_KEYS))
# ``'iqm_token': 'value'`` (a dict's repr), ``"iqm_token":"value"`` (JSON), ``iqm_token='value'``
_QUOTED_CREDENTIAL = re.compile(
    rf"""(\b(?:{_SECRET_NAMES})["']?\s*[:=]\s*)(["'])(?:(?!\2)[^\n])*\2"""
)
# ``iqm_token=value`` (a query string, keyword-style text); ``SecretStr(...)`` is masked already.
_BARE_CREDENTIAL = re.compile(rf"""(\b(?:{_SECRET_NAMES})=)(?!["']|SecretStr\()[^&#\s,;)}}\]]+""")


def redact(text: str, secret: str | None = None) -> str:
    """``text`` with the key's query parameter, any occurrence of ``secret`` and the value
    written after a secret device-credential name masked."""
    text = _QUERY_KEY.sub(r"\1***", text)
    text = _QUOTED_CREDENTIAL.sub(rf"\1\2{SECRET_MASK}\2", text)
    text = _BARE_CREDENTIAL.sub(rf"\1{SECRET_MASK}", text)
    if secret:
        text = text.replace(secret, "***")
    return text


def _needs_redaction(text: str) -> bool:
    """Whether :func:`redact` (without a ``secret``) would change ``text``."""
    return redact(text) != text


def mask_credentials(value: Any) -> Any:
    """``value`` (JSON-like data) with every secret device credential's value masked.

    Objects are searched at any depth for the names in :data:`SECRET_CREDENTIAL_KEYS`; an
    error entry of FastAPI's 422 ``detail`` whose ``loc`` names one also has its ``input``
    masked. ``None`` values stay ``None`` (nothing is hidden there). ``value`` is not changed.
    """
    if isinstance(value, Mapping):
        loc = value.get("loc")
        about_secret = isinstance(loc, list | tuple) and any(
            str(part) in SECRET_CREDENTIAL_KEYS for part in loc
        )
        return {
            key: (
                SECRET_MASK
                if item is not None
                and (key in SECRET_CREDENTIAL_KEYS or (about_secret and key == "input"))
                else mask_credentials(item)
            )
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(mask_credentials(item) for item in value)
    if isinstance(value, RawRows):
        return [mask_credentials(item) for item in value]
    return value


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
    """``value`` (JSON-like data) with :func:`mask_credentials` applied, then :func:`redact`
    applied to every string in it."""
    return _redact_strings(mask_credentials(value), secret)


def _redact_strings(value: Any, secret: str | None) -> Any:
    if isinstance(value, str):
        return redact(value, secret)
    if isinstance(value, list | tuple):
        return type(value)(_redact_strings(item, secret) for item in value)
    if isinstance(value, dict):
        return {_redact_strings(k, secret): _redact_strings(v, secret) for k, v in value.items()}
    return value


class RedactingFilter(logging.Filter):
    """Masks ``HAIQU_API_KEY=...`` (httpx and uvicorn log full URLs at INFO) and the values of
    secret device credentials written after their names in log records.

    The record's arguments are redacted one by one, so formatters that read them (uvicorn's
    access log does) keep working; only when that is not enough is the message flattened.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message without the key; never drops a record."""
        if not _needs_redaction(record.getMessage()):
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
    return redact(text) if _needs_redaction(text) else value


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
