"""Watching Haiqu jobs until they are final: the polling policy and the status of a job set.

:class:`JobWatch` is what a :class:`~qiskit_haiqu.HaiquJob` polls through, and what the CLI
uses to wait for jobs it only shows. A set of jobs (one ``run()`` split into several) has
one status with the meaning it has for a single job: final only when every job is final.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from qiskit.providers import JobStatus as QiskitJobStatus

from qiskit_haiqu.api.client import HaiquClient
from qiskit_haiqu.api.models import FINAL_STATUSES, BaseJob, JobStatus, RunJob, parse_status
from qiskit_haiqu.errors import HaiquError, JobTimeoutError
from qiskit_haiqu.primitives.progress import JobProgress, ProgressCallback

__all__ = ["JobWatch", "PollingPolicy", "RecentDurations", "combined_status", "first_poll"]

logger = logging.getLogger("qiskit_haiqu")

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
# While some jobs run, the set is as far along as the most advanced unfinished one; once
# all are final, one failure makes it ERROR, else one cancellation CANCELLED.
_UNFINISHED_ORDER = (
    QiskitJobStatus.RUNNING,
    QiskitJobStatus.VALIDATING,
    QiskitJobStatus.QUEUED,
    QiskitJobStatus.INITIALIZING,
)
_FINAL_ORDER = (QiskitJobStatus.ERROR, QiskitJobStatus.CANCELLED, QiskitJobStatus.DONE)


def combined_status(statuses: Sequence[JobStatus]) -> QiskitJobStatus:
    """The Qiskit status of a set of Haiqu jobs (``DONE`` for none).

    Final only when every job is final, so ``in_final_state()`` and ``result()`` agree for
    a split run as for a single job.
    """
    unfinished = {_TO_QISKIT[s] for s in statuses if s not in FINAL_STATUSES}
    if unfinished:
        return next(s for s in _UNFINISHED_ORDER if s in unfinished)
    final = {_TO_QISKIT[s] for s in statuses}
    return next((s for s in _FINAL_ORDER if s in final), QiskitJobStatus.DONE)


@dataclass(frozen=True)
class PollingPolicy:
    """When to ask the service again: a first wait, then a geometric back-off.

    Attributes:
        interval: Seconds between the first polls.
        max_interval: Cap of the back-off (each wait is 1.5 times the previous one).
        first: Seconds before the very first poll, when the job is expected to take about
            that long (``interval`` when ``None``); capped at ``max_interval``.
    """

    interval: float = 0.01
    max_interval: float = 2.0
    first: float | None = None

    def delays(self) -> Iterator[float]:
        """The waits before each poll, endlessly.

        After a first poll timed on the expected duration, the job is due any moment: one
        more poll follows a quarter of that duration later (at least 2 ms), when that is
        sooner than ``interval``; then the usual back-off from ``interval``.
        """
        if self.first is not None:
            yield min(self.first, self.max_interval)
            quick = max(0.002, 0.25 * self.first)
            if quick < self.interval:
                yield quick
        delay = self.interval
        while True:
            yield delay
            delay = min(delay * 1.5, self.max_interval)


_MOST_DISCOUNT = 0.5
"""The largest share of a ``POST``'s round trip a first poll discounts (see :func:`first_poll`)."""


class RecentDurations:
    """How long the service took for a primitive's recent jobs, to time the next first poll,
    and how much of a ``POST``'s round trip the first poll may discount (see
    :func:`first_poll`)."""

    def __init__(self) -> None:
        self._spans: deque[float] = deque(maxlen=5)
        self._discount = _MOST_DISCOUNT
        self._lock = threading.Lock()

    def discount(self) -> float:
        """The share of a ``POST``'s round trip the next first poll discounts: none after a
        first poll that came too early, growing back by a fifth of the most after each one
        that found its jobs final (so a busy service or host is not polled early again)."""
        with self._lock:
            return self._discount

    def expected(self) -> float | None:
        """The least of the last three durations (one slow job does not delay the rest)."""
        with self._lock:
            recent = list(self._spans)[-3:]
        return min(recent) if recent else None

    def record(self, seconds: float, *, first_poll_hit: bool | None = None) -> None:
        """Remember one job's duration (the service's own clock), and whether the first poll
        timed on the recent ones found the jobs final (``None``: no such poll was made)."""
        with self._lock:
            self._spans.append(seconds)
            if first_poll_hit is False:
                self._discount = 0.0
            elif first_poll_hit:
                self._discount = min(_MOST_DISCOUNT, self._discount + _MOST_DISCOUNT / 5)

    def clear(self) -> None:
        """Forget every duration, and what the first polls taught about the discount."""
        with self._lock:
            self._spans.clear()
            self._discount = _MOST_DISCOUNT


def first_poll(
    expected: float | None, post_seconds: float, discount: float = _MOST_DISCOUNT
) -> float | None:
    """Seconds from a submission's reply to the first poll of a job expected to take
    ``expected`` seconds of the service's clock (``None``: no expectation yet).

    The service's clock starts when it creates the job, somewhere within the ``POST``'s
    round trip (``post_seconds``): with the reply taking about as long as the request, half
    of it passed after the job began. That share (``discount``, at most a half, and never
    more than half of the job) is not waited again. A margin of 3 % and 0.5 ms keeps the
    poll just after the job's end rather than just before.
    """
    if expected is None:
        return None
    elapsed = min(discount * post_seconds, 0.5 * expected)
    return max(0.0, 1.03 * expected + 0.0005 - elapsed)


