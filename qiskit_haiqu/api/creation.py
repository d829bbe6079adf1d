"""Creating exactly once: a POST whose reply is lost or unreadable is resolved by a search.

``POST /run`` bills; ``POST /circuits`` stores. Neither is blindly retried. When the request
may have reached the service (a lost reply) or reached it for sure (a 2xx body that cannot be
read), the object it would have created is searched for (a job by its submission token, a
circuit by its hash). It is sent again only when three searches agree that nothing was
created. When the searches keep failing, the error says that the outcome is unknown and how
to find out.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import httpx

from qiskit_haiqu.api.retry import RetryPolicy
from qiskit_haiqu.api.transport import Ambiguous
from qiskit_haiqu.errors import (
    HaiquAPIError,
    HaiquConnectionError,
    HaiquInvalidResponseError,
    RateLimitedError,
    ServerError,
)

__all__ = ["Ambiguous", "Creation", "Creator"]

logger = logging.getLogger("qiskit_haiqu")

T = TypeVar("T")
ErrorT = TypeVar("ErrorT", bound=HaiquAPIError)

# A creation is taken as never received only after three searches that all missed it, with
# these pauses between them.
MISS_PAUSES = (0.5, 1.5)
# Search failures worth another search after a pause; any other failure ends the search.
TRANSIENT = (HaiquConnectionError, HaiquInvalidResponseError, RateLimitedError, ServerError)


class _CannotTell(Exception):
    """The searches kept failing, or ran out of time."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Creation(Generic[T]):
    """A POST that must create its object exactly once, and how to find that object.

    Attributes:
        path: The endpoint.
        payload: The JSON body.
        noun: What it creates, for messages ("job", "circuit").
        read: The created object from a 2xx body, or ``None`` when the body is unreadable.
        look: One search for the object; ``None`` when it is not there.
        hint: How the user finds the object, and what running again costs.
        token: The submission token the object carries, if any.
    """

    path: str
    payload: bytes
    noun: str
    read: Callable[[bytes], T | None]
    look: Callable[[], T | None]
    hint: str
    token: str = ""


class Creator:
    """Sends creations exactly once through a client's transport."""

    def __init__(
        self,
        send: Callable[[str, bytes], httpx.Response],
        invalid: Callable[[str, str, str], HaiquInvalidResponseError],
        retry: RetryPolicy,
    ) -> None:
        """Wire the creator to a client.

        Args:
            send: Sends ``(path, payload)`` once; raises :class:`Ambiguous` when the request
                may have been acted on without an answer.
            invalid: Builds the error of an unreadable reply from ``(method, path, what)``.
            retry: Its ``max_search_wait``, ``ceiling`` and ``sleep`` pace the searches.
        """
        self._send = send
        self._invalid = invalid
        self._retry = retry

    def create(self, creation: Creation[T]) -> T:
        """POST ``creation``; after a lost or unreadable reply, find what it created.

        Raises:
            HaiquAPIError: the request was refused, or its outcome is unknown (the message
                says so, with ``creation.hint``; ``submission_token`` is ``creation.token``).
        """
        for attempt in range(2):
            try:
                response = self._send(creation.path, creation.payload)
            except Ambiguous as ambiguous:
                logger.warning(
                    "POST %s: the reply was lost (%s); looking for the %s before sending again",
                    creation.path,
                    type(ambiguous.error).__name__,
                    creation.noun,
                )
                found = self._resolve(creation, ambiguous.error, "its reply was lost")
                if found is not None:
                    return found
                if attempt == 1:
                    what = f"it was sent twice, both replies were lost, and no {creation.noun}"
                    raise _unresolved(creation, ambiguous.error, f"{what} was found") from None
                continue
            made = creation.read(response.content)
            if made is not None:
                return made
            invalid = self._invalid("POST", creation.path, f"a {creation.noun}")
            logger.warning("%s; looking for the %s it created", invalid, creation.noun)
            found = self._resolve(creation, invalid, "its reply could not be read")
            if found is not None:
                return found
            what = f"the service answered, but no {creation.noun} was found"
            raise _unresolved(creation, invalid, what)
        raise AssertionError("unreachable")  # pragma: no cover

    def _resolve(self, creation: Creation[T], error: HaiquAPIError, what: str) -> T | None:
        """The object ``creation`` made, ``None`` if it provably made none; else raise."""
        try:
            found = self._search(creation.look)
        except _CannotTell as unknown:
            raise _unresolved(
                creation,
                error,
                f"{what}, and the service could not be asked whether the {creation.noun} "
                f"exists ({unknown.reason})",
            ) from None
        if found is not None:
            logger.info("POST %s: found the %s it created", creation.path, creation.noun)
        return found

    def _search(self, look: Callable[[], T | None]) -> T | None:
        """Run ``look`` until it finds the object or has missed it three times.

        Failed searches are repeated with back-off while ``max_search_wait`` allows.

        Raises:
            _CannotTell: the searches kept failing, or a failure was not transient.
        """
        misses = failures = 0
        waited = 0.0
        started = time.monotonic()
        reason = "the search ran out of time"
        while True:
            try:
                found = look()
            except TRANSIENT as exc:
                failures += 1
                reason = f"{type(exc).__name__}: {exc}"
                pause = self._retry.ceiling(failures)
            except HaiquAPIError as exc:
                raise _CannotTell(f"{type(exc).__name__}: {exc}") from None
            else:
                if found is not None:
                    return found
                misses += 1
                if misses > len(MISS_PAUSES):
                    return None
                pause = MISS_PAUSES[misses - 1]
            budget = self._retry.max_search_wait
            if waited + pause > budget or time.monotonic() - started > budget:
                raise _CannotTell(reason)
            logger.info("Searching again in %.2f s (%s)", pause, reason if failures else "missed")
            self._retry.sleep(pause)
            waited += pause


def _unresolved(creation: Creation[T], error: ErrorT, what: str) -> ErrorT:
    """A new ``error``, its message saying that the outcome is unknown and how to find out."""
    return error.with_message(
        f"{error.message} The outcome of POST {creation.path} is unknown: {what}. {creation.hint}",
        submission_token=creation.token,
    )
