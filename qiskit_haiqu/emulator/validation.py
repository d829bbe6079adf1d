"""Checks of a ``POST /run`` request, done before any job exists, and the resulting plan.

Every refusal is an :class:`InvalidRequest`, answered 422 in FastAPI's shape
``{"detail": [{"loc": [...], "msg": ..., "type": ...}]}``.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import ValidationError
from qiskit.circuit import QuantumCircuit
from qiskit.exceptions import QiskitError
from qiskit.quantum_info import SparsePauliOp
from qiskit.transpiler import TranspileLayout
from qiskit_aer.noise import NoiseModel

from qiskit_haiqu.api.models import ObservablePair, RunSubmit, RunType
from qiskit_haiqu.emulator.devices import AER_SIMULATOR, MPS_METHOD, DeviceCatalog
from qiskit_haiqu.emulator.settings import EmulatorSettings
from qiskit_haiqu.emulator.simulate import Entry, RunPlan
from qiskit_haiqu.emulator.state import CircuitRecord, EmulatorState

__all__ = ["InvalidRequest", "build_plan", "parse_run_submit"]

Loc = tuple[str | int, ...]

_PAULI = re.compile(r"^[IXYZ]+$")
_METHODS = ("automatic", "statevector", "density_matrix", MPS_METHOD, "stabilizer")
_MAX_SEED = 2**63


class InvalidRequest(Exception):  # noqa: N818 - named for what the client sent
    """The request cannot be served; ``errors`` are FastAPI-style detail items."""

    def __init__(self, errors: list[dict[str, Any]], status_code: int = 422) -> None:
        super().__init__("; ".join(str(e["msg"]) for e in errors))
        self.errors = errors
        self.status_code = status_code


def error(loc: Loc, msg: str, kind: str = "value_error") -> dict[str, Any]:
    """One detail item."""
    return {"loc": list(loc), "msg": msg, "type": kind}


def pydantic_errors(exc: ValidationError, prefix: Loc = ("body",)) -> list[dict[str, Any]]:
    """A pydantic error as detail items, without echoing the input."""
    return [
        error((*prefix, *item["loc"]), item["msg"], item["type"])
        for item in exc.errors(include_url=False, include_input=False, include_context=False)
    ]


def parse_run_submit(body: bytes) -> RunSubmit:
    """Parse a ``POST /run`` body strictly (numbers must be JSON numbers)."""
    try:
        return RunSubmit.model_validate_json(body or b"null", strict=True)
    except ValidationError as exc:
        raise InvalidRequest(pydantic_errors(exc)) from None


def build_plan(
    request: RunSubmit,
    *,
    state: EmulatorState,
    catalog: DeviceCatalog,
    settings: EmulatorSettings,
) -> RunPlan:
    """Check a run request against the stored data and limits; return what to execute.

    Raises:
        InvalidRequest: anything that would make the job fail or be meaningless.
    """
    errors: list[dict[str, Any]] = []
    if state.get_experiment(request.experiment_id) is None:
        errors.append(error(("body", "experiment_id"), "Unknown experiment id.", "not_found"))
    device_id = request.device_id or AER_SIMULATOR
    spec = catalog.spec(device_id)
    if spec is None:
        known = ", ".join(catalog.ids())
        errors.append(
            error(
                ("body", "device_id"), f"Unknown device {device_id!r}; known: {known}.", "not_found"
            )
        )
    if request.shots > settings.max_shots:
        errors.append(error(("body", "shots"), f"shots must be <= {settings.max_shots}."))
    if request.readout_bases is not None:
        errors.append(
            error(
                ("body", "readout_bases"),
                "readout_bases is not supported by the emulator.",
                "not_supported",
            )
        )
    records = _circuits(request.circuit_ids, state, settings, errors)
    options = _Options(request.options, device_id, errors)
    if errors:
        raise InvalidRequest(errors)
    assert spec is not None  # noqa: S101 - checked above

    statevector = request.run_type == RunType.STATEVECTOR_RUN.value
    if statevector:
        _check_statevector_run(request, records, settings, errors)
    observables = _observables(request.observables, records, settings, errors)
    groups = _parameter_groups(request.parameters, records, settings, errors)
    _check_widths(
        records, observables, device_id, spec.noisy, options, statevector, catalog, settings, errors
    )
    if options.skip_transpilation and spec.noisy and not statevector:
        _check_instruction_set(records, device_id, catalog, errors)
    if errors:
        raise InvalidRequest(errors)
    entries = [
        Entry(record.model.id, record.circuit, rows, obs)
        for record, rows, obs in zip(records, groups, observables, strict=True)
    ]
    return RunPlan(
        entries=entries,
        device_id=device_id,
        shots=request.shots,
        seed=options.seed,
        method=options.method,
        bond_dim=options.bond_dim,
        noise_model=options.noise_model,
        key_format=settings.key_format,
        max_density_matrix_qubits=settings.max_density_matrix_qubits,
        max_trajectories=settings.max_trajectories,
        use_mitigation=bool(request.use_mitigation),
        readout_mitigation=options.readout_mitigation,
        statevector=statevector,
        skip_transpilation=options.skip_transpilation,
        with_parameters=request.parameters is not None,
        with_observables=request.observables is not None,
    )


class _Options:
    """The ``options`` the emulator acts on; every other key is ignored."""

    def __init__(
        self, options: dict[str, Any], device_id: str, errors: list[dict[str, Any]]
    ) -> None:
        def bad(key: str, msg: str) -> None:
            errors.append(error(("body", "options", key), msg))

        self.method: str | None = None
        self.seed: int | None = None
        self.bond_dim: int | None = None
        self.noise_model: NoiseModel | None = None
        self.readout_mitigation = True
        self.skip_transpilation = False
        skip = options.get("skip_transpilation")
        if skip is not None:
            if not isinstance(skip, bool):
                bad("skip_transpilation", "skip_transpilation must be a boolean.")
            else:
                self.skip_transpilation = skip
        mitigation = options.get("error_mitigation_options")
        if mitigation is not None:
            # Only readout mitigation is emulated; the other switches are accepted and
            # ignored (twirling and dynamical decoupling are skipped on simulators anyway).
            if not isinstance(mitigation, dict):
                bad("error_mitigation_options", "error_mitigation_options must be an object.")
            else:
                readout = mitigation.get("readout_mitigation")
                if readout is not None and not isinstance(readout, bool):
                    bad(
                        "error_mitigation_options",
                        "error_mitigation_options.readout_mitigation must be a boolean.",
                    )
                elif readout is False:
                    self.readout_mitigation = False
        method = options.get("method")
        if method is not None:
            # An unknown method name goes to Aer, and the job ends in Error with its message.
            if not isinstance(method, str):
                bad("method", f"method must be a string such as {', '.join(_METHODS)}.")
            else:
                self.method = None if method == "automatic" else method
        seed = options.get("seed_simulator")
        if seed is not None:
            if not _is_int(seed) or not 0 <= seed < _MAX_SEED:
                bad("seed_simulator", "seed_simulator must be an integer in [0, 2**63).")
            else:
                self.seed = int(seed)
        bond = options.get("matrix_product_state_max_bond_dimension")
        if bond is not None:
            if not _is_int(bond) or not 1 <= bond <= 1_000_000:
                bad(
                    "matrix_product_state_max_bond_dimension",
                    "matrix_product_state_max_bond_dimension must be a positive integer.",
                )
            else:
                self.bond_dim = int(bond)
        noise = options.get("noise_model")
        if noise is not None:
            if device_id != AER_SIMULATOR:
                bad("noise_model", "noise_model is only accepted for aer_simulator.")
            elif not isinstance(noise, dict):
                bad("noise_model", "noise_model must be a qiskit-aer NoiseModel.to_dict() object.")
            else:
                try:
                    with warnings.catch_warnings():
                        # Deprecated in Aer, but it reads the wire format the SDK documents.
                        warnings.simplefilter("ignore", DeprecationWarning)
                        self.noise_model = NoiseModel.from_dict(noise)
                except Exception as exc:  # noqa: BLE001 - any failure means an unreadable model
                    bad("noise_model", f"noise_model cannot be read: {type(exc).__name__}: {exc}")

    @property
    def mps(self) -> bool:
        """Whether the matrix-product-state method was asked for."""
        return self.method == MPS_METHOD


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _circuits(
    circuit_ids: list[str],
    state: EmulatorState,
    settings: EmulatorSettings,
    errors: list[dict[str, Any]],
) -> list[CircuitRecord]:
    if not circuit_ids:
        errors.append(error(("body", "circuit_ids"), "At least one circuit id is required."))
        return []
    if len(circuit_ids) > settings.max_circuits_per_job:
        errors.append(
            error(
                ("body", "circuit_ids"),
                f"At most {settings.max_circuits_per_job} circuits per job.",
            )
        )
        return []
    records = []
    for index, circuit_id in enumerate(circuit_ids):
        record = state.get_circuit(circuit_id)
        if record is None:
            errors.append(
                error(
                    ("body", "circuit_ids", index),
                    f"Unknown circuit id {circuit_id!r}.",
                    "not_found",
                )
            )
        else:
            records.append(record)
    return records


def _check_statevector_run(
    request: RunSubmit,
    records: list[CircuitRecord],
    settings: EmulatorSettings,
    errors: list[dict[str, Any]],
) -> None:
    if request.parameters is not None:
        errors.append(error(("body", "parameters"), "StatevectorRun takes no parameters."))
    if request.observables is not None:
        errors.append(error(("body", "observables"), "StatevectorRun takes no observables."))
    for index, record in enumerate(records):
        circuit = record.circuit
        loc: Loc = ("body", "circuit_ids", index)
        if circuit.num_parameters:
            errors.append(error(loc, "StatevectorRun needs unparameterised circuits."))
        stripped = circuit.remove_final_measurements(inplace=False)
        if any(inst.operation.name in ("measure", "reset") for inst in stripped.data):
            errors.append(
                error(
                    loc, "StatevectorRun needs circuits without mid-circuit measurements or resets."
                )
            )


def _observables(
    observables: list[Any] | None,
    records: list[CircuitRecord],
    settings: EmulatorSettings,
    errors: list[dict[str, Any]],
) -> list[list[ObservablePair] | None]:
    if observables is None:
        return [None] * len(records)
    if len(observables) != len(records):
        errors.append(
            error(
                ("body", "observables"),
                f"observables must have one list per circuit: got {len(observables)} "
                f"for {len(records)} circuits.",
            )
        )
        return [None] * len(records)
    terms = 0
    result: list[list[ObservablePair] | None] = []
    for index, (per_circuit, record) in enumerate(zip(observables, records, strict=True)):
        circuit = record.circuit
        # "honour": the uploaded circuit's layout makes its observables virtual (Q8).
        layout = circuit.layout if settings.upload_layout == "honour" else None
        mapped: list[ObservablePair] = []
        for obs_index, (labels, coeffs) in enumerate(per_circuit):
            loc: Loc = ("body", "observables", index, obs_index)
            terms += len(labels)
            valid = len(labels) == len(coeffs)
            if not valid:
                errors.append(
                    error(loc, f"{len(labels)} Pauli labels but {len(coeffs)} coefficients.")
                )
            for label in labels:
                if not _PAULI.match(label):
                    errors.append(
                        error((*loc, 0), f"Pauli label {label[:50]!r} must use only I, X, Y, Z.")
                    )
                    valid = False
                    break
                if layout is None and len(label) != circuit.num_qubits:
                    errors.append(
                        error(
                            (*loc, 0),
                            f"Pauli label {label[:50]!r} has {len(label)} "
                            f"characters; the circuit has {circuit.num_qubits} qubits.",
                        )
                    )
                    valid = False
                    break
            if not all(math.isfinite(c) for c in coeffs):
                errors.append(error((*loc, 1), "Coefficients must be finite real numbers."))
                valid = False
            if valid and layout is not None and labels:
                try:
                    labels, coeffs = _through_layout(labels, coeffs, layout)
                except QiskitError as exc:
                    errors.append(
                        error(
                            (*loc, 0),
                            f"The circuit carries a layout, so its observables are virtual "
                            f"and mapped through it (observable.apply_layout(circuit.layout)"
                            f"): {exc.message}",
                        )
                    )
            mapped.append((list(labels), list(coeffs)))
        result.append(mapped)
    if terms > settings.max_observable_terms:
        errors.append(
            error(
                ("body", "observables"),
                f"At most {settings.max_observable_terms} Pauli terms per job.",
            )
        )
    return result


def _through_layout(
    labels: Sequence[str], coeffs: Sequence[float], layout: TranspileLayout
) -> tuple[list[str], list[float]]:
    """An observable mapped as ``SparsePauliOp.apply_layout(layout)`` maps it.

    Raises:
        QiskitError: the observable's width is not the layout's virtual width.
    """
    operator = SparsePauliOp(list(labels), np.asarray(coeffs, dtype=float))
    operator = operator.apply_layout(layout)
    return operator.paulis.to_labels(), np.real(operator.coeffs).tolist()


def _parameter_groups(
    parameters: list[Any] | None,
    records: list[CircuitRecord],
    settings: EmulatorSettings,
    errors: list[dict[str, Any]],
) -> list[np.ndarray | None]:
    if parameters is None:
        for index, record in enumerate(records):
            if record.circuit.num_parameters:
                errors.append(
                    error(
                        ("body", "parameters"),
                        f"circuit_ids[{index}] has {record.circuit.num_parameters} "
                        "parameters, but parameters is null.",
                    )
                )
        return [None] * len(records)
    single_2d = len(records) == 1 and not _looks_3d(parameters)
    if single_2d:
        groups: list[Any] = [parameters]
        locs: list[Loc] = [("body", "parameters")]
    else:
        if len(parameters) != len(records):
            errors.append(
                error(
                    ("body", "parameters"),
                    "parameters must be 2-D for one circuit, or 3-D with one group "
                    f"of rows per circuit: got {len(parameters)} groups for "
                    f"{len(records)} circuits.",
                )
            )
            return [None] * len(records)
        groups = parameters
        locs = [("body", "parameters", index) for index in range(len(records))]
    result: list[np.ndarray | None] = []
    total_rows = 0
    for group, loc, record in zip(groups, locs, records, strict=True):
        rows = _rows(group, loc, record.circuit, errors)
        total_rows += 0 if rows is None else len(rows)
        result.append(rows)
    if total_rows > settings.max_parameter_rows:
        errors.append(
            error(
                ("body", "parameters"),
                f"At most {settings.max_parameter_rows} parameter rows per job.",
            )
        )
    return result


def _looks_3d(parameters: list[Any]) -> bool:
    first = parameters[0] if parameters else None
    return isinstance(first, list) and bool(first) and isinstance(first[0], list)


def _rows(
    group: Any, loc: Loc, circuit: QuantumCircuit, errors: list[dict[str, Any]]
) -> np.ndarray | None:
    count = circuit.num_parameters
    if count == 0:
        errors.append(
            error(
                loc,
                "This circuit has no parameters; it takes no parameter rows "
                "(give parameters: null for a job of unparameterised circuits).",
            )
        )
        return None
    if not isinstance(group, list) or not group:
        errors.append(error(loc, "Give at least one row of parameter values."))
        return None
    if not all(isinstance(row, list) for row in group):
        errors.append(error(loc, "Each row must be a list of numbers."))
        return None
    lengths = {len(row) for row in group}
    if lengths != {count}:
        bad = next(i for i, row in enumerate(group) if len(row) != count)
        names = ", ".join(p.name for p in circuit.parameters)[:200]
        errors.append(
            error(
                (*loc, bad),
                f"Row has {len(group[bad])} values; the circuit has {count} parameters ({names}).",
            )
        )
        return None
    types = {type(value) for row in group for value in row}
    if not types <= {int, float}:
        errors.append(error(loc, "Parameter values must be JSON numbers."))
        return None
    try:
        rows = np.array(group, dtype=np.float64)
    except OverflowError:
        rows = np.array([np.inf])
    if not np.isfinite(rows).all():
        errors.append(error(loc, "Parameter values must be finite (no NaN or infinity)."))
        return None
    return rows


def _check_widths(
    records: list[CircuitRecord],
    observables: list[list[ObservablePair] | None],
    device_id: str,
    noisy: bool,
    options: _Options,
    statevector: bool,
    catalog: DeviceCatalog,
    settings: EmulatorSettings,
    errors: list[dict[str, Any]],
) -> None:
    """Refuse circuits too large to simulate, or wider than the fake device they target.

    The simulation limits count the qubits a circuit acts on (see :func:`_active_qubits`),
    as Aer, which drops the others, simulates them: a circuit transpiled for a large device
    (an ISA circuit, as wide as the device, acting on a few of its qubits) runs wherever the
    qubits it uses fit. A fake device's own width still bounds the circuit's width, and a
    ``StatevectorRun`` returns every amplitude, so there the circuit's full width counts.
    """
    device_qubits = catalog.num_qubits(device_id) if noisy else None
    mps_fix = " Use options.method='matrix_product_state' for wider circuits, or fewer qubits."
    if statevector:
        limit, why = settings.max_statevector_run_qubits, "StatevectorRun"
        fix = " Run it as a sampled job instead, or with fewer qubits."
    elif device_qubits is not None:
        if options.mps:
            limit, why, fix = device_qubits, f"{device_id}", ""
        else:
            limit = min(settings.max_noisy_qubits, device_qubits)
            why = f"{device_id} without method=matrix_product_state"
            fix = mps_fix
    elif options.noise_model is not None:
        limit = settings.max_mps_qubits if options.mps else settings.max_noisy_qubits
        why = "aer_simulator with a noise model"
        fix = "" if options.mps else mps_fix
    elif options.mps:
        limit, why = settings.max_mps_qubits, "aer_simulator with matrix_product_state"
        fix = " Use fewer qubits."
    else:
        limit, why = settings.max_statevector_qubits, "aer_simulator (statevector)"
        fix = mps_fix
    for index, (record, obs) in enumerate(zip(records, observables, strict=True)):
        width = record.circuit.num_qubits
        loc: Loc = ("body", "circuit_ids", index)
        if device_qubits is not None and width > device_qubits:
            errors.append(
                error(
                    loc,
                    f"The circuit has {width} qubits; {device_id} has {device_qubits}. Transpile "
                    f"it for {device_id} (its backend's target), or choose a device with at "
                    f"least {width} qubits.",
                    "too_large",
                )
            )
            continue
        active = width if statevector else _active_qubits(record, obs)
        if active > limit:
            has = f"has {width}" if active == width else f"acts on {active} of its {width}"
            errors.append(
                error(
                    loc,
                    f"The circuit {has} qubits; {why} allows at most {limit}.{fix}",
                    "too_large",
                )
            )


def _check_instruction_set(
    records: Sequence[CircuitRecord],
    device_id: str,
    catalog: DeviceCatalog,
    errors: list[dict[str, Any]],
) -> None:
    """With ``skip_transpilation``, a device runs only circuits in its instruction set."""
    target = catalog.backend(device_id).target
    for index, record in enumerate(records):
        circuit = record.circuit
        for instruction in circuit.data:
            name = instruction.operation.name
            if name == "barrier":
                continue
            qubits = tuple(circuit.find_bit(q).index for q in instruction.qubits)
            if not target.instruction_supported(name, qubits):
                errors.append(
                    error(
                        ("body", "circuit_ids", index),
                        f"With skip_transpilation the circuit runs as it is, but {name} on "
                        f"qubits {list(qubits)} is not in {device_id}'s instruction set. "
                        f"Transpile it for {device_id} (its backend's target), or drop "
                        "skip_transpilation.",
                        "not_in_target",
                    )
                )
                break


def _active_qubits(record: CircuitRecord, observables: list[ObservablePair] | None) -> int:
    """How many qubits simulating the circuit takes: those it acts on, as Aer counts them.

    A qubit counts when the circuit acts on it (:attr:`CircuitRecord.acted_on`) or when an
    observable measures it (a label character other than ``I``); Aer's truncation leaves all
    others out of the simulated state.
    """
    active = set(record.acted_on)
    for labels, _ in observables or ():
        for label in labels:
            active.update(q for q, pauli in enumerate(reversed(label)) if pauli != "I")
    return len(active)
