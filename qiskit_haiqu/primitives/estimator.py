"""HaiquEstimator: a drop-in ``BaseEstimatorV2`` that runs on the Haiqu service."""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any

import numpy as np
from qiskit.circuit import ControlFlowOp, QuantumCircuit
from qiskit.primitives import (
    BaseEstimatorV2,
    DataBin,
    PubResult,
    StatevectorEstimator,
)
from qiskit.primitives.containers.bindings_array import BindingsArray
from qiskit.primitives.containers.estimator_pub import EstimatorPub, EstimatorPubLike
from qiskit.primitives.containers.observables_array import ObservablesArray
from qiskit.quantum_info import SparseObservable, SparsePauliOp, Statevector

from qiskit_haiqu.api.models import RunJob
from qiskit_haiqu.errors import HaiquInputError, HaiquInvalidResponseError
from qiskit_haiqu.primitives.base import HaiquPrimitive
from qiskit_haiqu.primitives.job import HaiquJob
from qiskit_haiqu.primitives.options import EstimatorOptions
from qiskit_haiqu.primitives.plan import PlannedJob, wire_parameters
from qiskit_haiqu.primitives.validation import parameter_rows
from qiskit_haiqu.translate.estimator_plan import PubPlan, plan_pub
from qiskit_haiqu.translate.job_context import write_context
from qiskit_haiqu.translate.observables import (
    ObservablePair,
    complex_terms,
    observables_to_wire,
    stds_fallback,
)
from qiskit_haiqu.translate.precision import shots_for_precision

__all__ = ["MAX_STATEVECTOR_QUBITS", "HaiquEstimator"]

MAX_STATEVECTOR_QUBITS = 20
"""Widest circuit of the service's statevector run (``run_type="StatevectorRun"``)."""

_NON_UNITARY = frozenset({"reset", "measure", "initialize"})


class _PreparedPub:
    """One estimator pub turned into what the wire needs."""

    def __init__(
        self,
        pub: EstimatorPub,
        circuit: QuantumCircuit,
        shots: int,
        rows: np.ndarray,
        pairs: list[ObservablePair],
        plan: PubPlan,
        bound: list[QuantumCircuit] | None = None,
    ) -> None:
        self.pub = pub
        self.circuit = circuit  # final measurements removed
        self.shots = shots
        self.rows = rows
        self.pairs = pairs
        self.plan = plan
        self.bound = bound  # precision 0: one bound circuit per row, for a statevector run

    @property
    def exact(self) -> bool:
        """Precision 0: exact values from the service's statevector run."""
        return self.bound is not None

    @property
    def entries(self) -> int:
        """How many circuit entries of its job the pub takes."""
        return len(self.bound) if self.bound is not None else len(self.plan.entries)

    @property
    def parameterised(self) -> bool:
        return bool(self.circuit.num_parameters > 0)

    @property
    def local(self) -> bool:
        """Answered without the service: a circuit on no qubit has nothing to measure."""
        return bool(self.circuit.num_qubits == 0)


