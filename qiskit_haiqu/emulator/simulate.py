"""Execution of a validated run on qiskit-aer, shaped as Haiqu's ``quantum_results``.

Circuits are transpiled for the device once and cached (on ``aer_simulator``, a circuit of the
simulator's own instructions runs as it is); a parameter sweep is one Aer call
(``parameter_binds``). Observables are evaluated from Pauli expectation values, then measured
with ``shots`` shots per term so the results carry honest shot noise, with
``info["uncertainty"]`` nested like the results:

- a noiseless circuit of gates only: the exact value of its pure state;
- a noiseless non-unitary circuit (reset, ``initialize``, classical control flow) without
  mid-circuit measurements, up to ``max_density_matrix_qubits`` qubits: the exact value of
  the mixture, evolved as a density matrix;
- anything else (noise, mid-circuit measurements, wider mixtures): up to
  ``max_trajectories`` random trajectories (Aer may evolve a small noisy one as a density
  matrix), one per shot when there are fewer shots; with more shots, the spread of the
  trajectories' mean is part of the uncertainty.

Readout error is part of the noise: sampled outcomes carry it (Aer applies the noise model's
readout errors), and a noisy expectation value is attenuated by the readout factor of its
Pauli support. ``use_mitigation`` undoes exactly that readout error
(:mod:`qiskit_haiqu.emulator.mitigation`); it changes nothing on a noiseless device.
"""

from __future__ import annotations

import base64
import io
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from qiskit import qpy, transpile
from qiskit.circuit import (
    CONTROL_FLOW_OP_NAMES,
    Barrier,
    ControlFlowOp,
    Delay,
    Gate,
    Measure,
    QuantumCircuit,
    Reset,
)
from qiskit.circuit.library import get_standard_gate_name_mapping
from qiskit.quantum_info import Pauli, Statevector
from qiskit.result import Result
from qiskit.result.postprocess import format_counts_memory
from qiskit_aer import AerSimulator
from qiskit_aer.library import SaveExpectationValue
from qiskit_aer.noise import NoiseModel

from qiskit_haiqu.api.models import ObservablePair
from qiskit_haiqu.emulator.devices import AER_SIMULATOR, DeviceCatalog
from qiskit_haiqu.emulator.mitigation import (
    ReadoutErrors,
    final_measurements,
    mitigate_distribution,
)

__all__ = [
    "Entry",
    "RunPlan",
    "Simulator",
    "decode_circuit",
    "estimate_cost",
]

_CACHE_SIZE = 256
_UNITARY, _MIXED, _MEASURED = "unitary", "mixed", "measured"
_UNITARY_DIRECTIVES = frozenset({"barrier", "delay"})
_SEED_MOD = 2**63
_MIN_FACTOR = 1e-9  # a readout factor this small cannot be divided out


