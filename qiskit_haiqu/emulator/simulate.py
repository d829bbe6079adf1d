"""Execution of ``POST /run`` jobs with qiskit-aer, shaped as the Haiqu API returns results."""

from __future__ import annotations

import base64
import io
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from qiskit import qpy, transpile
from qiskit.circuit import QuantumCircuit
from qiskit.quantum_info import SparsePauliOp, Statevector
from qiskit_aer import AerSimulator
from qiskit_aer.noise import NoiseModel
from qiskit_aer.primitives import EstimatorV2 as AerEstimator

from qiskit_haiqu.emulator.devices import EmulatedDevice

__all__ = ["KEY_FORMATS", "RunSpec", "decode_qpy", "estimate_cost", "execute"]

KEY_FORMATS = ("spaced", "joined", "hex")


@dataclass
class RunSpec:
    """What one job computes: circuit entries with their rows and observables."""

    circuits: list[QuantumCircuit]
    parameters: list[np.ndarray] | None  # per entry, (rows, num_parameters)
    observables: list[list[tuple[list[str], list[float]]]] | None
    shots: int
    options: dict[str, Any]
    use_mitigation: bool
    run_type: str


def decode_qpy(qpy_b64: str) -> QuantumCircuit:
    """The one circuit of a base64 QPY string."""
    circuits = qpy.load(io.BytesIO(base64.b64decode(qpy_b64, validate=True)))
    if len(circuits) != 1 or not isinstance(circuits[0], QuantumCircuit):
        raise ValueError("qpy_dump must hold exactly one circuit")
    return circuits[0]


_CACHE: dict[tuple[int, str, str], tuple[QuantumCircuit, QuantumCircuit]] = {}
_LOCK = threading.Lock()


def _transpiled(circuit: QuantumCircuit, device: EmulatedDevice, purpose: str) -> QuantumCircuit:
    """The circuit prepared for the device, cached per (stored) circuit object.

    ``purpose`` "estimator" also removes final measurements. The cache keeps the source
    circuit alive and checks identity, so a recycled ``id`` can never return another's entry.
    """
    key = (id(circuit), device.id, purpose)
    with _LOCK:
        hit = _CACHE.get(key)
    if hit is not None and hit[0] is circuit:
        return hit[1]
    source = circuit.remove_final_measurements(inplace=False) if purpose == "estimator" else circuit
    compiled = transpile(source, device.simulator, optimization_level=0, seed_transpiler=1)
    with _LOCK:
        if len(_CACHE) > 4096:
            _CACHE.clear()
        _CACHE[key] = (circuit, compiled)
    return compiled


def _simulator(device: EmulatedDevice, options: dict[str, Any]) -> AerSimulator:
    run_options: dict[str, Any] = {}
    if "method" in options:
        run_options["method"] = options["method"]
    if "matrix_product_state_max_bond_dimension" in options:
        run_options["matrix_product_state_max_bond_dimension"] = options[
            "matrix_product_state_max_bond_dimension"
        ]
    if options.get("noise_model") and device.fake_class is None:
        run_options["noise_model"] = NoiseModel.from_dict(options["noise_model"])
    if not run_options:
        return device.simulator
    simulator = AerSimulator.from_backend(device.backend) if device.fake_class else AerSimulator()
    simulator.set_options(**run_options)
    return simulator


def execute(spec: RunSpec, device: EmulatedDevice) -> tuple[list[Any], dict[str, Any]]:
    """Run a job; returns ``(quantum_results, info)`` nested as the API nests them."""
    if spec.run_type == "StatevectorRun":
        return [_statevector(c) for c in spec.circuits], {}
    seed = spec.options.get("seed_simulator")
    rng = np.random.default_rng(seed)
    if spec.observables is not None:
        return _expectations(spec, device, rng)
    return _distributions(spec, device, rng), {}


def _statevector(circuit: QuantumCircuit) -> list[list[float]]:
    state = Statevector(circuit.remove_final_measurements(inplace=False)).data
    return [state.real.tolist(), state.imag.tolist()]


def _binds(circuit: QuantumCircuit, rows: np.ndarray) -> list[dict[Any, list[float]]]:
    return [{p: rows[:, k].tolist() for k, p in enumerate(circuit.parameters)}]


def _distributions(spec: RunSpec, device: EmulatedDevice, rng: np.random.Generator) -> list[Any]:
    simulator = _simulator(device, spec.options)
    key_format = str(spec.options.get("emulator_key_format", "spaced"))
    results: list[Any] = []
    for position, circuit in enumerate(spec.circuits):
        compiled = _transpiled(circuit, device, "sampler")
        run_options: dict[str, Any] = {"shots": spec.shots}
        if "seed_simulator" in spec.options:
            run_options["seed_simulator"] = int(spec.options["seed_simulator"]) + position
        if spec.parameters is not None:
            rows = spec.parameters[position]
            run_options["parameter_binds"] = _binds(compiled, _align(circuit, compiled, rows))
        result = simulator.run(compiled, **run_options).result()
        if not result.success:
            raise RuntimeError(result.status)
        count = 1 if spec.parameters is None else len(spec.parameters[position])
        dists = []
        for experiment in range(count):
            raw = result.data(experiment).get("counts", {"0x0": spec.shots})
            dist = {
                _format_key(int(k, 16), circuit, key_format): v / spec.shots
                for k, v in raw.items()
            }
            if spec.use_mitigation:
                dist = _mitigate(dist, rng)
            dists.append(dist)
        results.append(dists if spec.parameters is not None else dists[0])
    return results


