"""HaiquJob: the handle a primitive's ``run()`` returns, backed by one or more Haiqu jobs."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from qiskit.primitives import BasePrimitiveJob, PrimitiveResult
from qiskit.providers import JobStatus as QiskitJobStatus

from qiskit_haiqu.api.client import HaiquClient
from qiskit_haiqu.api.models import FINAL_STATUSES, BaseJob, JobStatus, RunJob, parse_status
from qiskit_haiqu.api.redact import redact
from qiskit_haiqu.errors import (
    HaiquError,
    HaiquJobError,
    JobCancelledError,
    JobFailedError,
    JobTimeoutError,
)
from qiskit_haiqu.primitives.progress import JobProgress, ProgressCallback

__all__ = ["HaiquJob", "ResultDecoder"]

logger = logging.getLogger("qiskit_haiqu")

ResultDecoder = Callable[[Sequence[RunJob]], PrimitiveResult[Any]]
"""Turns the final Haiqu jobs of one ``run()`` into its :class:`PrimitiveResult`."""

_TO_QISKIT = {
    JobStatus.SUBMITTED: QiskitJobStatus.INITIALIZING,
    JobStatus.INITIALIZING: QiskitJobStatus.INITIALIZING,
    JobStatus.QUEUED: QiskitJobStatus.QUEUED,
    JobStatus.VALIDATING: QiskitJobStatus.VALIDATING,
    JobStatus.RUNNING: QiskitJobStatus.RUNNING,
    JobStatus.DONE: QiskitJobStatus.DONE,
    JobStatus.ERROR: QiskitJobStatus.ERROR,
    JobStatus.CANCELLED: QiskitJobStatus.CANCELLED,
}
# When sub-jobs differ, the combined status is the first of these that any of them has.
_PRECEDENCE = (
    QiskitJobStatus.ERROR,
    QiskitJobStatus.CANCELLED,
    QiskitJobStatus.RUNNING,
    QiskitJobStatus.VALIDATING,
    QiskitJobStatus.QUEUED,
    QiskitJobStatus.INITIALIZING,
)

DASHBOARD_URL = "https://dashboard.haiqu.ai/jobs/{id}"


class HaiquJob(BasePrimitiveJob[PrimitiveResult[Any], QiskitJobStatus]):
    """A primitive job running on the Haiqu service.

    One ``run()`` becomes one Haiqu job, or several when the wire forces a split (pubs with
    different shots, or parameterised and unparameterised circuits together); ``job_id()``
    then joins the Haiqu ids with ``";"``. Status checks make at most one request per
    unfinished Haiqu job; ``result()`` polls with a geometric back-off (``poll_interval``
    growing by half each time up to ``max_poll_interval``) and caches what it returns.

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
        poll_interval: float = 0.01,
        max_poll_interval: float = 2.0,
        result: PrimitiveResult[Any] | None = None,
        first_poll: float | None = None,
        on_final: Callable[[float], None] | None = None,
        progress: ProgressCallback | None = None,
    ) -> None:
        """Wrap submitted Haiqu jobs.

        Args:
            client: The client the jobs were submitted with (``None`` only for a job that
                holds its result and no Haiqu job).
            jobs: The jobs as ``POST /run`` answered them, in result order.
            decoder: Builds the primitive result from the final jobs.
            device_id: The device the jobs run on (for display).
            poll_interval: Seconds before the first poll.
            max_poll_interval: Cap of the poll interval.
            result: A ready result (for runs that needed no remote job).
            first_poll: Seconds before the first poll, when the caller expects the job to
                take about that long (``poll_interval`` otherwise).
            on_final: Called once, when the job is final, with the seconds the service took
                from creating the job to finishing it.
            progress: Called with a :class:`JobProgress` after each poll while waiting
                (see :func:`~qiskit_haiqu.primitives.progress.progress_hook`).
        """
        super().__init__(";".join(job.id for job in jobs) or "local-empty")
        self._client = client
        self._jobs: dict[str, RunJob | BaseJob] = {job.id: job for job in jobs}
        self._order = [job.id for job in jobs]
        self._decoder = decoder
        self._device_id = device_id
        self._poll_interval = poll_interval
        self._max_poll_interval = max_poll_interval
        self._result = result
        self._lock = threading.RLock()
        self._first_poll = (
            poll_interval if first_poll is None else min(first_poll, max_poll_interval)
        )
        self._on_final = on_final
        self._progress = progress
        self._created = time.monotonic()
        self._shown: tuple[str, ...] | None = None  # the statuses of the last snapshot
        self._shown_final = False

    # -- status --------------------------------------------------------------------------

    def _haiqu_client(self) -> HaiquClient:
        """The client; a job without one holds no Haiqu job, so it never asks for it."""
        if self._client is None:
            raise HaiquError(f"Job {self.job_id()} has no client to ask the service with.")
        return self._client

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle the job as its id and its client's settings (never the API key).

        The process that unpickles it reattaches to the job (``result()`` works there) with
        its own ``HAIQU_API_KEY``. A job answered without the service (no Haiqu job) is
        pickled with its result.
        """
        from qiskit_haiqu.primitives.retrieval import restore_job

        if not self._order:
            return (_answered_locally, (self.result(), self._device_id))
        return (restore_job, (self.job_id(), self._haiqu_client().portable_settings()))

    @property
    def job_ids(self) -> list[str]:
        """The Haiqu job ids behind this primitive job, in result order."""
        return list(self._order)

    @property
    def device_id(self) -> str:
        """The device the jobs run on."""
        return self._device_id

    def dashboard_urls(self) -> list[str]:
        """Links to the jobs on the Haiqu dashboard."""
        return [DASHBOARD_URL.format(id=job_id) for job_id in self._order]

    def _statuses(self) -> list[JobStatus]:
        return [parse_status(self._jobs[i].status, job_id=i) for i in self._order]

    def _combined(self) -> QiskitJobStatus:
        statuses = {_TO_QISKIT[s] for s in self._statuses()}
        if not statuses or statuses == {QiskitJobStatus.DONE}:
            return QiskitJobStatus.DONE
        return next(s for s in _PRECEDENCE if s in statuses)

    def _all_final(self) -> bool:
        return all(s in FINAL_STATUSES for s in self._statuses())

    def _refresh(self) -> None:
        """Fetch every unfinished Haiqu job once and log status changes."""
        for job_id in self._order:
            old = self._jobs[job_id]
            if parse_status(old.status, job_id=job_id) in FINAL_STATUSES:
                continue
            new = self._haiqu_client().get_job(job_id)
            if new.status != old.status:
                logger.info("Haiqu job %s: %s -> %s", job_id, old.status, new.status)
            self._jobs[job_id] = new

    def status(self) -> QiskitJobStatus:
        """The job's status; asks the server only while the job is unfinished."""
        with self._lock:
            if not self._all_final():
                self._refresh()
            return self._combined()

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
        """Whether the job is done, failed or cancelled."""
        return self.status() in (
            QiskitJobStatus.DONE,
            QiskitJobStatus.ERROR,
            QiskitJobStatus.CANCELLED,
        )

    # -- actions -------------------------------------------------------------------------

    def cancel(self) -> bool:
        """Ask the service to cancel every unfinished Haiqu job of this primitive job.

        Returns:
            ``True`` when every Haiqu job ended up cancelled, ``False`` otherwise (for
            example when the job had already finished).
        """
        with self._lock:
            self._refresh()
            requested = False
            for job_id in self._order:
                if parse_status(self._jobs[job_id].status, job_id=job_id) in FINAL_STATUSES:
                    continue
                reply = self._haiqu_client().cancel_job(job_id)
                # A job that finished meanwhile may come back with the common fields only:
                # never let that replace the run job, whose results the service still holds.
                client = self._haiqu_client()
                fetched = reply if isinstance(reply, RunJob) else client.get_job(job_id)
                self._jobs[job_id] = fetched
                requested = True
                logger.info("Haiqu job %s: cancel requested", job_id)
            return requested and all(s is JobStatus.CANCELLED for s in self._statuses())

    def wait_for_final_state(self, timeout: float | None = None) -> None:
        """Block until every Haiqu job is final.

        Args:
            timeout: Seconds to wait at most; ``None`` waits as long as it takes.

        Raises:
            JobTimeoutError: the time ran out. The job keeps running on the server.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        interval = self._first_poll
        first = True
        while True:
            with self._lock:
                self._show_progress()
                if self._all_final():
                    self._report_final()
                    return
            if deadline is not None and time.monotonic() >= deadline:
                raise self._timeout_error(timeout)
            pause = interval
            if deadline is not None:
                pause = max(0.0, min(pause, deadline - time.monotonic()))
            time.sleep(pause)
            # After a first poll timed on the expected duration, back off from the base rate.
            interval = (
                self._poll_interval if first else min(interval * 1.5, self._max_poll_interval)
            )
            first = False
            with self._lock:
                self._refresh()

    def _show_progress(self) -> None:
        """Hand the progress callback a snapshot; nothing more once a final one was shown."""
        if self._progress is None or self._shown_final:
            return
        statuses = tuple(self._jobs[i].status for i in self._order)
        snapshot = JobProgress(
            job_id=self.job_id(),
            device_id=self._device_id,
            status=self._combined().name,
            statuses=statuses,
            finished=sum(s in FINAL_STATUSES for s in self._statuses()),
            elapsed=time.monotonic() - self._created,
            changed=statuses != self._shown,
        )
        self._shown = statuses
        self._shown_final = snapshot.final
        self._progress(snapshot)

    def _report_final(self) -> None:
        """Tell the submitter how long the service took (its own clock, not our polling)."""
        if self._on_final is None:
            return
        callback, self._on_final = self._on_final, None
        spans = [
            (job.finish_date - job.creation_date).total_seconds()
            for job in self._jobs.values()
            if job.finish_date is not None
        ]
        if spans:
            callback(max(0.0, max(spans)))

    def _timeout_error(self, timeout: float | None) -> JobTimeoutError:
        status = self._combined().name
        return JobTimeoutError(
            f"Job {self.job_id()} did not finish within {timeout} s (status {status}). It is "
            "still running on the Haiqu service: call result() again to keep waiting, or "
            f"fetch it later with sampler.job({self.job_id()!r}) / estimator.job(...).",
            job_id=self.job_id(),
        )

    def result(self, timeout: float | None = None) -> PrimitiveResult[Any]:
        """Wait for the job and return its result (cached after the first call).

        Args:
            timeout: Seconds to wait at most; ``None`` waits as long as it takes.

        Raises:
            JobTimeoutError: the time ran out; the job keeps running.
            JobFailedError: a Haiqu job ended ``Error``; the message carries its logs.
            JobCancelledError: a Haiqu job was cancelled.
        """
        with self._lock:
            if self._result is not None:
                return self._result
        self.wait_for_final_state(timeout)
        with self._lock:
            if self._result is None:
                self._raise_for_failures()
                finals = [self._jobs[i] for i in self._order]
                runs = [job for job in finals if isinstance(job, RunJob)]
                if len(runs) != len(finals):
                    raise HaiquJobError(
                        f"Job {self.job_id()} is not a run job; it has no primitive result.",
                        job_id=self.job_id(),
                    )
                self._result = self._decoder(runs)
            return self._result

    def _raise_for_failures(self) -> None:
        for job_id in self._order:
            job = self._jobs[job_id]
            status = parse_status(job.status, job_id=job_id)
            if status is JobStatus.ERROR:
                logs = redact(job.logs) if job.logs else None  # a log may echo a credential
                raise JobFailedError(
                    f"Haiqu job {job_id} failed on device {self._device_id or job.device_id}: "
                    f"{logs or '(the service gave no logs)'}",
                    job_id=job_id,
                    logs=logs,
                )
            if status is JobStatus.CANCELLED:
                raise JobCancelledError(
                    f"Haiqu job {job_id} was cancelled and has no result. Run the pubs again "
                    "to get one.",
                    job_id=job_id,
                )

    def error_message(self) -> str | None:
        """The server's explanation of a failed job, or ``None``."""
        with self._lock:
            for job_id in self._order:
                job = self._jobs[job_id]
                if job.status == JobStatus.ERROR.value:
                    return job.logs or f"Haiqu job {job_id} failed without logs."
        return None

    def haiqu_jobs(self) -> list[RunJob | BaseJob]:
        """The latest known state of each Haiqu job (no request is made)."""
        with self._lock:
            return [self._jobs[i] for i in self._order]

    def __repr__(self) -> str:
        with self._lock:
            status = self._combined().name if self._order else "DONE"
        return f"<HaiquJob id={self.job_id()!r} status={status} device={self._device_id!r}>"


def _answered_locally(result: PrimitiveResult[Any], device_id: str) -> HaiquJob:
    """Unpickle a job that never reached the service: it holds only its result."""
    return HaiquJob(None, [], lambda jobs: result, device_id=device_id, result=result)
