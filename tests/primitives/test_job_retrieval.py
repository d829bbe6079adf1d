"""Reattaching to a sampler job from another process gives the same result."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from qiskit_haiqu import HaiquClient, HaiquEstimator, HaiquInputError, HaiquSampler

API_KEY = "test-key-123"

SUBMITTER = """
import json, sys
import numpy as np
from qiskit.circuit import ClassicalRegister, Parameter, QuantumCircuit, QuantumRegister
from qiskit_haiqu import HaiquClient, HaiquSampler
a = Parameter("a")
qc = QuantumCircuit(QuantumRegister(2), ClassicalRegister(1, "low"), ClassicalRegister(3, "wide"))
qc.rx(a, 0)
qc.x(1)
qc.measure(0, 0)
qc.measure(1, 2)
qc.metadata = {"experiment": "retrieval"}
values = np.array([[0.0, np.pi, 0.0], [np.pi, np.pi, 0.0]])[..., None]  # shape (2, 3)
with HaiquClient(url=sys.argv[1], api_key=sys.argv[2]) as client:
    pubs = [(qc, values, 16), qc.assign_parameters([0.0])]
    job = HaiquSampler("aer_simulator", client=client).run(pubs)
    result = job.result()
summary = [
    {name: [r.data[name][i].get_counts() for i in np.ndindex(r.data.shape)] for name in r.data}
    for r in result
]
print(json.dumps({"id": job.job_id(), "summary": summary,
                  "shapes": [list(r.data.shape) for r in result],
                  "metadata": [r.metadata["circuit_metadata"] for r in result]}))
"""


def _submit_elsewhere(script: str, url: str) -> dict:
    """Run ``script`` in a fresh Python process; return the JSON it printed last."""
    completed = subprocess.run(
        [sys.executable, "-c", script, url, API_KEY],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_result_from_another_process_is_the_same(emulator):
    original = _submit_elsewhere(SUBMITTER, emulator.url)
    with HaiquClient(url=emulator.url, api_key=API_KEY) as client:
        job = HaiquSampler("aer_simulator", client=client).job(original["id"])
        result = job.result()
    assert job.job_id() == original["id"]
    assert [list(r.data.shape) for r in result] == original["shapes"]
    for mine, theirs in zip(result, original["summary"], strict=True):
        assert list(mine.data.keys()) == list(theirs)
        for name, counts in theirs.items():
            assert [mine.data[name][i].get_counts() for i in np.ndindex(mine.data.shape)] == counts
            assert mine.data[name].num_bits == {"low": 1, "wide": 3}[name]
    assert [r.metadata["circuit_metadata"] for r in result] == original["metadata"]
    assert result[0].metadata["shots"] == 16


def test_a_job_not_from_the_sampler_is_refused_clearly(client):
    from qiskit.circuit import QuantumCircuit

    from qiskit_haiqu.api.models import CircuitSubmit, RunSubmit
    from qiskit_haiqu.translate.circuits import circuit_fingerprint, encode_circuit

    qc = QuantumCircuit(1, 1)
    qc.measure(0, 0)
    experiment = client.init_experiment("raw-jobs")
    stored = client.upload_circuit(
        CircuitSubmit(
            experiment_id=experiment.id,
            qpy_dump=encode_circuit(qc),
            hash=circuit_fingerprint(qc),
        )
    )
    raw = client.submit_run(
        RunSubmit.model_construct(experiment_id=experiment.id, circuit_ids=[stored.id], shots=4)
    )
    with pytest.raises(HaiquInputError, match="carries no sampler layout"):
        HaiquSampler("aer_simulator", client=client).job(raw.id)


ESTIMATOR_SUBMITTER = """
import json, sys
import numpy as np
from qiskit.circuit import Parameter, QuantumCircuit
from qiskit_haiqu import HaiquClient, HaiquEstimator
theta = Parameter("theta")
qc = QuantumCircuit(2)
qc.ry(theta, 0)
qc.cx(0, 1)
qc.metadata = {"sweep": True}
observables = [["ZZ"], ["XX"], ["ZI"]]  # (3, 1) against (4,) -> (3, 4)
values = np.linspace(0, np.pi, 4)
with HaiquClient(url=sys.argv[1], api_key=sys.argv[2]) as client:
    pubs = [(qc, observables, values), (qc.assign_parameters([0.3]), ["ZZ", "XI"], None, 0.05)]
    job = HaiquEstimator("aer_simulator", client=client).run(pubs)
    result = job.result()
print(json.dumps({"id": job.job_id(),
                  "evs": [r.data.evs.tolist() for r in result],
                  "stds": [r.data.stds.tolist() for r in result],
                  "metadata": [{k: r.metadata[k] for k in ("target_precision", "shots",
                               "circuit_metadata", "haiqu_job_id")} for r in result]}))
"""


def test_estimator_result_from_another_process_is_the_same(emulator):
    original = _submit_elsewhere(ESTIMATOR_SUBMITTER, emulator.url)
    with HaiquClient(url=emulator.url, api_key=API_KEY) as client:
        result = HaiquEstimator("aer_simulator", client=client).job(original["id"]).result()
    assert [r.data.evs.tolist() for r in result] == original["evs"]
    assert [r.data.stds.tolist() for r in result] == original["stds"]
    assert [r.data.evs.shape for r in result] == [(3, 4), (2,)]
    for mine, theirs in zip(result, original["metadata"], strict=True):
        assert {k: mine.metadata[k] for k in theirs} == theirs