def decode_circuit(qpy_dump: str) -> QuantumCircuit:
    """Decode the base64 of a QPY file holding exactly one circuit.

    Raises:
        ValueError: not base64, not QPY, or not exactly one circuit.
    """
    try:
        data = base64.b64decode(qpy_dump, validate=True)
    except (ValueError, TypeError):
        raise ValueError("qpy_dump is not valid base64") from None
    try:
        circuits = qpy.load(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - any reader failure means "not a QPY file we can read"
        raise ValueError(
            f"qpy_dump is not a readable QPY file: {type(exc).__name__}: {exc}"
        ) from None
    if len(circuits) != 1 or not isinstance(circuits[0], QuantumCircuit):
        raise ValueError(f"qpy_dump must hold exactly one circuit, it holds {len(circuits)}")
    return circuits[0]


@dataclass
class Entry:
    """One entry of ``circuit_ids`` with its parameter rows and observables.

    Attributes:
        circuit_id: The stored circuit's id (the transpilation cache key).
        circuit: The decoded circuit.
        rows: ``(rows, num_parameters)`` values in ``circuit.parameters`` order, or ``None``.
        observables: ``[(labels, coefficients), ...]`` at the circuit's full width (already
            mapped through its uploaded layout when the server honours it), or ``None`` for
            a sampling entry.
    """

    circuit_id: str
    circuit: QuantumCircuit
    rows: np.ndarray | None = None
    observables: list[ObservablePair] | None = None


@dataclass
class RunPlan:
    """A validated ``POST /run`` request, ready to execute.

    ``use_mitigation`` mitigates readout errors unless ``readout_mitigation`` is off (the
    wire's ``options.error_mitigation_options.readout_mitigation``).
    """

    entries: list[Entry]
    device_id: str
    shots: int
    seed: int | None = None
    method: str | None = None
    bond_dim: int | None = None
    noise_model: NoiseModel | None = None
    key_format: str = "get_counts"
    max_density_matrix_qubits: int = 12
    max_trajectories: int = 1024
    use_mitigation: bool = False
    readout_mitigation: bool = True
    statevector: bool = False
    skip_transpilation: bool = False
    with_parameters: bool = False
    with_observables: bool = False


def estimate_cost(plan: RunPlan) -> dict[str, dict[str, float | str]]:
    """A plausible QPU cost: shots x (rep delay + depth x gate time), at 1.60 USD per second."""
    seconds = 0.0
    for entry in plan.entries:
        rows = 1 if entry.rows is None else len(entry.rows)
        executions = rows * max(1, len(entry.observables or ()))
        per_shot = 250e-6 + entry.circuit.depth() * 0.5e-6
        seconds += executions * plan.shots * per_shot
    seconds = round(seconds, 6)
    return {
        "native": {"amount": seconds, "unit": "s"},
        "converted": {"amount": round(seconds * 1.6, 6), "unit": "USD"},
    }


@dataclass
class _Prepared:
    """A circuit transpiled for a device, and where its virtual qubits ended up."""

    circuit: QuantumCircuit
    physical: list[int]


class Simulator:
    """Runs plans. Holds the transpilation cache; safe to share between worker threads."""

    def __init__(self, catalog: DeviceCatalog) -> None:
        self._catalog = catalog
        self._lock = threading.Lock()
        self._prepared: OrderedDict[tuple[Any, ...], _Prepared] = OrderedDict()
        self._instrumented: OrderedDict[tuple[Any, ...], QuantumCircuit] = OrderedDict()
        self._readout: dict[str, ReadoutErrors] = {}

    # Public ------------------------------------------------------------------------------

    def run(self, plan: RunPlan) -> tuple[list[Any], dict[str, Any]]:
        """Execute a plan; return ``(quantum_results, info)``."""
        if plan.statevector:
            return [_statevector(entry.circuit) for entry in plan.entries], {}
        simulator = self._simulator(plan)
        results: list[Any] = []
        uncertainties: list[Any] = []
        for index, entry in enumerate(plan.entries):
            seed = None if plan.seed is None else (plan.seed + index) % _SEED_MOD
            if entry.observables is None:
                results.append(self._sample(plan, entry, simulator, seed))
            else:
                values, errors = self._estimate(plan, entry, simulator, seed)
                results.append(values)
                uncertainties.append(errors)
        info: dict[str, Any] = {}
        if plan.with_observables:
            info["uncertainty"] = uncertainties
        return results, info

    # Sampling ----------------------------------------------------------------------------

    def _sample(
        self, plan: RunPlan, entry: Entry, simulator: AerSimulator, seed: int | None
    ) -> Any:
        prepared = self._prepare(plan, entry, strip_measurements=False)
        num_experiments = 1 if entry.rows is None else len(entry.rows)
        run_options: dict[str, Any] = {"shots": plan.shots}
        if seed is not None:
            run_options["seed_simulator"] = seed
        result = _execute(simulator, prepared.circuit, entry, run_options)
        fmt = key_formatter(prepared.circuit, plan.key_format)
        errors = self._readout_errors(plan, simulator) if _mitigates(plan) else ReadoutErrors()
        clbit_qubits = final_measurements(prepared.circuit) if errors else {}
        dists = []
        for experiment in range(num_experiments):
            counts: dict[str, int] = result.data(experiment).get("counts") or {"0x0": plan.shots}
            probs = {int(key, 16): count / plan.shots for key, count in counts.items()}
            if clbit_qubits:
                probs = mitigate_distribution(probs, clbit_qubits, errors)
            dists.append({fmt(key): value for key, value in probs.items()})
        return dists if plan.with_parameters else dists[0]

    # Estimation --------------------------------------------------------------------------

    def _estimate(
        self, plan: RunPlan, entry: Entry, simulator: AerSimulator, seed: int | None
    ) -> tuple[list[Any], list[Any]]:
        observables = entry.observables or []
        num_rows = 1 if entry.rows is None else len(entry.rows)
        labels: dict[str, int] = {}
        coeffs: list[dict[int, float]] = []
        constant = np.zeros(len(observables))
        for obs_index, (paulis, values) in enumerate(observables):
            row: dict[int, float] = {}
            for label, coeff in zip(paulis, values, strict=True):
                if label.count("I") == len(label):
                    constant[obs_index] += coeff
                    continue
                column = labels.setdefault(label, len(labels))
                row[column] = row.get(column, 0.0) + float(coeff)
            coeffs.append(row)
        matrix = np.zeros((len(observables), len(labels)))
        for obs_index, row in enumerate(coeffs):
            for column, coeff in row.items():
                matrix[obs_index, column] = coeff
        rng = np.random.default_rng(seed)
        if labels:
            samples, exact = self._expectations(
                plan, entry, simulator, list(labels), seed, num_rows
            )
            # Readout shrinks each term by its support's factor (a symmetric, twirled readout).
            physical = self._prepare(plan, entry, strip_measurements=True).physical
            readout = self._readout_errors(plan, simulator)
            factors = np.array([readout.pauli_attenuation(label, physical) for label in labels])
            measured, term_variance = _measure(samples, exact, factors, plan.shots, rng)
            if _mitigates(plan):
                divisors = np.where(np.abs(factors) > _MIN_FACTOR, factors, 1.0)
                estimates = measured / divisors
                term_variance = term_variance / divisors**2
            else:
                estimates = measured
        else:
            estimates = term_variance = np.zeros((num_rows, 0))
        values = estimates @ matrix.T + constant  # (rows, observables)
        variance = term_variance @ (matrix**2).T
        errors = np.sqrt(np.clip(variance, 0.0, None))
        if plan.with_parameters:
            return values.T.tolist(), errors.T.tolist()
        return values[0].tolist(), errors[0].tolist()

    def _expectations(
        self,
        plan: RunPlan,
        entry: Entry,
        simulator: AerSimulator,
        labels: list[str],
        seed: int | None,
        num_rows: int,
    ) -> tuple[np.ndarray, bool]:
        """``<P>`` per row, trajectory and label: ``(values, exact)``.

        ``values`` has shape ``(rows, trajectories, labels)``. ``exact``: one trajectory that
        is the exact value (a noiseless unitary circuit on a pure state, or a non-unitary
        one without mid-circuit measurements evolved as a density matrix). Otherwise (noise,
        mid-circuit measurements, or too wide for a density matrix) each of
        ``min(shots, max_trajectories)`` trajectories is one random run of the circuit, and
        their mean is the value of the whole mixture.
        """
        prepared = self._prepare(plan, entry, strip_measurements=True)
        spec = self._catalog.spec(plan.device_id)
        noisy = plan.noise_model is not None or (spec is not None and spec.noisy)
        content = _non_unitary(prepared.circuit)
        run_options: dict[str, Any] = {}
        if noisy or content == _MEASURED:
            exact = False
        elif content == _UNITARY:
            exact = True
        else:  # reset, initialize or control flow: a mixture, but no measurement to sample
            exact = prepared.circuit.num_qubits <= plan.max_density_matrix_qubits
            if exact:
                run_options["method"] = "density_matrix"
        run_options["shots"] = 1 if exact else min(plan.shots, plan.max_trajectories)
        if seed is not None:
            run_options["seed_simulator"] = seed
        key = (plan.device_id, entry.circuit_id, tuple(labels), not exact)
        with self._lock:
            circuit = self._instrumented.get(key)
        if circuit is None:
            circuit = prepared.circuit.copy()
            for index, label in enumerate(labels):
                circuit.append(
                    SaveExpectationValue(Pauli(label), label=f"e{index}", pershot=not exact),
                    [circuit.qubits[q] for q in prepared.physical],
                )
            with self._lock:
                _remember(self._instrumented, key, circuit)
        result = _execute(simulator, circuit, entry, run_options)
        values = np.empty((num_rows, run_options["shots"], len(labels)))
        for row in range(num_rows):
            data = result.data(row)
            for k in range(len(labels)):
                values[row, :, k] = np.real(np.asarray(data[f"e{k}"], dtype=complex))
        return values, exact

    # Helpers -----------------------------------------------------------------------------

    def _readout_errors(self, plan: RunPlan, simulator: AerSimulator) -> ReadoutErrors:
        """The readout errors of the noise the run is simulated with (none when noiseless)."""
        noise_model = simulator.options.noise_model
        if plan.noise_model is not None or noise_model is None:
            return ReadoutErrors.from_noise_model(noise_model)
        with self._lock:  # a device's noise model is the same for every method: one entry
            errors = self._readout.get(plan.device_id)
        if errors is None:
            errors = ReadoutErrors.from_noise_model(noise_model)
            with self._lock:
                self._readout[plan.device_id] = errors
        return errors

    def _simulator(self, plan: RunPlan) -> AerSimulator:
        if plan.noise_model is not None:
            return DeviceCatalog.with_noise(plan.noise_model, plan.method, plan.bond_dim)
        return self._catalog.simulator(plan.device_id, plan.method, plan.bond_dim)

    def _prepare(self, plan: RunPlan, entry: Entry, *, strip_measurements: bool) -> _Prepared:
        device_id = plan.device_id
        key = (device_id, entry.circuit_id, strip_measurements, plan.skip_transpilation)
        with self._lock:
            prepared = self._prepared.get(key)
        if prepared is not None:
            return prepared
        circuit = entry.circuit
        if circuit.layout is not None:
            # Observables are at the uploaded circuit's full width (mapped through its
            # layout already when it is honoured): the transpiler starts afresh from it.
            circuit = circuit.copy()
            circuit._layout = None  # noqa: SLF001 - there is no public way to drop it
        if strip_measurements:
            circuit = circuit.remove_final_measurements(inplace=False)
        if plan.skip_transpilation:
            # Run as received (validation checked a fake device's instruction set).
            transpiled = circuit
        elif device_id == AER_SIMULATOR:
            # Aer's basis without its coupling map, which caps widths (MPS goes wider).
            basis = _standard_names(self._catalog.simulator(AER_SIMULATOR, None, None))
            if _runs_as_is(circuit, frozenset(basis)):
                # Nothing to translate: skipping the transpiler spares a process its first
                # pass manager, whose stage plugins import every installed plugin package
                # (qiskit-ibm-runtime's take about 1.7 s).
                transpiled = circuit
            else:
                transpiled = transpile(
                    circuit, basis_gates=basis, optimization_level=1, seed_transpiler=0
                )
        else:
            transpiled = transpile(
                circuit,
                backend=self._catalog.backend(device_id),
                optimization_level=1,
                seed_transpiler=0,
            )
        if transpiled.layout is not None:
            physical = list(transpiled.layout.final_index_layout())
        else:
            physical = list(range(circuit.num_qubits))
        prepared = _Prepared(transpiled, physical)
        with self._lock:
            _remember(self._prepared, key, prepared)
        return prepared


def _measure(
    samples: np.ndarray,
    exact: bool,
    factors: np.ndarray,
    shots: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Measure each Pauli term with ``shots`` shots: ``(estimates, variances)``, per row.

    Args:
        samples: ``<P>`` per row, trajectory and term (see ``Simulator._expectations``).
        exact: ``samples`` holds one exact value per row and term.
        factors: Readout attenuation of each term.
        shots: Shots per term.
        rng: The random source.

    Each shot gives +1 or -1. With exact values, or one trajectory per shot, the shots are
    what a device would measure, and the variance of their mean is ``(1 - m**2) / shots``.
    With fewer trajectories than shots, the shots are drawn around the trajectories' mean,
    whose own spread (``var / trajectories``) is added to the variance.
    """
    trajectories = samples.shape[1]
    prob_plus = np.clip((1.0 + factors * samples) / 2.0, 0.0, 1.0)  # (rows, traj, terms)
    if exact or trajectories < shots:
        counts = rng.binomial(shots, prob_plus.mean(axis=1))
    else:  # one trajectory per shot
        counts = np.stack([(rng.random(p.shape) < p).sum(axis=0) for p in prob_plus])
    measured = 2.0 * counts / shots - 1.0
    variance = (1.0 - measured**2) / shots
    if not exact and 1 < trajectories < shots:
        variance = variance + factors**2 * samples.var(axis=1, ddof=1) / trajectories
    return measured, variance


def _non_unitary(circuit: QuantumCircuit) -> str:
    """What makes a circuit (final measurements removed) evolve a pure state into a mixture.

    Returns:
        ``_UNITARY`` (only gates, barriers and delays), ``_MEASURED`` (a measurement is left,
        so the mixture needs trajectories) or ``_MIXED`` (resets, ``initialize``, control
        flow or other non-gate operations, but no measurement).
    """
    content = _UNITARY
    for instruction in circuit.data:
        operation = instruction.operation
        if operation.name == "measure":
            return _MEASURED
        if isinstance(operation, ControlFlowOp):
            for block in operation.blocks:
                if _non_unitary(block) == _MEASURED:
                    return _MEASURED
            content = _MIXED
        elif not isinstance(operation, Gate) and operation.name not in _UNITARY_DIRECTIVES:
            content = _MIXED
    return content


def _mitigates(plan: RunPlan) -> bool:
    """Whether the run asks for readout mitigation."""
    return plan.use_mitigation and plan.readout_mitigation


def _standard_names(simulator: AerSimulator) -> list[str]:
    """The simulator's operations that ``transpile(basis_gates=...)`` accepts."""
    known = set(get_standard_gate_name_mapping()) | {"measure", "reset", "delay", "barrier"}
    known |= set(CONTROL_FLOW_OP_NAMES)
    return sorted(name for name in simulator.operation_names if name in known)


_PLAIN_NON_GATES = (Measure, Reset, Delay)
"""Non-gate instructions Aer executes as they are (barriers aside)."""


def _runs_as_is(circuit: QuantumCircuit, basis: frozenset[str]) -> bool:
    """Whether Aer runs ``circuit`` without translation: barriers, and only standard gates,
    measurements, resets and delays of ``basis`` (no control flow, no custom gate)."""
    for instruction in circuit.data:
        operation = instruction.operation
        if isinstance(operation, Barrier):
            continue
        if instruction.name not in basis:
            return False
        if not instruction.is_standard_gate() and not isinstance(operation, _PLAIN_NON_GATES):
            return False
    return True


def _remember(cache: OrderedDict[Any, Any], key: Any, value: Any) -> None:
    cache[key] = value
    cache.move_to_end(key)
    while len(cache) > _CACHE_SIZE:
        cache.popitem(last=False)


def _execute(
    simulator: AerSimulator, circuit: QuantumCircuit, entry: Entry, options: dict[str, Any]
) -> Result:
    """One Aer call: one experiment per parameter row, in row order."""
    binds = _binds(circuit, entry)
    if binds is not None:
        result = simulator.run(circuit, parameter_binds=[binds], **options).result()
    else:
        # No parameter left after transpilation (e.g. an RZ before a measurement was
        # removed): each row is the same circuit, still sampled separately.
        rows = 1 if entry.rows is None else len(entry.rows)
        result = simulator.run([circuit] * rows, **options).result()
    if not result.success:
        raise RuntimeError(f"Aer failed: {result.status}")
    return result


def _binds(circuit: QuantumCircuit, entry: Entry) -> dict[Any, list[float]] | None:
    """Aer ``parameter_binds`` of one circuit: positional in the original parameter order."""
    if entry.rows is None:
        return None
    present = set(circuit.parameters)
    binds = {
        parameter: entry.rows[:, index].tolist()
        for index, parameter in enumerate(entry.circuit.parameters)
        if parameter in present
    }
    if binds:
        return binds
    return None


def key_formatter(circuit: QuantumCircuit, key_format: str) -> Callable[[int], str]:
    """How a clbit integer becomes a result key under the ``key_format`` setting.

    Args:
        circuit: The executed circuit (its clbits and classical registers).
        key_format: ``"get_counts"``: as ``Result.get_counts()`` writes keys for this
            circuit, i.e. :func:`~qiskit.result.postprocess.format_counts_memory` with the
            header Aer writes (``creg_sizes`` of every register, zero-width and overlapping
            ones included, and ``memory_slots``): the full clbit string is cut from the
            left into groups of the reversed register sizes, purely by position.
            ``"full"``: the ``num_clbits``-character bit string. ``"hex"``: Aer's raw key.
            Without clbits, both string formats give ``""``.
    """
    if key_format == "hex":
        return hex
    width = circuit.num_clbits
    if not width:
        return lambda value: ""
    if key_format == "full":
        return lambda value: format(value, f"0{width}b")
    header = {
        "creg_sizes": [[register.name, register.size] for register in circuit.cregs],
        "memory_slots": width,
    }
    return lambda value: str(format_counts_memory(hex(value), header))


def _statevector(circuit: QuantumCircuit) -> list[list[float]]:
    """``[real_parts, imag_parts]`` of the circuit's final state."""
    state = Statevector(circuit.remove_final_measurements(inplace=False)).data
    return [np.real(state).tolist(), np.imag(state).tolist()]
