"""Retry policy for idempotent requests: exponential back-off, full jitter, a time budget."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

__all__ = ["RetryPolicy", "parse_retry_after"]

RETRY_STATUSES = frozenset({429, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """How idempotent requests are retried.

    Attributes:
        max_attempts: Attempts in all, the first included.
        backoff: Base delay in seconds; attempt ``n`` waits up to ``backoff * factor**n``.
        factor: Growth of the delay per attempt.
        max_backoff: Cap of one delay.
        max_total_wait: Total seconds spent waiting between attempts, at most.
        max_search_wait: Seconds spent pausing between searches for a job or circuit whose
            creation reply was lost, when the search itself keeps failing.
        statuses: HTTP statuses that are retried.
        sleep: The sleeping function (tests replace it).
    """

    max_attempts: int = 5
    backoff: float = 0.25
    factor: float = 2.0
    max_backoff: float = 8.0
    max_total_wait: float = 60.0
    max_search_wait: float = 30.0
    statuses: frozenset[int] = RETRY_STATUSES
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False, repr=False)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (``attempt`` counts from 0)."""
        if retry_after is not None:
            return max(0.0, retry_after)
        return random.uniform(0.0, self.ceiling(attempt))

    def ceiling(self, attempt: int) -> float:
        """The longest delay before attempt ``attempt + 1``, without jitter."""
        return min(self.max_backoff, self.backoff * self.factor**attempt)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (seconds or an HTTP date), or ``None``."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())
