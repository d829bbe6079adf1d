"""HaiquJob: the handle a primitive's ``run()`` returns, backed by one or more Haiqu jobs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from qiskit.primitives import BasePrimitiveJob, PrimitiveResult
from qiskit.providers import JobStatus as QiskitJobStatus

from qiskit_haiqu.api.client import HaiquClient
from qiskit_haiqu.api.models import BaseJob, JobStatus, RunJob
from qiskit_haiqu.api.redact import redact
from qiskit_haiqu.errors import HaiquJobError, JobCancelledError, JobFailedError
from qiskit_haiqu.primitives.polling import JobWatch, PollingPolicy, RecentDurations
from qiskit_haiqu.primitives.progress import ProgressCallback

__all__ = ["HaiquJob", "ResultDecoder"]

ResultDecoder = Callable[[Sequence[RunJob]], PrimitiveResult[Any]]
"""Turns the final Haiqu jobs of one ``run()`` into its :class:`PrimitiveResult`."""

DASHBOARD_URL = "https://dashboard.haiqu.ai/jobs/{id}"


class HaiquJob(BasePrimitiveJob[PrimitiveResult[Any], QiskitJobStatus]):
    """A primitive job running on the Haiqu service.

    One ``run()`` becomes one Haiqu job, or several when the wire forces a split (pubs with
    different shots, or parameterised and unparameterised circuits together); ``job_id()``
    then joins the Haiqu ids with ``";"``, and the status means what it means for one job:
    final once every part is final. Status checks make at most one request per unfinished
    Haiqu job; ``result()`` polls as the :class:`PollingPolicy` says (a geometric back-off)
    and caches what it returns.

    ``status()`` answers a :class:`qiskit.providers.JobStatus`. Cancelling a job that is
    already final does nothing and returns ``False``.
    """

    def __init__(
        self,
        client: HaiquClient | None,
        jobs: Sequence[RunJob],
        decoder: ResultDecoder,
        *,
        device_id: str = "",
        polling: PollingPolicy | None = None,
        result: PrimitiveResult[Any] | None = None,
        durations: RecentDurations | None = None,
        progress: ProgressCallback | None = None,
    ) -> None:
        """Wrap submitted Haiqu jobs.

        Args:
            client: The client the jobs were submitted with (``None`` only for a job that
                holds its result and no Haiqu job).
            jobs: The jobs as ``POST /run`` answered them, in result order.
            decoder: Builds the primitive result from the final jobs.
            device_id: The device the jobs run on (for display).
            polling: When to poll (:class:`PollingPolicy` defaults when ``None``).
            result: A ready result (for runs that needed no remote job).
            durations: Told how long the service took, once the job is final.
            progress: Called with a :class:`JobProgress` after each poll while waiting
                (see :func:`~qiskit_haiqu.primitives.progress.progress_hook`).
        """
        super().__init__(";".join(job.id for job in jobs) or "local-empty")
        self._watch = JobWatch(
            client,
            jobs,
            device_id=device_id,
            policy=polling,
            durations=durations,
            progress=progress,
        )
        self._decoder = decoder
        self._result = result

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle the job as its id and its client's settings (never the API key).

        The process that unpickles it reattaches to the job (``result()`` works there) with
        its own ``HAIQU_API_KEY``. A job answered without the service (no Haiqu job) is
        pickled with its result.
        """
        from qiskit_haiqu.primitives.retrieval import restore_job

        if not self._watch.ids:
            return (_answered_locally, (self.result(), self.device_id))
        return (restore_job, (self.job_id(), self._watch.client().portable_settings()))

    @property
    def job_ids(self) -> list[str]:
        """The Haiqu job ids behind this primitive job, in result order."""
        return list(self._watch.ids)

    @property
    def device_id(self) -> str:
        """The device the jobs run on."""
        return self._watch.device_id

    def dashboard_urls(self) -> list[str]:
        """Links to the jobs on the Haiqu dashboard."""
        return [DASHBOARD_URL.format(id=job_id) for job_id in self._watch.ids]

    def status(self) -> QiskitJobStatus:
        """The job's status; asks the server only while the job is unfinished."""
        with self._watch.lock:
            if not self._watch.all_final():
                self._watch.refresh()
            return self._watch.status()

    def done(self) -> bool:
        """Whether the job finished successfully."""
        return self.status() is QiskitJobStatus.DONE

    def running(self) -> bool:
        """Whether the job is executing now."""
        return self.status() is QiskitJobStatus.RUNNING

    def cancelled(self) -> bool:
        """Whether the job was cancelled."""
        return self.status() is QiskitJobStatus.CANCELLED

    def in_final_state(self) -> bool:
        """Whether the job is done, failed or cancelled (every part of a split run is)."""
        return self.status() in (
            QiskitJobStatus.DONE,
            QiskitJobStatus.ERROR,
            QiskitJobStatus.CANCELLED,
        )

    def cancel(self) -> bool:
        """Ask the service to cancel every unfinished Haiqu job of this primitive job.

        Returns:
            ``True`` when every Haiqu job ended up cancelled, ``False`` otherwise (for
            example when the job had already finished).
        """
        return self._watch.cancel()

    def wait_for_final_state(self, timeout: float | None = None) -> None:
        """Block until every Haiqu job is final.

        Args:
            timeout: Seconds to wait at most; ``None`` waits as long as it takes.

        Raises:
            JobTimeoutError: the time ran out. The job keeps running on the server.
        """
        self._watch.wait(timeout)

    def result(self, timeout: float | None = None) -> PrimitiveResult[Any]:
        """Wait for the job and return its result (cached after the first call).

        Args:
            timeout: Seconds to wait at most; ``None`` waits as long as it takes.

        Raises:
            JobTimeoutError: the time ran out; the job keeps running.
            JobFailedError: a Haiqu job ended ``Error``; the message carries its logs.
            JobCancelledError: a Haiqu job was cancelled.
        """
        with self._watch.lock:
            if self._result is not None:
                return self._result
        self.wait_for_final_state(timeout)
        with self._watch.lock:
            if self._result is None:
                self._raise_for_failures()
                finals = self._watch.jobs()
                runs = [job for job in finals if isinstance(job, RunJob)]
                if len(runs) != len(finals):
                    raise HaiquJobError(
                        f"Job {self.job_id()} is not a run job; it has no primitive result.",
                        job_id=self.job_id(),
                    )
                self._result = self._decoder(runs)
            return self._result

    def _raise_for_failures(self) -> None:
        for job, status in zip(self._watch.jobs(), self._watch.statuses(), strict=True):
            if status is JobStatus.ERROR:
                logs = redact(job.logs) if job.logs else None  # a log may echo a credential
                raise JobFailedError(
                    f"Haiqu job {job.id} failed on device {self.device_id or job.device_id}: "
                    f"{logs or '(the service gave no logs)'}",
                    job_id=job.id,
                    logs=logs,
                )
            if status is JobStatus.CANCELLED:
                raise JobCancelledError(
                    f"Haiqu job {job.id} was cancelled and has no result. Run the pubs again "
                    "to get one.",
                    job_id=job.id,
                )

    def error_message(self) -> str | None:
        """The server's explanation of a failed job, or ``None``."""
        with self._watch.lock:
            for job in self._watch.jobs():
                if job.status == JobStatus.ERROR.value:
                    return job.logs or f"Haiqu job {job.id} failed without logs."
        return None

    def haiqu_jobs(self) -> list[RunJob | BaseJob]:
        """The latest known state of each Haiqu job (no request is made)."""
        with self._watch.lock:
            return self._watch.jobs()

    def __repr__(self) -> str:
        with self._watch.lock:
            status = self._watch.status().name
        return f"<HaiquJob id={self.job_id()!r} status={status} device={self.device_id!r}>"


def _answered_locally(result: PrimitiveResult[Any], device_id: str) -> HaiquJob:
    """Unpickle a job that never reached the service: it holds only its result."""
    return HaiquJob(None, [], lambda jobs: result, device_id=device_id, result=result)
