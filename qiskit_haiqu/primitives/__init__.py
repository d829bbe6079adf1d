"""The Haiqu primitives: HaiquSampler, HaiquEstimator, their job and their options."""

from qiskit_haiqu.primitives.estimator import HaiquEstimator
from qiskit_haiqu.primitives.job import HaiquJob
from qiskit_haiqu.primitives.options import (
    DeviceCredentials,
    ErrorMitigationOptions,
    EstimatorOptions,
    SamplerOptions,
)
from qiskit_haiqu.primitives.progress import JobProgress, TerminalProgress
from qiskit_haiqu.primitives.sampler import HaiquSampler

__all__ = [
    "DeviceCredentials",
    "ErrorMitigationOptions",
    "EstimatorOptions",
    "HaiquEstimator",
    "HaiquJob",
    "HaiquSampler",
    "JobProgress",
    "SamplerOptions",
    "TerminalProgress",
]
