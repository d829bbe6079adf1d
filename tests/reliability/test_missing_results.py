"""A final job whose results are missing is an error, never empty or zero-filled data."""

from __future__ import annotations

from collections.abc import Iterator

import plain_http
import pytest
from qiskit.quantum_info import SparsePauliOp
from shared_circuits import bell

from qiskit_haiqu import HaiquEstimator, HaiquInvalidResponseError, HaiquSampler


@pytest.fixture
def patched_jobs(emulator) -> Iterator[object]:
    def patch(values: dict[str, object]) -> None:
        rule = {
            "method": "GET",
            "path": "^/jobs/",
            "action": "patch",
            "patch": values,
            "count": 1000,
        }
        plain_http.post(f"{emulator.url}/_emulator/faults", json=[rule]).raise_for_status()

    yield patch
    plain_http.delete(f"{emulator.url}/_emulator/faults").raise_for_status()


@pytest.mark.parametrize("missing", [None, [], [{"00": 1.0}, {"11": 1.0}]])
def test_sampler_refuses_missing_or_miscounted_results(client, patched_jobs, missing):
    patched_jobs({"quantum_results": missing})
    job = HaiquSampler("aer_simulator", client=client).run([bell()], shots=8)
    with pytest.raises(HaiquInvalidResponseError, match="results for its 1 circuit"):
        job.result()


@pytest.mark.parametrize("missing", [None, []])
def test_estimator_refuses_missing_results(client, patched_jobs, missing):
    patched_jobs({"quantum_results": missing})
    job = HaiquEstimator("aer_simulator", client=client).run([(bell(), SparsePauliOp("ZZ"))])
    with pytest.raises(HaiquInvalidResponseError, match=job.job_id()):
        job.result()
