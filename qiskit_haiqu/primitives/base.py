"""What HaiquSampler and HaiquEstimator have in common: construction, options, submission."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Generic, TypeVar

from qiskit.circuit import QuantumCircuit
from qiskit.primitives import PrimitiveResult
from qiskit.providers import BackendV2

from qiskit_haiqu.api.client import TOKEN_PREFIX, HaiquClient
from qiskit_haiqu.api.models import RunJob, RunSubmit
from qiskit_haiqu.errors import HaiquError, HaiquInputError
from qiskit_haiqu.primitives.job import HaiquJob
from qiskit_haiqu.primitives.options import CommonOptions, coerce_options
from qiskit_haiqu.primitives.progress import progress_hook
from qiskit_haiqu.primitives.runner import JobRunner, jobs_with_context, submission_fields
from qiskit_haiqu.translate.job_context import fit_description

__all__ = ["DESCRIPTION_ROOM", "HaiquPrimitive", "WireGroup"]

OptionsT = TypeVar("OptionsT", bound=CommonOptions)


def _description_room() -> int:
    """Characters of a job description the primitive may fill.

    The wire holds ``RunSubmit.description``'s maximum (1024), and the client appends its
    submission token (``[qh:<32 hex digits>]``) after a space; it cuts what is longer.
    """
    limit = min(
        int(item.max_length)
        for item in RunSubmit.model_fields["description"].metadata
        if getattr(item, "max_length", None) is not None
    )
    return limit - (len(TOKEN_PREFIX) + 32 + 1) - 1


DESCRIPTION_ROOM = _description_room()
"""Characters of a job description left for ``options.job_description`` and the context."""


def _cancel_partial(client: HaiquClient, jobs: Sequence[RunJob], error: HaiquError) -> None:
    """Cancel the jobs of a run whose later part was refused, and say so in ``error``."""
    outcomes = []
    for job in jobs:
        try:
            status = client.cancel_job(job.id).status
        except HaiquError:
            status = "cancel failed"
        outcomes.append(f"{job.id} ({status})")
    error.message = (
        f"{error.message} The run was split into several jobs and this part was refused, so "
        f"the parts already submitted were cancelled: {', '.join(outcomes)}."
    )
    error.args = (error.message,)


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


class WireGroup:
    """The pubs that travel in one ``POST /run`` and the body fields they make."""

    def __init__(
        self,
        shots: int,
        circuits: list[QuantumCircuit],
        fields: dict[str, Any],
        context: str | None = None,
    ) -> None:
        self.shots = shots
        self.circuits = circuits  # one per circuit entry, in circuit_ids order
        self.fields = fields  # parameters / observables of the body
        self.context = context  # the marker that lets another process decode the job


class HaiquPrimitive(Generic[OptionsT]):
    """Construction and submission shared by the Haiqu primitives."""

    _options_class: type[OptionsT]

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
        self._runner = JobRunner(client, "aer_simulator" if device_id is None else device_id)

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
        return self._runner.client

    @property
    def device_id(self) -> str:
        """The device this primitive runs on."""
        return self._runner.device_id

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

    def _reattached(
        self,
        job_id: str,
        kind: str,
        rebuild: Callable[
            [HaiquClient, Sequence[tuple[RunJob, dict[str, Any]]]], tuple[Any, list[list[int]]]
        ],
        decode: Callable[[Any, list[list[int]], Sequence[RunJob], str], PrimitiveResult[Any]],
    ) -> HaiquJob:
        """A job handle on jobs submitted earlier (see ``job()`` of the primitives).

        Args:
            job_id: The primitive job id (Haiqu ids joined by ``";"``).
            kind: ``"sampler"`` or ``"estimator"``: the primitive the jobs must come from.
            rebuild: Rebuilds the submitted pubs, and their indices per job, from the jobs and
                the context stored in their descriptions.
            decode: Builds the result from those pubs, the final jobs and the device id.
        """
        client = self._runner.client
        found = jobs_with_context(client, job_id, kind)
        pubs, grouped = rebuild(client, found)
        jobs = [job for job, _ in found]
        device_id = jobs[0].device_id
        return HaiquJob(
            client,
            jobs,
            lambda final: decode(pubs, grouped, final, device_id),
            device_id=device_id,
            poll_interval=self._options.poll_interval,
            max_poll_interval=self._options.max_poll_interval,
            progress=progress_hook(self._options.progress),
        )

    def _descriptions(self, text: str, groups: Sequence[WireGroup]) -> list[str]:
        """Each group's job description: ``text``, then the group's context, which is never cut.

        Warns (``UserWarning``) when ``text`` had to be shortened to make room for a
        context, and when a context is too large to store at all (its job is then decoded
        by this process only).
        """
        descriptions: list[str] = []
        cuts: list[int] = []
        unstored: list[int] = []
        for group in groups:
            fitted = None
            if group.context is not None:
                fitted = fit_description(text, group.context, DESCRIPTION_ROOM)
                if fitted is None:
                    unstored.append(len(group.context))
            description, cut = fitted or (text[:DESCRIPTION_ROOM].strip(), 0)
            descriptions.append(description)
            cuts.append(cut)
        owner = type(self).__name__
        jobs = "the Haiqu job" if len(groups) == 1 else f"{len(groups)} Haiqu jobs"
        if any(cuts):
            shortened = sum(1 for cut in cuts if cut)
            which = jobs if shortened == len(groups) else f"{shortened} of the {jobs}"
            warnings.warn(
                f"options.job_description ({len(text)} characters) was shortened by up to "
                f"{max(cuts)} characters in the description of {which} of this run: a job "
                f"description holds {DESCRIPTION_ROOM} characters besides the submission "
                f"token, and the layout stored after your text, which lets "
                f"{owner}.job(job_id) decode the job in another process, comes first. Keep "
                f"job_description to {len(text) - max(cuts)} characters to have it whole.",
                UserWarning,
                stacklevel=4,
            )
        if unstored:
            which = jobs if len(unstored) == len(groups) else f"{len(unstored)} of the {jobs}"
            warnings.warn(
                f"The layout of {which} of this run is too large to store in a job "
                f"description ({max(unstored)} characters; {DESCRIPTION_ROOM} fit): this "
                f"process gets the result as usual, but {owner}.job(job_id) in another process "
                "will not be able to decode it. Submit fewer pubs per run(), or lower "
                "options.max_circuits_per_job, to keep the jobs reattachable.",
                UserWarning,
                stacklevel=4,
            )
        return descriptions

    def _submit(
        self,
        options: OptionsT,
        circuits: Sequence[QuantumCircuit],
        groups: Sequence[WireGroup],
        decode: Callable[[Sequence[RunJob]], PrimitiveResult[Any]],
    ) -> HaiquJob:
        """Upload what is missing, submit one ``POST /run`` per group, wrap the jobs.

        Everything that can be refused without the network (including QPY encoding) is
        done before the first request.
        """
        runner = self._runner
        options = options.for_device(runner.device_id)
        prepared = runner.prepare(circuits, options.qpy_version)
        descriptions = self._descriptions(options.job_description, groups)
        index = {id(circuit): i for i, circuit in enumerate(circuits)}
        experiment_id = runner.experiment_id(options.experiment_name)
        runner.device()
        ids = runner.circuit_ids(experiment_id, prepared)
        jobs: list[RunJob] = []
        try:
            for group, description in zip(groups, descriptions, strict=True):
                fields = submission_fields(options, group.circuits)
                fields["description"] = description
                fields.update(group.fields)  # the group's own (e.g. a statevector run_type)
                jobs.append(
                    runner.submit(
                        experiment_id=experiment_id,
                        circuit_ids=[ids[index[id(circuit)]] for circuit in group.circuits],
                        shots=group.shots,
                        **fields,
                    )
                )
        except HaiquError as error:
            if jobs:  # a split run failed part-way: do not leave half of it running unseen
                _cancel_partial(runner.client, jobs, error)
            raise
        expected = runner.expected_duration()
        return HaiquJob(
            runner.client,
            jobs,
            decode,
            device_id=runner.device_id,
            poll_interval=options.poll_interval,
            max_poll_interval=options.max_poll_interval,
            # A loop's jobs take about as long as the previous ones: poll first just after.
            first_poll=None if expected is None else 1.1 * expected + 0.001,
            # The first run of a new circuit includes one-time work on the server: not typical.
            on_final=None if prepared.new else runner.record_duration,
            progress=progress_hook(options.progress),
        )
