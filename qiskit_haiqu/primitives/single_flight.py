"""A thread-safe memo whose concurrent first requests for a key share one call in flight."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import Generic, TypeVar

__all__ = ["SingleFlight"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class SingleFlight(Generic[K, V]):
    """Values by key, each computed once.

    When several threads ask for a key nobody has computed yet, one of them computes it and
    the others wait for that result (or its exception) instead of making the same request:
    16 threads sharing a primitive upload each distinct circuit once. A failed computation
    is not remembered: the next request tries again.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[K, V] = {}
        self._flights: dict[K, Future[V]] = {}

    def get(self, key: K, compute: Callable[[], V]) -> V:
        """The value of ``key``, computing it (once, across threads) when it is missing."""
        with self._lock:
            if key in self._values:
                return self._values[key]
            flight = self._flights.get(key)
            leader = flight is None
            if flight is None:
                flight = self._flights[key] = Future()
        if not leader:
            return flight.result()
        try:
            value = compute()
        except BaseException as exc:
            with self._lock:
                del self._flights[key]
            flight.set_exception(exc)
            raise
        with self._lock:
            self._values[key] = value
            del self._flights[key]
        flight.set_result(value)
        return value

    def peek(self, key: K) -> V | None:
        """The value of ``key`` if it was computed, else ``None`` (never computes)."""
        with self._lock:
            return self._values.get(key)

    def computed(self) -> set[K]:
        """The keys computed so far (a copy, safe to iterate)."""
        with self._lock:
            return set(self._values)

    def clear(self) -> None:
        """Forget every computed value (calls in flight still finish and are remembered)."""
        with self._lock:
            self._values.clear()