class HaiquEstimator(HaiquPrimitive[EstimatorOptions, _PreparedPub, PubResult], BaseEstimatorV2):
    """Estimator V2 on the Haiqu service.

    Pubs behave as with Qiskit's own estimators: ``evs`` and ``stds`` shaped like the
    broadcast of the observables and the parameter values. Every observable form Qiskit
    accepts is sent as ``[pauli labels, real coefficients]`` pairs (little-endian labels),
    and the service is asked for exactly the (observable, parameter row) pairs the
    broadcast needs.

    Shots: ``options.default_shots`` when set, else ``ceil(1 / precision**2)`` (computed
    without float drift: precision 0.015625 is 4096 shots, 0.01 is 10000). ``stds`` are the
    service's ``info.uncertainty``; when it sends none they are estimated from the shots
    and the coefficients (exact for a single Pauli term, an upper bound for sums), and
    ``metadata["stds_source"]`` says which.

    Circuits keep their logical width: an observable must have as many qubits as the
    circuit. For a transpiled circuit, use ``observable.apply_layout(circuit.layout)``.
    Final measurements are removed before the circuit is sent; mid-circuit measurements are
    refused.
    """

    _options_class = EstimatorOptions
    _kind = "estimator"
    _label = "Estimator"

    def run(
        self, pubs: Iterable[EstimatorPubLike], *v1_args: Any, precision: float | None = None
    ) -> HaiquJob:
        """Run the pubs; returns at once with a job (nothing waits for the results).

        Args:
            pubs: ``(circuit, observables)``, ``(circuit, observables, values)`` or
                ``(circuit, observables, values, precision)`` items.
            precision: Precision for pubs that set none; ``options.default_precision``
                when ``None``.
            v1_args: Refused: the V1 call style (``run(circuits, values)``) gets a
                ``TypeError`` showing the pub form.

        Raises:
            ValueError, TypeError: a pub is invalid (as Qiskit's estimators raise them); no
                request has been made.
        """
        return self._run(pubs, v1_args, precision)

    @property
    def default_precision(self) -> float:
        """Precision of pubs that set none (``options.default_precision``), Qiskit's name."""
        return self._options.default_precision

    # -- the estimator's part of the shared algorithm ------------------------------------

    def _default(self, options: EstimatorOptions) -> float:
        return options.default_precision

    def _coerce(self, pub: EstimatorPubLike, default: float) -> EstimatorPub:
        return _coerce(pub, default)

    def _prepared(self, pubs: list[EstimatorPub], options: EstimatorOptions) -> list[_PreparedPub]:
        return [_prepare(pub, index, options.default_shots) for index, pub in enumerate(pubs)]

    def _group_key(self, pub: _PreparedPub) -> Hashable | None:
        """Empty sweeps and 0-qubit circuits (whose observables are constants) stay local."""
        if pub.pub.size == 0 or pub.local:
            return None
        return (pub.exact, pub.shots, pub.parameterised)

    def _entries(self, pub: _PreparedPub) -> int:
        return pub.entries

    def _planned_job(self, pubs: Sequence[_PreparedPub], members: list[int]) -> PlannedJob:
        return _planned_job(pubs, members)

    def _pub_result(
        self, pub: _PreparedPub, values: Sequence[Any], job: RunJob, entry: int
    ) -> PubResult:
        if pub.exact:
            return _exact_result(pub, values, job)
        uncertainty = (job.info or {}).get("uncertainty")
        part = None if uncertainty is None else uncertainty[entry : entry + len(values)]
        return _pub_result(pub, values, part, job)

    def _dry_run_result(self, pub: _PreparedPub, job: RunJob) -> PubResult:
        return _empty_result(pub, job)

    def _unsent_result(self, pub: _PreparedPub) -> PubResult:
        return _unsent_result(pub)

    def _rebuild(
        self, job: RunJob, context: dict[str, Any], circuit: Callable[[str], QuantumCircuit]
    ) -> list[_PreparedPub]:
        return _rebuild(job, context, circuit)


def _coerce(pub: EstimatorPubLike, precision: float | None) -> EstimatorPub:
    """Qiskit's coercion, with what its errors leave out: the complex terms by name, and for
    a width mismatch both widths and the ``apply_layout`` fix.

    The same exception type as Qiskit's; decided from the pub itself, not from the text of
    Qiskit's message.
    """
    try:
        return EstimatorPub.coerce(pub, precision)
    except ValueError as exc:
        if not isinstance(pub, tuple | list) or len(pub) < 2:
            raise
        terms = complex_terms(pub[1])
        if terms:
            raise HaiquInputError(
                f"Observable terms with complex coefficients: {', '.join(terms[:5])}. "
                "Observables must be Hermitian with real coefficients; drop the imaginary "
                "parts."
            ) from None
        width = _observables_width(pub[1])
        circuit = pub[0]
        if width is None or not isinstance(circuit, QuantumCircuit) or width == circuit.num_qubits:
            raise
        layout = (
            " The circuit is transpiled: map the observables to its qubits with "
            "observable.apply_layout(circuit.layout)."
            if circuit.layout is not None
            else " Give observables on the circuit's qubits (for a transpiled circuit, "
            "observable.apply_layout(circuit.layout))."
        )
        raise ValueError(
            f"{exc} The observables act on {width} qubits and the circuit has "
            f"{circuit.num_qubits}.{layout}"
        ) from None


def _observables_width(observables: Any) -> int | None:
    """The qubit count of an observables-like input, or ``None`` if Qiskit cannot read it."""
    try:
        return int(ObservablesArray.coerce(observables).num_qubits)
    except (TypeError, ValueError):
        return None


def _prepare(pub: EstimatorPub, index: int, default_shots: int | None) -> _PreparedPub:
    """Validate one pub and translate it for the wire (no I/O)."""
    if pub.precision is None or pub.precision < 0:
        raise ValueError(f"Pub {index}: precision must be 0 (exact) or positive.")
    circuit = _without_final_measurements(pub.circuit, index)
    rows = parameter_rows(circuit, pub.parameter_values, index)
    pairs, obs_index = observables_to_wire(pub.observables, circuit.num_qubits)
    plan = plan_pub(obs_index, pub.parameter_values.shape)
    if pub.precision == 0:
        return _PreparedPub(pub, circuit, 1, rows, pairs, plan, _bound(circuit, rows, index))
    shots = default_shots if default_shots is not None else shots_for_precision(pub.precision)
    return _PreparedPub(pub, circuit, shots, rows, pairs, plan)


