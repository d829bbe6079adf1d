"""What qiskit-haiqu logs, and what it keeps its HTTP library from logging.

At INFO the ``qiskit_haiqu`` logger reports each job's submission and each of its status
changes once. ``httpx`` would add one INFO line per HTTP request, a line per status poll,
so importing qiskit-haiqu sets the ``httpx`` and ``httpcore`` loggers to WARNING, unless
their level was set before (by you, or by ``logging.config``): a level you set, before or
after the import, always wins. The requests themselves are logged at DEBUG by the
``qiskit_haiqu`` logger.
"""

from __future__ import annotations

import logging

__all__ = ["HTTP_LIBRARY_LOGGERS", "quiet_http_loggers"]

HTTP_LIBRARY_LOGGERS = ("httpx", "httpcore")
"""The loggers of the HTTP stack that speak once per request (or more)."""


def quiet_http_loggers() -> None:
    """Set each of :data:`HTTP_LIBRARY_LOGGERS` to WARNING unless it has a level already."""
    for name in HTTP_LIBRARY_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.WARNING)
