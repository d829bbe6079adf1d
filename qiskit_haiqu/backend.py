"""HaiquBackend: a Haiqu device as a Qiskit ``BackendV2``, with a target to transpile for.

The target is built from what the service says of the device (``GET /devices/{id}``): its
qubit count, ``operation_names`` and ``coupling_map``. Names are read as Qiskit's standard
gates, measure, reset, delay and control flow; any other name is left out of the target and
reported in :attr:`HaiquBackend.unknown_operations`, never guessed.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from qiskit.circuit import BreakLoopOp, ContinueLoopOp, QuantumCircuit, Store
from qiskit.circuit.controlflow import get_control_flow_name_mapping
from qiskit.circuit.library import get_standard_gate_name_mapping
from qiskit.primitives import DataBin, PrimitiveResult
from qiskit.providers import BackendV2, JobError, JobStatus, JobV1, Options
from qiskit.result import Result
from qiskit.result.models import ExperimentResult, ExperimentResultData
from qiskit.transpiler import Target

from qiskit_haiqu.api.client import HaiquClient
from qiskit_haiqu.api.models import Device
from qiskit_haiqu.errors import HaiquInputError
from qiskit_haiqu.primitives import HaiquJob, HaiquSampler, SamplerOptions

__all__ = ["HaiquBackend", "HaiquBackendJob", "device_target", "joined_counts"]

_SHOWN = 8  # unknown operation names a warning spells out
_DIRECTIVES = frozenset({"barrier"})  # always allowed by the transpiler; no target entry
_VARIADIC: dict[str, type] = {
    **get_control_flow_name_mapping(),
    "break_loop": BreakLoopOp,
    "continue_loop": ContinueLoopOp,
    "store": Store,
}


def device_target(device: Device) -> tuple[Target, list[str]]:
    """The Qiskit target of a device, and the operation names left out of it.

    One- and zero-qubit operations act on every qubit, two-qubit ones on each edge of the
    device's coupling map (on any pair when it has none). A name that is not a standard
    gate, measure, reset, delay, a barrier or control flow is left out, and so is an
    operation on more than two qubits of a device with a coupling map (which qubits it may
    act on is not known).
    """
    standard = get_standard_gate_name_mapping()
    edges = None if device.coupling_map is None else [tuple(e) for e in device.coupling_map]
    target = Target(num_qubits=device.qubits, description=device.name)
    unknown: list[str] = []
    for name in device.operation_names or []:
        if name in _DIRECTIVES:
            continue
        if name in _VARIADIC:
            target.add_instruction(_VARIADIC[name], name=name)
            continue
        operation = standard.get(name)
        if operation is None or (edges is not None and operation.num_qubits > 2):
            unknown.append(name)
            continue
        properties: dict[tuple[int, ...], None] | None = None
        if edges is not None and operation.num_qubits == 1:
            properties = {(qubit,): None for qubit in range(device.qubits)}
        elif edges is not None and operation.num_qubits == 2:
            properties = dict.fromkeys(edges)
        target.add_instruction(operation, properties, name=name)
    return target, unknown


class HaiquBackend(BackendV2):
    """A Haiqu device as a Qiskit backend: transpile for it, or run circuits on it.

    Get one from :meth:`HaiquService.backend() <qiskit_haiqu.HaiquService.backend>`. Its
    ``target`` gives ``generate_preset_pass_manager(backend=backend)`` the device's gates
    and connectivity; ``run()`` samples circuits through :class:`~qiskit_haiqu.HaiquSampler`
    and returns a job whose ``result()`` is a :class:`qiskit.result.Result`; and the
    primitives take it as ``HaiquSampler(mode=backend)`` / ``HaiquEstimator(mode=backend)``.

    Example:
        >>> backend = HaiquService().backend("fake_manila")
        >>> isa = generate_preset_pass_manager(backend=backend).run(circuit)
        >>> counts = backend.run(isa, shots=1000).result().get_counts()
    """

    def __init__(self, device: Device, client: HaiquClient) -> None:
        """Create the backend of ``device`` on ``client`` (see :class:`HaiquService`).

        Warns:
            UserWarning: the device lists operations the target leaves out (see
                :attr:`unknown_operations`), or a device that is not a simulator reports no
                coupling map.
        """
        super().__init__(
            name=device.id,
            description=device.name,
            online_date=device.last_updated,
            backend_version=None,
        )
        self._device = device
        self._client = client
        self._target, unknown = device_target(device)
        self._unknown = tuple(unknown)
        self._sampler: HaiquSampler | None = None
        if unknown:
            shown = ", ".join(unknown[:_SHOWN])
            more = f" and {len(unknown) - _SHOWN} more" if len(unknown) > _SHOWN else ""
            warnings.warn(
                f"Device {device.id} lists {len(unknown)} operation(s) that Qiskit has no "
                "standard instruction for, or that act on more than two qubits of its "
                f"coupling map: {shown}{more}. They are left out of backend.target, so the "
                "transpiler does not use them; backend.unknown_operations lists them all.",
                UserWarning,
                stacklevel=3,
            )
        if device.coupling_map is None and not device.simulator:
            warnings.warn(
                f"Device {device.id} reports no coupling map: its target lets two-qubit gates "
                "act on any pair of qubits. The service still transpiles every circuit for "
                "the device unless device_options={'skip_transpilation': True}.",
                UserWarning,
                stacklevel=3,
            )

    def __repr__(self) -> str:
        return f"<HaiquBackend('{self.name}')>"

    @property
    def device(self) -> Device:
        """The device as the service describes it."""
        return self._device

    @property
    def device_id(self) -> str:
        """The Haiqu device id (the backend's ``name``)."""
        return self._device.id

    @property
    def client(self) -> HaiquClient:
        """The client this backend (and primitives built on it) talk through."""
        return self._client

    @property
    def simulator(self) -> bool:
        """Whether the device is a simulator (``fake_*`` devices included)."""
        return self._device.simulator

    @property
    def unknown_operations(self) -> tuple[str, ...]:
        """Operation names of the device that the target leaves out (never guessed)."""
        return self._unknown

    @property
    def target(self) -> Target:
        """The device's gates, measure, reset, delay, control flow and connectivity."""
        return self._target

    @property
    def max_circuits(self) -> None:
        """No limit: ``run()`` splits large batches into several Haiqu jobs itself."""
        return None

    @classmethod
    def _default_options(cls) -> Options:
        return Options(shots=SamplerOptions.model_fields["default_shots"].default)

    def run(
        self, run_input: QuantumCircuit | Sequence[QuantumCircuit], **options: Any
    ) -> HaiquBackendJob:
        """Sample circuits on the device (through :class:`~qiskit_haiqu.HaiquSampler`).

        Args:
            run_input: A circuit or a list of circuits (parameters bound).
            options: ``shots`` (default ``backend.options.shots``).

        Returns:
            A job whose ``result()`` is a :class:`qiskit.result.Result`: ``get_counts()``
            joins the registers as Qiskit does (space-separated, last register first).

        Raises:
            HaiquInputError: an unknown option.
            ValueError, TypeError: a circuit the sampler refuses; nothing was submitted.
        """
        unknown = sorted(name for name in options if not hasattr(self.options, name))
        if unknown:
            valid = ", ".join(sorted(self.options.__dict__))
            raise HaiquInputError(
                f"Unknown run option(s) {', '.join(map(repr, unknown))} for {self.name}; "
                f"the valid ones are: {valid}."
            )
        shots = options.get("shots", self.options.shots)
        circuits = [run_input] if isinstance(run_input, QuantumCircuit) else list(run_input)
        if self._sampler is None:  # one sampler: its uploads and device check are reused
            self._sampler = HaiquSampler(mode=self)
        job = self._sampler.run(circuits, shots=shots)
        return HaiquBackendJob(self, job, circuits)


class HaiquBackendJob(JobV1):
    """The job :meth:`HaiquBackend.run` returns: a :class:`HaiquJob` seen as a ``JobV1``.

    ``job_id()``, ``status()`` and ``cancel()`` are the sampler job's; ``result()`` turns
    its result into a :class:`qiskit.result.Result` of counts.
    """

    def __init__(
        self, backend: HaiquBackend, job: HaiquJob, circuits: Sequence[QuantumCircuit]
    ) -> None:
        """Wrap ``job``, the sampler job of ``circuits`` on ``backend``."""
        super().__init__(backend, job.job_id())
        self._job = job
        self._circuits = list(circuits)

    @property
    def primitive_job(self) -> HaiquJob:
        """The sampler job behind this one (Haiqu ids, dashboard links, the raw result)."""
        return self._job

    def submit(self) -> None:
        """Jobs are submitted by ``run()``.

        Raises:
            JobError: always.
        """
        raise JobError(f"Job {self.job_id()} was submitted by backend.run(); it runs already.")

    def status(self) -> JobStatus:
        """The job's status."""
        return self._job.status()

    def cancel(self) -> bool:
        """Cancel the job on the service; ``False`` when it had already finished."""
        return self._job.cancel()

    def result(self, timeout: float | None = None) -> Result:
        """Wait for the job and return its counts, one experiment per circuit.

        Raises:
            JobTimeoutError: not final within ``timeout`` seconds (the job keeps running).
            JobFailedError, JobCancelledError: the job failed or was cancelled.
        """
        primitive: PrimitiveResult[Any] = self._job.result(timeout=timeout)
        experiments = [
            ExperimentResult(
                shots=int(pub.metadata.get("shots", 0)),
                success=True,
                data=ExperimentResultData(counts=joined_counts(circuit, pub.data)),
                header={"name": circuit.name, "metadata": circuit.metadata},
            )
            for circuit, pub in zip(self._circuits, primitive, strict=True)
        ]
        return Result(
            backend_name=self.backend().name,
            backend_version=None,
            job_id=self.job_id(),
            success=True,
            results=experiments,
            status="DONE",
        )


def joined_counts(circuit: QuantumCircuit, data: DataBin) -> dict[str, int]:
    """Counts keyed as Qiskit's ``get_counts`` keys them: registers joined by spaces, last first.

    ``data`` holds one ``BitArray`` per classical register of ``circuit`` (a sampler pub
    result's data); a circuit without registers has no counts.
    """
    registers: Iterable[Any] = [getattr(data, creg.name) for creg in reversed(circuit.cregs)]
    strings = [bits.get_bitstrings() for bits in registers]
    return dict(Counter(" ".join(parts) for parts in zip(*strings, strict=True)))