def _bound(circuit: QuantumCircuit, rows: np.ndarray, index: int) -> list[QuantumCircuit]:
    """The circuits of an exact pub: one per parameter row, as a statevector run takes them."""
    if circuit.num_qubits > MAX_STATEVECTOR_QUBITS:
        raise ValueError(
            f"Pub {index}: precision 0 asks for exact values, which come from the service's "
            f"statevector run, limited to {MAX_STATEVECTOR_QUBITS} qubits; the circuit has "
            f"{circuit.num_qubits}. Give a precision > 0 (shot-based estimates)."
        )
    mixed = sorted(
        {
            instruction.name
            for instruction in circuit.data
            if instruction.name in _NON_UNITARY or isinstance(instruction.operation, ControlFlowOp)
        }
    )
    if mixed:
        raise ValueError(
            f"Pub {index}: precision 0 asks for exact values from the service's statevector "
            f"run, which simulates a pure state; the circuit has {', '.join(mixed)}. Give a "
            "precision > 0: the sampled estimate averages the circuit's whole mixture."
        )
    if not circuit.num_parameters:
        return [circuit]
    return [circuit.assign_parameters(row) for row in rows]


def _without_final_measurements(circuit: QuantumCircuit, index: int) -> QuantumCircuit:
    """The circuit without its final measurements; mid-circuit measurements are refused."""
    if "measure" not in circuit.count_ops():
        return circuit
    stripped = circuit.remove_final_measurements(inplace=False)
    if "measure" in stripped.count_ops():
        raise HaiquInputError(
            f"Pub {index}: the circuit measures qubits before its end. The estimator takes "
            "circuits without mid-circuit measurements; use HaiquSampler for dynamic "
            "circuits."
        )
    return stripped


def _planned_job(items: Sequence[_PreparedPub], members: list[int]) -> PlannedJob:
    """The job of pubs that share shots and parameterisation (and exactness)."""
    entries = [item.entries for item in items]
    if items[0].exact:
        # A statevector run of the bound circuits; the values are computed here from the
        # amplitudes. Its job is decoded by this process only (the observables are not
        # stored with it), so it carries no reattachment context.
        bound = [circuit for item in items for circuit in item.bound or []]
        return PlannedJob(members, entries, 1, bound, run_type="StatevectorRun")
    circuits: list[QuantumCircuit] = []
    observables: list[list[ObservablePair]] = []
    rows: list[np.ndarray] = []
    for item in items:
        for entry in item.plan.entries:
            circuits.append(item.circuit)
            observables.append([item.pairs[o] for o in entry.obs_ids])
            rows.append(item.rows[entry.row_ids])
    return PlannedJob(
        members,
        entries,
        items[0].shots,
        circuits,
        parameters=wire_parameters(rows) if items[0].parameterised else None,
        observables=observables,
        context=write_context({"kind": "estimator", "pubs": [_pub_context(i) for i in items]}),
    )


def _pub_context(item: _PreparedPub) -> dict[str, Any]:
    """What decoding this pub needs besides the circuit (which the service stores)."""
    index = item.plan.obs_index
    return {
        "obs": index.ravel().tolist(),
        "obs_shape": list(index.shape),
        "row_shape": list(item.pub.parameter_values.shape),
        "precision": float(item.pub.precision),
        "entries": len(item.plan.entries),
    }


def _rebuild(
    job: RunJob, context: dict[str, Any], circuit: Callable[[str], QuantumCircuit]
) -> list[_PreparedPub]:
    """The pubs a stored job was submitted with (enough of them to decode it)."""
    prepared: list[_PreparedPub] = []
    entry = 0
    for spec in context["pubs"]:
        stored = circuit(job.circuit_ids[entry])
        obs_index = np.array(spec["obs"], dtype=np.intp).reshape(spec["obs_shape"])
        row_shape = tuple(spec["row_shape"])
        # The observables only give the pub its shape here; their values are not needed.
        placeholders = np.empty(obs_index.shape, dtype=object)
        placeholders.fill(SparseObservable.identity(stored.num_qubits))
        pub = EstimatorPub(
            stored,
            ObservablesArray(placeholders, num_qubits=stored.num_qubits, validate=False),
            BindingsArray(shape=row_shape),
            precision=spec["precision"],
            validate=False,
        )
        rows = np.zeros((0, stored.num_parameters))
        plan = plan_pub(obs_index, row_shape)
        prepared.append(_PreparedPub(pub, stored, job.shots, rows, [], plan))
        entry += int(spec["entries"])
    return prepared


