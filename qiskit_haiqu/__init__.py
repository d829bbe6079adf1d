"""qiskit-haiqu: Qiskit V2 primitives on the Haiqu quantum cloud.

Change one import and run Qiskit's Sampler/Estimator workflows on Haiqu::

    from qiskit_haiqu import HaiquSampler, HaiquEstimator

``HaiquService`` gives the devices as Qiskit backends (``HaiquBackend``, with a target to
transpile for) and finds jobs again by id.
"""

from qiskit_haiqu._version import __version__
from qiskit_haiqu.api.client import HaiquClient
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
    JobCancelledError,
    JobFailedError,
    JobTimeoutError,
    NotFoundError,
    OutdatedClientError,
    RateLimitedError,
    RequestValidationError,
    ServerError,
    UnknownJobStatusError,
    UnknownOptionError,
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
    "JobCancelledError",
    "JobFailedError",
    "JobProgress",
    "JobTimeoutError",
    "NotFoundError",
    "OutdatedClientError",
    "RateLimitedError",
    "RequestValidationError",
    "SamplerOptions",
    "ServerError",
    "TerminalProgress",
    "UnknownJobStatusError",
    "UnknownOptionError",
    "__version__",
]
