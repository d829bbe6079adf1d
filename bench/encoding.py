"""Encoding: building the POST /run body vs qiskit-ibm-runtime's RuntimeEncoder on the same pub.

Target (issue 6): one pub with a 10,000-term, 100-qubit SparsePauliOp and 1,000 parameter
rows of 600 parameters: our request body at least 2x faster than ``RuntimeEncoder``. Both
start from the same coerced ``EstimatorPub``. Run: ``python -m bench.encoding [--quick]``.
"""

from __future__ import annotations

import json

import numpy as np
import orjson
from qiskit.circuit import ParameterVector, QuantumCircuit
from qiskit.primitives.containers.estimator_pub import EstimatorPub
from qiskit.quantum_info import SparsePauliOp
from qiskit_ibm_runtime import RuntimeEncoder

from bench._common import best_of, parse_args, report
from qiskit_haiqu.primitives.estimator import _planned_job, _prepare
from qiskit_haiqu.translate.circuits import circuit_fingerprint


def make_pub(qubits: int, terms: int, rows: int, parameters: int) -> EstimatorPub:
    """A pub of the requested size (random Paulis, a rotation layer per parameter)."""
    rng = np.random.default_rng(5)
    theta = ParameterVector("theta", parameters)
    circuit = QuantumCircuit(qubits)
    for k in range(parameters):
        circuit.ry(theta[k], k % qubits)
        if k % qubits == qubits - 1:
            for q in range(qubits - 1):
                circuit.cx(q, q + 1)
    labels = ["".join(rng.choice(list("IXYZ"), qubits)) for _ in range(terms)]
    observable = SparsePauliOp(labels, rng.normal(size=terms))
    values = rng.uniform(-np.pi, np.pi, (rows, parameters))
    return EstimatorPub.coerce((circuit, observable, values), precision=0.01)


def haiqu_body(pub: EstimatorPub) -> bytes:
    """The POST /run body the estimator sends for this pub, with the circuit fingerprint
    it computes on every call to find the uploaded circuit's id."""
    item = _prepare(pub, 0, None)
    circuit_fingerprint(item.circuit)
    job = _planned_job([item], [0])
    fields = {
        "experiment_id": "exp-bench",
        "circuit_ids": ["circ-bench"] * len(job.circuits),
        "shots": job.shots,
        "parameters": job.parameters,
        "observables": job.observables,
    }
    return orjson.dumps(fields, option=orjson.OPT_SERIALIZE_NUMPY)


def runtime_body(pub: EstimatorPub) -> bytes:
    """The same pub as qiskit-ibm-runtime serialises it."""
    return json.dumps({"pubs": [pub]}, cls=RuntimeEncoder).encode()


def main() -> None:
    args = parse_args(__doc__ or "")
    sizes = (20, 500, 50, 60) if args.quick else (100, 10_000, 1_000, 600)
    pub = make_pub(*sizes)
    ours_s = best_of(lambda: haiqu_body(pub), args.repeat)
    theirs_s = best_of(lambda: runtime_body(pub), args.repeat)
    ours_bytes, theirs_bytes = len(haiqu_body(pub)), len(runtime_body(pub))
    ratio = theirs_s / ours_s
    report(
        "encoding: one estimator pub into a request body",
        [
            ("workload", "{} qubits, {} terms, {} rows x {} parameters".format(*sizes)),
            ("qiskit-haiqu POST /run body", f"{ours_s * 1e3:.1f} ms, {ours_bytes / 1e6:.1f} MB"),
            ("RuntimeEncoder", f"{theirs_s * 1e3:.1f} ms, {theirs_bytes / 1e6:.1f} MB"),
            ("ratio (RuntimeEncoder / ours)", f"{ratio:.1f}x"),
            ("target", ">= 2x: " + ("met" if ratio >= 2 else "NOT met")),
        ],
    )


if __name__ == "__main__":
    main()