def _align(circuit: QuantumCircuit, compiled: QuantumCircuit, rows: np.ndarray) -> np.ndarray:
    """Rows are positional in the submitted circuit's parameter order; transpiling keeps it."""
    if [p.name for p in circuit.parameters] != [p.name for p in compiled.parameters]:
        order = [circuit.parameters.data.index(p) for p in compiled.parameters]
        return rows[:, order]
    return rows


def _format_key(value: int, circuit: QuantumCircuit, key_format: str) -> str:
    width = circuit.num_clbits
    if key_format == "hex":
        return hex(value)
    bits = format(value, f"0{width}b") if width else ""
    sizes = [creg.size for creg in circuit.cregs]
    if key_format == "joined" or len(sizes) < 2 or sum(sizes) != width:
        return bits
    parts = []
    end = width
    for size in sizes:  # register 0 is rightmost
        parts.append(bits[end - size : end])
        end -= size
    return " ".join(reversed(parts))


def _mitigate(dist: dict[str, float], rng: np.random.Generator) -> dict[str, float]:
    """Quasi-probabilities as a mitigated result gives them (not multiples of 1/shots)."""
    keys = list(dist)
    values = np.array([dist[k] for k in keys]) * (1.0 + rng.uniform(-0.05, 0.05, len(keys)))
    quasi = dict(zip(keys, values.tolist(), strict=True))
    smallest = min(keys, key=lambda k: dist[k])
    quasi[smallest] = quasi[smallest] - 0.003  # mitigation can dip below zero
    total = sum(quasi.values())
    return {k: v / total for k, v in quasi.items()}


def _expectations(
    spec: RunSpec, device: EmulatedDevice, rng: np.random.Generator
) -> tuple[list[Any], dict[str, Any]]:
    assert spec.observables is not None
    values: list[Any] = []
    errors: list[Any] = []
    for position, circuit in enumerate(spec.circuits):
        rows = spec.parameters[position] if spec.parameters is not None else None
        pairs = spec.observables[position]
        terms = sorted({label for labels, _ in pairs for label in labels})
        exact = _term_expectations(circuit, terms, rows, device, spec.options)  # (terms, rows)
        sampled = _sample_terms(terms, exact, spec.shots, rng)
        index = {label: i for i, label in enumerate(terms)}
        entry_values = []
        entry_errors = []
        for labels, coeffs in pairs:
            rows_idx = [index[label] for label in labels]
            c = np.asarray(coeffs, dtype=np.float64)[:, None]
            est = sampled[rows_idx]
            entry_values.append((c * est).sum(axis=0))
            variance = (c**2 * (1.0 - est**2)).sum(axis=0) / spec.shots
            entry_errors.append(np.sqrt(np.maximum(variance, 0.0)))
        if rows is None:
            values.append([float(v[0]) for v in entry_values])
            errors.append([float(e[0]) for e in entry_errors])
        else:
            values.append([v.tolist() for v in entry_values])
            errors.append([e.tolist() for e in entry_errors])
    return values, {"uncertainty": errors}


def _term_expectations(
    circuit: QuantumCircuit,
    terms: Sequence[str],
    rows: np.ndarray | None,
    device: EmulatedDevice,
    options: dict[str, Any],
) -> np.ndarray:
    """Exact (noisy, on fake devices) expectation of each Pauli term, shape (terms, rows)."""
    backend_options: dict[str, Any] = {}
    compiled = _transpiled(circuit, device, "estimator")
    if device.fake_class is not None:
        backend_options = {"noise_model": device.noise_model, "method": "density_matrix"}
        observables = [SparsePauliOp(t).apply_layout(compiled.layout) for t in terms]
    else:
        observables = [SparsePauliOp(t) for t in terms]
        if options.get("noise_model"):
            backend_options["noise_model"] = NoiseModel.from_dict(options["noise_model"])
    if "method" in options:
        backend_options["method"] = options["method"]
    estimator = AerEstimator(options={"backend_options": backend_options})
    array = np.empty(len(observables), dtype=object)
    array[:] = observables
    if rows is None:
        pub: tuple[Any, ...] = (compiled, array)
    else:
        aligned = _align(circuit, compiled, rows)
        pub = (compiled, array.reshape(-1, 1), aligned)
    evs = np.asarray(estimator.run([pub], precision=0.0).result()[0].data.evs, dtype=np.float64)
    return evs.reshape(len(terms), -1)


def _sample_terms(
    terms: Sequence[str], exact: np.ndarray, shots: int, rng: np.random.Generator
) -> np.ndarray:
    """Shot-noise estimates of each term: ``shots`` +-1 outcomes per term and row."""
    probability = np.clip((1.0 + exact) / 2.0, 0.0, 1.0)
    ones = rng.binomial(shots, probability)
    sampled = 2.0 * ones / shots - 1.0
    identity = np.array([set(t) <= {"I"} for t in terms], dtype=bool)
    sampled[identity] = 1.0
    return np.asarray(sampled, dtype=np.float64)


def estimate_cost(circuits: Sequence[QuantumCircuit], shots: int, rows: int) -> dict[str, Any]:
    """A plausible QPU cost: depth x shots x rows at 1 microsecond a layer, 1.6 USD/s."""
    seconds = sum(max(1, c.depth()) for c in circuits) * shots * max(1, rows) * 1e-6 + 0.5
    return {
        "native": {"amount": round(seconds, 6), "unit": "s"},
        "converted": {"amount": round(seconds * 1.6, 6), "unit": "USD"},
    }
