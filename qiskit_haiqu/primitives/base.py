"""What HaiquSampler and HaiquEstimator share: construction, the flow of a run, reattaching.

The shared algorithm lives here (template methods); a primitive supplies only what differs:
how its pubs are grouped into jobs and written to the wire (``_group_key``, ``_entries``,
``_planned_job``), how a pub's result is read (``_pub_result``, ``_dry_run_result``,
``_unsent_result``) and how a stored job gives its pubs back (``_rebuild``).

The flow of one ``run()``: the subclass validates its pubs, :meth:`HaiquPrimitive._plan`
makes a :class:`~qiskit_haiqu.primitives.plan.RunPlan` (no request),
:meth:`HaiquPrimitive._start` hands it to the
:class:`~qiskit_haiqu.primitives.submission.Submitter` and wraps the jobs in a
:class:`~qiskit_haiqu.HaiquJob`, whose ``result()`` calls :meth:`HaiquPrimitive._decode`
with the same plan.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any, Generic, TypeVar

from qiskit.circuit import QuantumCircuit
from qiskit.primitives import PrimitiveResult
from qiskit.providers import BackendV2

from qiskit_haiqu.api.client import HaiquClient
from qiskit_haiqu.api.models import RunJob
from qiskit_haiqu.errors import HaiquInputError
from qiskit_haiqu.primitives.job import HaiquJob
from qiskit_haiqu.primitives.options import CommonOptions, coerce_options
from qiskit_haiqu.primitives.plan import PlannedJob, RunPlan, job_members
from qiskit_haiqu.primitives.polling import PollingPolicy, first_poll
from qiskit_haiqu.primitives.progress import progress_hook
from qiskit_haiqu.primitives.reading import (
    job_results,
    jobs_with_context,
    result_metadata,
    stored_circuit,
)
from qiskit_haiqu.primitives.submission import DESCRIPTION_ROOM, Submitter
from qiskit_haiqu.primitives.validation import coerce_pubs

__all__ = ["DESCRIPTION_ROOM", "HaiquPrimitive"]

OptionsT = TypeVar("OptionsT", bound=CommonOptions)
PubT = TypeVar("PubT")
ResultT = TypeVar("ResultT")


def _is_mode_like(value: object) -> bool:
    """Whether ``value`` is what qiskit-ibm-runtime takes as a mode (a backend, session, batch)."""
    return isinstance(value, BackendV2) or type(value).__module__.startswith("qiskit_ibm_runtime")


def _from_mode(
    owner: str, mode: object, device_id: object, client: HaiquClient | None
) -> tuple[str, HaiquClient]:
    """The device id and client a primitive's ``mode=`` stands for.

    Raises:
        HaiquInputError: ``mode`` is not a Haiqu backend, or it contradicts the other
            arguments; the message says what to pass instead.
    """
    instead = (
        "Pass mode=HaiquService().backend('<device>') (HaiquService().backends() lists them) "
        "or device_id='<device>'."
    )
    backend_client = getattr(mode, "client", None)
    if not isinstance(mode, BackendV2) or not isinstance(backend_client, HaiquClient):
        kind = type(mode).__name__
        if type(mode).__module__.startswith("qiskit_ibm_runtime") and kind in ("Session", "Batch"):
            raise HaiquInputError(
                f"{owner} does not take a qiskit-ibm-runtime {kind} as mode: Haiqu has no "
                "sessions or batches. Each run() is one Haiqu job, and the circuits it uploads "
                f"are reused by later runs of the same primitive. {instead}"
            )
        what = f"the backend {mode.name!r} ({kind})" if isinstance(mode, BackendV2) else kind
        raise HaiquInputError(f"{owner} takes a HaiquBackend as mode, not {what}. {instead}")
    if device_id is not None and device_id != mode.name:
        raise HaiquInputError(
            f"{owner} got device_id={device_id!r} and mode=<HaiquBackend('{mode.name}')>: "
            "pass one of them."
        )
    if client is not None and client is not backend_client:
        raise HaiquInputError(
            f"{owner} runs on the client of the backend given as mode; pass client= only "
            "without mode=."
        )
    return mode.name, backend_client


_SelfT = TypeVar("_SelfT", bound="HaiquPrimitive[Any, Any, Any]")


class HaiquPrimitive(ABC, Generic[OptionsT, PubT, ResultT]):
    """Construction, submission, decoding and reattachment shared by the Haiqu primitives.

    Type parameters: the options class, the primitive's validated pub (what planning and
    decoding read) and its pub result.
    """

    _options_class: type[OptionsT]
    _kind: str  # "sampler" or "estimator": written in, and checked on, stored jobs
    _label: str  # "Sampler" or "Estimator", as Qiskit's messages name the primitive

    def __init__(
        self,
        device_id: str | BackendV2 | None = None,
        *,
        client: HaiquClient | None = None,
        options: OptionsT | Mapping[str, Any] | None = None,
        mode: BackendV2 | None = None,
    ) -> None:
        """Create the primitive.

        Args:
            device_id: The Haiqu device to run on (``client.list_devices()`` lists them);
                ``"aer_simulator"`` when neither it nor ``mode`` is given. A
                :class:`~qiskit_haiqu.HaiquBackend` here counts as ``mode``, as the first
                argument of qiskit-ibm-runtime's primitives does.
            client: The client to use; by default one configured from ``HAIQU_API_URL`` and
                ``HAIQU_API_KEY`` (``HAIQU_API_URL=local`` runs an embedded emulator).
            options: Options as an object or a dict; unknown keys are refused.
            mode: A :class:`~qiskit_haiqu.HaiquBackend`: the primitive runs on its device
                through its client, as qiskit-ibm-runtime's ``SamplerV2(mode=backend)``.

        Raises:
            HaiquInputError: ``mode`` is not a HaiquBackend (a qiskit-ibm-runtime ``Session``
                or ``Batch``, say: Haiqu has neither), or it contradicts ``device_id`` or
                ``client``.
        """
        if mode is None and _is_mode_like(device_id):  # SamplerV2(backend): mode comes first
            device_id, mode = None, device_id
        if mode is not None:
            device_id, client = _from_mode(type(self).__name__, mode, device_id, client)
        self._options = coerce_options(self._options_class, options)
        self._submitter = Submitter(client, "aer_simulator" if device_id is None else device_id)

    @property
    def options(self) -> OptionsT:
        """The options (validated on assignment)."""
        return self._options

    @options.setter
    def options(self, value: OptionsT | Mapping[str, Any]) -> None:
        self._options = coerce_options(self._options_class, value)

    @property
    def client(self) -> HaiquClient:
        """The client this primitive talks through."""
        return self._submitter.client

    @property
    def device_id(self) -> str:
        """The device this primitive runs on."""
        return self._submitter.device_id

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle the primitive as its class, device, options and client settings.

        Neither the API key nor device credentials travel: the process that unpickles it
        reads its own ``HAIQU_API_KEY`` (and vendor variables), as any new primitive does.
        """
        from qiskit_haiqu.primitives.retrieval import restore_primitive

        options = self._options.model_copy(
            update={"device_credentials": type(self._options.device_credentials)()}
        )
        settings = self.client.portable_settings()
        return (restore_primitive, (type(self), self.device_id, options, settings))

    def close(self) -> None:
        """Close the client if this primitive made it (one passed in stays open)."""
        self._submitter.close()

    def __enter__(self: _SelfT) -> _SelfT:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- what each primitive supplies ---------------------------------------------------

    @abstractmethod
    def _default(self, options: OptionsT) -> Any:
        """The shots or precision of pubs that set none, when ``run()`` gives none either."""

    @abstractmethod
    def _coerce(self, pub: Any, default: Any) -> Any:
        """Qiskit's coercion of one pub-like (with the run's shots or precision)."""

    @abstractmethod
    def _prepared(self, pubs: list[Any], options: OptionsT) -> list[PubT]:
        """The coerced pubs checked and turned into what planning reads (no request)."""

    @abstractmethod
    def _group_key(self, pub: PubT) -> Hashable | None:
        """What pubs must share to travel in one job; ``None``: answered locally, not sent."""

    @abstractmethod
    def _entries(self, pub: PubT) -> int:
        """How many circuit entries of its job the pub takes."""

    @abstractmethod
    def _planned_job(self, pubs: Sequence[PubT], members: list[int]) -> PlannedJob:
        """The job that carries ``pubs`` (whose plan indices are ``members``)."""

    @abstractmethod
    def _pub_result(self, pub: PubT, values: Sequence[Any], job: RunJob, entry: int) -> ResultT:
        """The result of a sent pub from its slice of the job's results (from ``entry``)."""

    @abstractmethod
    def _dry_run_result(self, pub: PubT, job: RunJob) -> ResultT:
        """The result of a pub whose job was a dry run (which runs nothing)."""

    @abstractmethod
    def _unsent_result(self, pub: PubT) -> ResultT:
        """The result of a pub that was answered without the service."""

    @abstractmethod
    def _rebuild(
        self, job: RunJob, context: dict[str, Any], circuit: Callable[[str], QuantumCircuit]
    ) -> list[PubT]:
        """The pubs a stored job was submitted with (enough of them to decode it).

        Args:
            job: The job as the service stores it.
            context: The context the primitive wrote in its description.
            circuit: A stored circuit by id (fetched once per reattachment).
        """

    def _check_decoded(self, results: Sequence[ResultT]) -> None:
        """Called with every pub's result once decoded (warnings go here)."""

    # -- the shared algorithm -----------------------------------------------------------

    def _run(self, pubs: Iterable[Any], v1_args: tuple[Any, ...], default: Any) -> HaiquJob:
        """``run()``: coerce, check, plan, submit (a bad pub is refused before any request).

        Args:
            pubs: The pubs given to ``run()``.
            v1_args: Positional arguments after them (the V1 call style, refused).
            default: ``run()``'s ``shots`` or ``precision`` (``None``: the options' default).
        """
        options = self._options.snapshot()
        if default is None:
            default = self._default(options)
        coerced = coerce_pubs(pubs, lambda pub: self._coerce(pub, default), self._label, v1_args)
        plan = self._plan(self._prepared(coerced, options), options)
        return self._start(plan, options)

    def _plan(self, pubs: list[PubT], options: OptionsT) -> RunPlan[PubT]:
        """The jobs that carry the pubs: grouped by key, none over ``max_circuits_per_job``."""
        keys = [(i, self._group_key(pub)) for i, pub in enumerate(pubs)]
        members = job_members(
            [(i, key) for i, key in keys if key is not None],
            [self._entries(pub) for pub in pubs],
            options.max_circuits_per_job,
        )
        return RunPlan(pubs, [self._planned_job([pubs[i] for i in m], m) for m in members])

    def _start(self, plan: RunPlan[PubT], options: OptionsT) -> HaiquJob:
        """Submit the plan's jobs (if any) and return the handle that decodes through it."""
        submitter = self._submitter
        device_id = submitter.device_id

        def decode(jobs: Sequence[RunJob]) -> PrimitiveResult[ResultT]:
            return self._decode(plan, jobs, device_id)

        if not plan.jobs:
            return HaiquJob(submitter.client, [], decode, device_id=device_id, result=decode([]))
        options = options.for_device(device_id)
        submission = submitter.submit(plan, options, type(self).__name__)
        expected = submitter.durations.expected()
        return HaiquJob(
            submitter.client,
            submission.jobs,
            decode,
            device_id=device_id,
            # A loop's jobs take about as long as the previous ones: poll first just after.
            polling=self._polling(
                first_poll(expected, submission.post_seconds, submitter.durations.discount())
            ),
            # The first run of a new circuit includes one-time work on the server: not typical.
            durations=None if submission.new_circuits else submitter.durations,
            progress=progress_hook(options.progress),
        )

    def _polling(self, first: float | None = None) -> PollingPolicy:
        return PollingPolicy(
            interval=self._options.poll_interval,
            max_interval=self._options.max_poll_interval,
            first=first,
        )

    def _decode(
        self, plan: RunPlan[PubT], jobs: Sequence[RunJob], device_id: str
    ) -> PrimitiveResult[ResultT]:
        """The primitive result of the plan's final jobs, pubs in input order."""
        results: list[ResultT | None] = [None] * len(plan.pubs)
        for planned, job in zip(plan.jobs, jobs, strict=True):
            values = job_results(job, planned.total_entries)
            for index, part in planned.slices():
                pub = plan.pubs[index]
                if values is None:
                    results[index] = self._dry_run_result(pub, job)
                else:
                    results[index] = self._pub_result(pub, values[part], job, part.start)
        final = [
            result if result is not None else self._unsent_result(plan.pubs[i])
            for i, result in enumerate(results)
        ]
        self._check_decoded(final)
        return PrimitiveResult(final, metadata=result_metadata(jobs, device_id))

    def job(self, job_id: str) -> HaiquJob:
        """Reattach to a job submitted earlier, from this or any other process.

        The run's plan is rebuilt from what the service stored, and ``result()`` gives
        what the submitting process got: pub shapes, data (register names and bit widths,
        or values and stds) and metadata. Pubs answered without the service (empty sweeps,
        circuits with nothing to measure) were never sent and are not part of it.

        Args:
            job_id: ``job.job_id()`` of the original job (Haiqu ids joined by ``";"``).

        Raises:
            HaiquInputError: the job was not submitted by this kind of primitive.
        """
        client = self._submitter.client
        found = jobs_with_context(client, job_id, self._kind)
        cache: dict[str, QuantumCircuit] = {}

        def circuit(circuit_id: str) -> QuantumCircuit:
            return stored_circuit(client, circuit_id, cache)

        pubs: list[PubT] = []
        planned: list[PlannedJob] = []
        for job, context in found:
            rebuilt = self._rebuild(job, context, circuit)
            members = list(range(len(pubs), len(pubs) + len(rebuilt)))
            entries = [self._entries(pub) for pub in rebuilt]
            planned.append(PlannedJob(members, entries, job.shots, []))
            pubs.extend(rebuilt)
        plan = RunPlan(pubs, planned)
        jobs = [job for job, _ in found]
        device_id = jobs[0].device_id

        def decode(final: Sequence[RunJob]) -> PrimitiveResult[ResultT]:
            return self._decode(plan, final, device_id)

        return HaiquJob(
            client,
            jobs,
            decode,
            device_id=device_id,
            polling=self._polling(),
            progress=progress_hook(self._options.progress),
        )
