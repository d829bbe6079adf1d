"""The errors qiskit-haiqu raises.

Every error derives from :class:`HaiquError` (itself a ``QiskitError``), and every message
says what happened and what to do next. No message, repr or attribute ever holds the API
key: URLs are redacted before they reach an error.

::

    HaiquError (QiskitError)
    ├── HaiquConfigurationError (ValueError)    missing key, insecure URL, bad settings
    ├── HaiquInputError (ValueError)            bad pubs / options, refused before any upload
    │   └── UnknownOptionError (AttributeError) an option name the options do not have
    ├── HaiquAPIError                           an HTTP exchange with the service went wrong
    │   ├── HaiquConnectionError                no answer: refused, reset, timed out
    │   ├── HaiquInvalidResponseError           a 2xx body that does not parse
    │   └── HaiquHTTPStatusError                a non-2xx answer
    │       ├── AuthenticationError             401
    │       ├── InsufficientCreditsError        402
    │       ├── NotFoundError                   404
    │       ├── InvalidRequestError             422 (carries the server's detail)
    │       ├── OutdatedClientError             426
    │       ├── RateLimitedError                429 (carries Retry-After)
    │       └── ServerError                     5xx
    └── HaiquJobError (qiskit JobError)         a remote job did not give a result
        ├── JobFailedError                      the job ended ``Error`` (carries its logs)
        ├── JobCancelledError                   the job was cancelled
        ├── JobTimeoutError (JobTimeoutError)   ``result(timeout=...)`` ran out; job still runs
        └── UnknownJobStatusError               the server sent a status this client does not know

``RequestValidationError`` is a deprecated alias of :class:`InvalidRequestError` (it shared
FastAPI's name); importing it warns.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any, TypeVar

from qiskit.exceptions import QiskitError
from qiskit.providers import JobError
from qiskit.providers import JobTimeoutError as QiskitJobTimeoutError

__all__ = [
    "AuthenticationError",
    "HaiquAPIError",
    "HaiquConfigurationError",
    "HaiquConnectionError",
    "HaiquError",
    "HaiquHTTPStatusError",
    "HaiquInputError",
    "HaiquInvalidResponseError",
    "HaiquJobError",
    "InsufficientCreditsError",
    "InvalidRequestError",
    "JobCancelledError",
    "JobFailedError",
    "JobTimeoutError",
    "NotFoundError",
    "OutdatedClientError",
    "RateLimitedError",
    "ServerError",
    "UnknownJobStatusError",
    "UnknownOptionError",
]

APIErrorT = TypeVar("APIErrorT", bound="HaiquAPIError")


class HaiquError(QiskitError):
    """Base class of every error raised by qiskit-haiqu."""

    def __init__(self, message: str) -> None:
        super().__init__(message)

    def __str__(self) -> str:
        return str(self.message)


class HaiquConfigurationError(HaiquError, ValueError):
    """The client or a primitive was set up in a way that cannot work (no key, insecure URL)."""


class HaiquInputError(HaiquError, ValueError):
    """A pub, an option or a value was refused before anything was uploaded or billed."""


class UnknownOptionError(HaiquInputError, AttributeError):
    """An option name that the options model does not have.

    It is an ``AttributeError`` (reading ``options.twirling``, ``hasattr`` and ``getattr`` with
    a default work as for any object) and a :class:`HaiquInputError` (a ``ValueError``),
    raised alike for attributes, assignments and dict keys; a qiskit-ibm-runtime name gets
    its Haiqu equivalent.
    """


class HaiquAPIError(HaiquError):
    """An exchange with the Haiqu API failed.

    Attributes:
        method: The HTTP method of the request.
        url: The request URL, with any API key redacted.
        submission_token: When a job submission's outcome is unknown (its reply was lost
            or unreadable and the service could not be asked), the ``[qh:...]`` token in the
            description of the job it may have created; empty otherwise.
    """

    def __init__(
        self, message: str, *, method: str = "", url: str = "", submission_token: str = ""
    ) -> None:
        super().__init__(message)
        self.method = method
        self.url = url
        self.submission_token = submission_token

    def with_message(
        self: APIErrorT, message: str, *, submission_token: str | None = None
    ) -> APIErrorT:
        """A new error of this type, with these fields and ``message``; this one is unchanged.

        Args:
            message: The new error's whole message.
            submission_token: The new error's :attr:`submission_token`, when given.
        """
        fields = {k: v for k, v in vars(self).items() if k != "message" and not k.startswith("_")}
        if submission_token is not None:
            fields["submission_token"] = submission_token
        return type(self)(message, **fields)


class HaiquConnectionError(HaiquAPIError):
    """The service did not answer (connection refused or reset, or a timeout)."""


class HaiquInvalidResponseError(HaiquAPIError):
    """The service answered 2xx with a body this client cannot read."""


class HaiquHTTPStatusError(HaiquAPIError):
    """The service answered with a non-2xx status.

    Attributes:
        status_code: The HTTP status code.
        detail: The decoded error body (FastAPI's ``detail`` when present), or ``None``.
    """

    def __init__(
        self,
        message: str,
        *,
        method: str = "",
        url: str = "",
        status_code: int = 0,
        detail: Any = None,
        submission_token: str = "",
    ) -> None:
        super().__init__(message, method=method, url=url, submission_token=submission_token)
        self.status_code = status_code
        self.detail = detail


class AuthenticationError(HaiquHTTPStatusError):
    """401: the API key was rejected."""


class InsufficientCreditsError(HaiquHTTPStatusError):
    """402: the account has not enough credits for this job."""


class NotFoundError(HaiquHTTPStatusError):
    """404: the job, circuit, experiment or device does not exist."""


class InvalidRequestError(HaiquHTTPStatusError):
    """422: the service refused the request as invalid; ``detail`` holds its explanation."""


class OutdatedClientError(HaiquHTTPStatusError):
    """426: the server requires a newer client.

    Attributes:
        sdk_version: The haiqu-sdk protocol version that was sent (``haiqu-sdk-version``).
    """

    def __init__(self, message: str, *, sdk_version: str = "", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.sdk_version = sdk_version


class RateLimitedError(HaiquHTTPStatusError):
    """429: too many requests.

    Attributes:
        retry_after: Seconds the server asked to wait, when it said.
    """

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(HaiquHTTPStatusError):
    """5xx: the service failed."""


class HaiquJobError(HaiquError, JobError):
    """A remote job did not produce a result.

    Attributes:
        job_id: The Haiqu job id.
    """

    def __init__(self, message: str, *, job_id: str = "") -> None:
        super().__init__(message)
        self.job_id = job_id


class JobFailedError(HaiquJobError):
    """The job ended with status ``Error``; ``logs`` holds the server's explanation."""

    def __init__(self, message: str, *, job_id: str = "", logs: str | None = None) -> None:
        super().__init__(message, job_id=job_id)
        self.logs = logs


class JobCancelledError(HaiquJobError):
    """The job was cancelled and has no result."""


class JobTimeoutError(HaiquJobError, QiskitJobTimeoutError):
    """Waiting for the job ran out of time; the job itself keeps running on the server."""


class UnknownJobStatusError(HaiquJobError):
    """The server reported a job status that this version of qiskit-haiqu does not know."""


_DEPRECATED_ALIASES = {"RequestValidationError": "InvalidRequestError"}
"""Old names still importable (with a warning), and the name each one now has."""

if TYPE_CHECKING:
    RequestValidationError = InvalidRequestError
else:

    def __getattr__(name: str) -> Any:
        """The class a deprecated alias names, with a ``DeprecationWarning``."""
        return deprecated_alias(name, __name__)


def deprecated_alias(name: str, module: str) -> type[HaiquError]:
    """The error class the deprecated alias ``name`` stands for, after a warning.

    Raises:
        AttributeError: ``name`` is not a deprecated alias (the usual message).
    """
    new = _DEPRECATED_ALIASES.get(name)
    if new is None:
        raise AttributeError(f"module {module!r} has no attribute {name!r}")
    warnings.warn(
        f"{module}.{name} is deprecated: it is now called {new} (the same class).",
        DeprecationWarning,
        stacklevel=3,
    )
    found: type[HaiquError] = globals()[new]
    return found
