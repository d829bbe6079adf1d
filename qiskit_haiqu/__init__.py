"""qiskit-haiqu: Qiskit V2 primitives on the Haiqu quantum cloud.

Change one import and run Qiskit's Sampler/Estimator workflows on Haiqu::

    from qiskit_haiqu import HaiquSampler, HaiquEstimator

``HaiquService`` gives the devices as Qiskit backends (``HaiquBackend``, with a target to
transpile for) and finds jobs again by id.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from qiskit_haiqu._version import __version__
from qiskit_haiqu.api.client import HaiquClient
from qiskit_haiqu.api.local_server import LocalServer, register_local_server
from qiskit_haiqu.api.retry import RetryPolicy
from qiskit_haiqu.backend import HaiquBackend, HaiquBackendJob
from qiskit_haiqu.errors import (
    AuthenticationError,
    HaiquAPIError,
    HaiquConfigurationError,
    HaiquConnectionError,
    HaiquError,
    HaiquHTTPStatusError,
    HaiquInputError,
    HaiquInvalidResponseError,
    HaiquJobError,
    InsufficientCreditsError,
    InvalidRequestError,
    JobCancelledError,
    JobFailedError,
    JobTimeoutError,
    NotFoundError,
    OutdatedClientError,
    RateLimitedError,
    ServerError,
    UnknownJobStatusError,
    UnknownOptionError,
    deprecated_alias,
)
from qiskit_haiqu.primitives import (
    DeviceCredentials,
    ErrorMitigationOptions,
    EstimatorOptions,
    HaiquEstimator,
    HaiquJob,
    HaiquSampler,
    JobProgress,
    SamplerOptions,
    TerminalProgress,
)
from qiskit_haiqu.service import HaiquService

__all__ = [
    "AuthenticationError",
    "DeviceCredentials",
    "ErrorMitigationOptions",
    "EstimatorOptions",
    "HaiquAPIError",
    "HaiquBackend",
    "HaiquBackendJob",
    "HaiquClient",
    "HaiquConfigurationError",
    "HaiquConnectionError",
    "HaiquError",
    "HaiquEstimator",
    "HaiquHTTPStatusError",
    "HaiquInputError",
    "HaiquInvalidResponseError",
    "HaiquJob",
    "HaiquJobError",
    "HaiquSampler",
    "HaiquService",
    "InsufficientCreditsError",
    "InvalidRequestError",
    "JobCancelledError",
    "JobFailedError",
    "JobProgress",
    "JobTimeoutError",
    "NotFoundError",
    "OutdatedClientError",
    "RateLimitedError",
    "RetryPolicy",
    "SamplerOptions",
    "ServerError",
    "TerminalProgress",
    "UnknownJobStatusError",
    "UnknownOptionError",
    "__version__",
]


def _embedded_emulator(settings: Mapping[str, Any] | None) -> LocalServer:
    """The server for ``url="local"``, from the emulator package, imported only now (it needs
    the ``emulator`` extra: FastAPI, uvicorn, qiskit-aer)."""
    from qiskit_haiqu.emulator.embedded import local_server

    return local_server(settings)


register_local_server(_embedded_emulator)

if TYPE_CHECKING:
    from qiskit_haiqu.errors import RequestValidationError  # noqa: F401 - deprecated alias
else:

    def __getattr__(name: str) -> Any:
        """A deprecated alias (``RequestValidationError``), with a ``DeprecationWarning``."""
        return deprecated_alias(name, __name__)