def _exact_result(item: _PreparedPub, states: Sequence[Any], job: RunJob) -> PubResult:
    """Exact values of a pub from the amplitudes of its bound circuits (``[re, im]`` each)."""
    pub = item.pub
    try:
        vectors = [
            Statevector(np.asarray(state[0], dtype=float) + 1j * np.asarray(state[1], dtype=float))
            for state in states
        ]
    except (TypeError, ValueError, IndexError) as exc:
        raise HaiquInvalidResponseError(
            f"Job {job.id}: the service's statevectors cannot be read ({exc}). Report this to "
            "Haiqu support."
        ) from None
    operators = [
        SparsePauliOp.from_sparse_observable(observable)
        for observable in pub.observables.sparse_observables_array().ravel()
    ]
    obs_of = np.broadcast_to(np.arange(len(operators)).reshape(pub.observables.shape), pub.shape)
    rows_shape = pub.parameter_values.shape
    row_of = np.broadcast_to(
        np.arange(max(1, math.prod(rows_shape))).reshape(rows_shape), pub.shape
    )
    evs = np.empty(pub.shape)
    for position in np.ndindex(pub.shape):
        vector = vectors[int(row_of[position]) if len(vectors) > 1 else 0]
        evs[position] = float(np.real(vector.expectation_value(operators[int(obs_of[position])])))
    metadata = {
        "target_precision": pub.precision,
        "shots": 0,
        "circuit_metadata": pub.circuit.metadata,
        "haiqu_job_id": job.id,
        "stds_source": "exact",
        "num_evaluations": int(evs.size),
    }
    return PubResult(DataBin(evs=evs, stds=np.zeros(pub.shape), shape=pub.shape), metadata=metadata)


def _unsent_result(item: _PreparedPub) -> PubResult:
    """The result of a pub that was not sent: exact for 0-qubit circuits, else empty."""
    if not item.local or item.pub.size == 0:
        return _empty_result(item, None)
    pub = item.pub
    exact = EstimatorPub(pub.circuit, pub.observables, pub.parameter_values, 0.0, validate=False)
    reference = StatevectorEstimator().run([exact]).result()[0]
    metadata = {
        "target_precision": item.pub.precision,
        "shots": 0,
        "circuit_metadata": item.pub.circuit.metadata,
        "stds_source": "exact",
        "num_evaluations": 0,
    }
    return PubResult(reference.data, metadata=metadata)


def _entry_matrix(raw: Any, num_obs: int, num_rows: int, job_id: str) -> np.ndarray:
    """One circuit entry's results as an (observables, rows) float array."""
    try:
        matrix = np.asarray(raw, dtype=np.float64).reshape(num_obs, num_rows)
    except (TypeError, ValueError) as exc:
        raise HaiquInvalidResponseError(
            f"Job {job_id}: the service's expectation values do not have the expected shape "
            f"({num_obs} observables x {num_rows} rows): {exc}. Report this to Haiqu support."
        ) from None
    return matrix


def _pub_result(
    item: _PreparedPub, values: Sequence[Any], uncertainty: Sequence[Any] | None, job: RunJob
) -> PubResult:
    evs_parts = []
    stds_parts = []
    for entry, raw in zip(item.plan.entries, values, strict=True):
        num_obs, num_rows = len(entry.obs_ids), len(entry.row_ids)
        evs = _entry_matrix(raw, num_obs, num_rows, job.id)
        evs_parts.append(evs)
        if uncertainty is not None:
            stds_parts.append(
                _entry_matrix(uncertainty[len(evs_parts) - 1], num_obs, num_rows, job.id)
            )
        elif not item.pairs:  # reattached without the observables: nothing to estimate from
            stds_parts.append(np.full_like(evs, np.nan))
        else:
            stds_parts.append(
                stds_fallback(evs, [item.pairs[o] for o in entry.obs_ids], item.shots)
            )
    data = DataBin(
        evs=item.plan.gather(evs_parts),
        stds=item.plan.gather(stds_parts),
        shape=item.pub.shape,
    )
    metadata = {
        "target_precision": item.pub.precision,
        "shots": item.shots,
        "circuit_metadata": item.pub.circuit.metadata,
        "haiqu_job_id": job.id,
        "stds_source": (
            "service" if uncertainty is not None else "estimated" if item.pairs else "unavailable"
        ),
        "num_evaluations": int(sum(len(e.obs_ids) * len(e.row_ids) for e in item.plan.entries)),
    }
    return PubResult(data, metadata=metadata)


def _empty_result(item: _PreparedPub, job: RunJob | None) -> PubResult:
    """A pub result without values: zero-size pubs, and dry runs (which run nothing)."""
    shape = item.pub.shape
    metadata: dict[str, Any] = {
        "target_precision": item.pub.precision,
        "shots": item.shots,
        "circuit_metadata": item.pub.circuit.metadata,
    }
    if job is not None:
        metadata["haiqu_job_id"] = job.id
        metadata["dry_run"] = bool(job.dry_run)
    filler = np.full(shape, np.nan) if job is not None else np.zeros(shape)
    return PubResult(DataBin(evs=filler, stds=filler.copy(), shape=shape), metadata=metadata)
