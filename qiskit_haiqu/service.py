"""HaiquService: the devices as backends, and jobs found again by id, as in qiskit-ibm-runtime."""

from __future__ import annotations

import logging
from types import TracebackType

from qiskit_haiqu.api.client import HaiquClient
from qiskit_haiqu.api.models import Device
from qiskit_haiqu.backend import HaiquBackend
from qiskit_haiqu.primitives import HaiquJob
from qiskit_haiqu.primitives.options import CommonOptions
from qiskit_haiqu.primitives.retrieval import job_kind, reattach
from qiskit_haiqu.primitives.submission import Submitter

__all__ = ["HaiquService"]

logger = logging.getLogger("qiskit_haiqu")


class HaiquService:
    """The Haiqu service: its devices as Qiskit backends, and the jobs you submitted.

    Example:
        >>> with HaiquService() as service:  # HAIQU_API_URL / HAIQU_API_KEY
        ...     backend = service.backend("fake_manila")
        ...     job = service.job(job_id)  # submitted by a sampler or estimator earlier
    """

    def __init__(self, client: HaiquClient | None = None) -> None:
        """Create the service.

        Args:
            client: The client to use; by default one configured from ``HAIQU_API_URL`` and
                ``HAIQU_API_KEY``, which :meth:`close` (or leaving a ``with`` block) closes.
        """
        self._owns_client = client is None
        self._client = client if client is not None else HaiquClient()

    @property
    def client(self) -> HaiquClient:
        """The client this service (and its backends) talk through."""
        return self._client

    def close(self) -> None:
        """Close the client if this service created it (a client passed in stays open)."""
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> HaiquService:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"HaiquService(client={self._client!r})"

    def devices(self) -> list[Device]:
        """The devices as the service lists them (``GET /devices``)."""
        return self._client.list_devices()

    def backends(self, simulator: bool | None = None) -> list[HaiquBackend]:
        """The devices as backends.

        Args:
            simulator: ``True`` for simulators only (``fake_*`` devices included), ``False``
                for the others, ``None`` for all.
        """
        backends = []
        for device in self.devices():  # a loop, not a comprehension: warnings point at you
            if simulator is None or device.simulator == simulator:
                backends.append(HaiquBackend(device, self._client))
        return backends

    def backend(self, name: str) -> HaiquBackend:
        """The backend of the device called ``name``.

        Raises:
            HaiquInputError: no device has that name (the message lists those there are).
        """
        return HaiquBackend(Submitter(self._client, name).device(), self._client)

    def job(self, job_id: str) -> HaiquJob:
        """A job submitted earlier by a HaiquSampler or HaiquEstimator, from any process.

        Whether it is a sampler or an estimator job is read from the job itself; ``result()``
        then gives what the submitting process got.

        Args:
            job_id: ``job.job_id()`` of the original job (Haiqu ids joined by ``";"``).

        Raises:
            HaiquInputError: the job was not submitted by the Haiqu primitives.
            NotFoundError: no job has that id.
        """
        return reattach(self._client, job_id)

    def jobs(self, limit: int = 10, *, experiment_name: str | None = None) -> list[HaiquJob]:
        """Recent jobs of the primitives in an experiment, newest first.

        Jobs that no Haiqu primitive submitted (their raw results are in
        ``client.list_jobs(...)``) are left out. A run split into several Haiqu jobs shows
        as one job per part.

        Args:
            limit: How many jobs of the experiment to look at.
            experiment_name: The experiment; by default the primitives' default one
                (``options.experiment_name``).
        """
        name = experiment_name or CommonOptions.model_fields["experiment_name"].default
        found = []
        # Looked up, never created: a mistyped name lists nothing instead of a new experiment.
        for experiment in self._client.list_experiments(name):
            if experiment.name != name:
                continue
            for job in self._client.list_jobs(experiment.id, limit=limit):
                if job_kind(job) is None:
                    logger.debug("Job %s carries no primitive context; left out", job.id)
                    continue
                found.append(reattach(self._client, job.id, job))
        return found