class JobWatch:
    """The latest known state of some Haiqu jobs, refreshed only while they are unfinished."""

    def __init__(
        self,
        client: HaiquClient | None,
        jobs: Sequence[RunJob | BaseJob],
        *,
        device_id: str = "",
        policy: PollingPolicy | None = None,
        durations: RecentDurations | None = None,
        progress: ProgressCallback | None = None,
    ) -> None:
        """Watch ``jobs`` (their replies as last seen) through ``client``.

        Args:
            client: The client to poll with (``None`` only for no jobs).
            jobs: The jobs, in result order.
            device_id: The device they run on (for display).
            policy: When to poll; :class:`PollingPolicy` defaults when ``None``.
            durations: Told, once, how long the service took, when the jobs are final.
            progress: Called with a :class:`JobProgress` after each poll while waiting.
        """
        self.ids = [job.id for job in jobs]
        self.device_id = device_id
        self.lock = threading.RLock()
        self._client = client
        self._jobs: dict[str, RunJob | BaseJob] = {job.id: job for job in jobs}
        self._policy = policy or PollingPolicy()
        self._durations = durations
        self._progress = progress
        self._created = time.monotonic()
        self._shown: tuple[str, ...] | None = None  # the statuses of the last snapshot
        self._shown_final = False

    @property
    def label(self) -> str:
        """The ids joined by ``";"`` (a primitive job's id)."""
        return ";".join(self.ids)

    def client(self) -> HaiquClient:
        """The client; a watch without one holds no Haiqu job, so it never asks for it."""
        if self._client is None:
            raise HaiquError(f"Job {self.label or 'local-empty'} has no client to ask with.")
        return self._client

    def jobs(self) -> list[RunJob | BaseJob]:
        """The latest known state of each job, in order (no request)."""
        return [self._jobs[i] for i in self.ids]

    def statuses(self) -> list[JobStatus]:
        """Each job's status as last seen."""
        return [parse_status(self._jobs[i].status, job_id=i) for i in self.ids]

    def status(self) -> QiskitJobStatus:
        """The combined status as last seen (see :func:`combined_status`)."""
        return combined_status(self.statuses())

    def all_final(self) -> bool:
        """Whether every job is final, as last seen."""
        return all(s in FINAL_STATUSES for s in self.statuses())

    def refresh(self) -> None:
        """Fetch every unfinished job once and log status changes."""
        for job_id in self.ids:
            old = self._jobs[job_id]
            if parse_status(old.status, job_id=job_id) in FINAL_STATUSES:
                continue
            new = self.client().get_job(job_id)
            if new.status != old.status:
                logger.info("Haiqu job %s: %s -> %s", job_id, old.status, new.status)
            self._jobs[job_id] = new

    def cancel(self) -> bool:
        """Ask the service to cancel every unfinished job.

        Returns:
            ``True`` when every job ended up cancelled, ``False`` otherwise (for example
            when they had already finished).
        """
        with self.lock:
            self.refresh()
            requested = False
            for job_id in self.ids:
                if parse_status(self._jobs[job_id].status, job_id=job_id) in FINAL_STATUSES:
                    continue
                reply = self.client().cancel_job(job_id)
                # A job that finished meanwhile may come back with the common fields only:
                # never let that replace the run job, whose results the service still holds.
                fetched = reply if isinstance(reply, RunJob) else self.client().get_job(job_id)
                self._jobs[job_id] = fetched
                requested = True
                logger.info("Haiqu job %s: cancel requested", job_id)
            return requested and all(s is JobStatus.CANCELLED for s in self.statuses())

    def wait(self, timeout: float | None = None) -> None:
        """Poll until every job is final.

        Args:
            timeout: Seconds to wait at most; ``None`` waits as long as it takes.

        Raises:
            JobTimeoutError: the time ran out. The jobs keep running on the server.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        for polls, delay in enumerate(self._policy.delays()):  # polls made so far
            with self.lock:
                self._show_progress()
                if self.all_final():
                    self._report_durations(polls)
                    return
            if deadline is not None and time.monotonic() >= deadline:
                raise self._timeout_error(timeout)
            pause = delay
            if deadline is not None:
                pause = max(0.0, min(pause, deadline - time.monotonic()))
            time.sleep(pause)
            with self.lock:
                self.refresh()

    def _show_progress(self) -> None:
        """Hand the progress callback a snapshot; nothing more once a final one was shown."""
        if self._progress is None or self._shown_final:
            return
        statuses = tuple(self._jobs[i].status for i in self.ids)
        snapshot = JobProgress(
            job_id=self.label,
            device_id=self.device_id,
            status=self.status().name,
            statuses=statuses,
            finished=sum(s in FINAL_STATUSES for s in self.statuses()),
            elapsed=time.monotonic() - self._created,
            changed=statuses != self._shown,
        )
        self._shown = statuses
        self._shown_final = snapshot.final
        self._progress(snapshot)

    def _report_durations(self, polls: int) -> None:
        """Record how long the service took (its own clock, not our polling), once, and
        whether a first poll timed on the recent durations found the jobs final (``polls``:
        how many polls this wait made)."""
        if self._durations is None:
            return
        timed = self._policy.first is not None and polls > 0
        durations, self._durations = self._durations, None
        spans = [
            (job.finish_date - job.creation_date).total_seconds()
            for job in self._jobs.values()
            if job.finish_date is not None
        ]
        if spans:
            durations.record(max(0.0, max(spans)), first_poll_hit=polls == 1 if timed else None)

    def _timeout_error(self, timeout: float | None) -> JobTimeoutError:
        label = self.label
        return JobTimeoutError(
            f"Job {label} did not finish within {timeout} s (status {self.status().name}). It "
            "is still running on the Haiqu service: call result() again to keep waiting, or "
            f"fetch it later with sampler.job({label!r}) / estimator.job(...).",
            job_id=label,
        )
