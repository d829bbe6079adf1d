"""The ``qiskit-haiqu`` command: run the emulator, a demo, and inspect devices and jobs.

Exit codes (see ``docs/cli.rst``): 0 success; 1 the service or a job reported an error, or a
job has no result to show; 2 bad usage; 3 ``cancel`` found the job already final, so nothing
was cancelled; 141 the reader of standard output went away (``| head``), as for a command
that SIGPIPE stops.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from qiskit_haiqu.api.redact import mask_credentials, redact
from qiskit_haiqu.errors import HaiquError

if TYPE_CHECKING:
    from qiskit_haiqu.api.client import HaiquClient
    from qiskit_haiqu.api.models import BaseJob, RunJob

__all__ = [
    "EXIT_ALREADY_FINAL",
    "EXIT_BROKEN_PIPE",
    "EXIT_ERROR",
    "EXIT_OK",
    "EXIT_USAGE",
    "build_parser",
    "main",
]

EXIT_OK = 0
"""Success."""
EXIT_ERROR = 1
"""The service or a job reported an error, or a job has no result to show."""
EXIT_USAGE = 2
"""Bad usage: what argparse refuses, ``--url local`` where it cannot work, a missing extra."""
EXIT_ALREADY_FINAL = 3
"""``cancel``: the job was already ``Done``, ``Error`` or ``Cancelled``; nothing changed."""
EXIT_BROKEN_PIPE = 141
"""Standard output was closed before everything was written (128 + SIGPIPE, as shells say)."""

_LOCAL_COMMANDS = frozenset({"demo", "emulator", "devices"})
"""Commands that work on an embedded emulator, which lives only as long as the command."""


def _client(args: argparse.Namespace) -> HaiquClient:
    from qiskit_haiqu.api.client import HaiquClient

    return HaiquClient(url=args.url, api_key=args.api_key)


def _print(data: Any, as_json: bool, rows: list[list[str]] | None = None) -> None:
    """Print ``data`` as JSON (device credentials the service echoes masked), or ``rows``."""
    if as_json or rows is None:
        print(redact(json.dumps(mask_credentials(data), indent=2, default=str)))
        return
    if not rows:
        return
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def _one_or_many(items: list[Any]) -> Any:
    """One job's data as it is; a split run's as a list, one entry per Haiqu job."""
    return items[0] if len(items) == 1 else items


def _job_ids(text: str) -> list[str]:
    """The Haiqu job ids in a primitive job id (``job.job_id()`` joins a split run's with ``;``)."""
    return [part.strip() for part in text.split(";") if part.strip()]


def _positive_int(text: str) -> int:
    """An argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not >= 1")
    return value


def _job_id_argument(text: str) -> str:
    """An argparse type: a job id, or several joined with ``;``."""
    if not _job_ids(text):
        raise argparse.ArgumentTypeError("no job id given")
    return text


# -- commands ----------------------------------------------------------------------------------


def _cmd_emulator(args: argparse.Namespace) -> int:
    try:
        from qiskit_haiqu.emulator.__main__ import main as emulator_main
    except ImportError as exc:
        print(
            f"error: the emulator needs its extra ({exc.name} is missing): "
            'pip install "qiskit-haiqu[emulator]"',
            file=sys.stderr,
        )
        return EXIT_USAGE
    emulator_main(list(args.options), prog="qiskit-haiqu emulator")
    return EXIT_OK


def _cmd_demo(args: argparse.Namespace) -> int:
    from qiskit_haiqu.demo import run_demo

    run_demo(url=args.url, api_key=args.api_key)
    return EXIT_OK


def _cmd_devices(args: argparse.Namespace) -> int:
    with _client(args) as client:
        devices = client.list_devices()
    rows = [["ID", "VENDOR", "QUBITS", "SIMULATOR", "STATUS"]] + [
        [d.id, d.vendor, str(d.qubits), str(d.simulator), d.status] for d in devices
    ]
    _print([d.model_dump(mode="json") for d in devices], args.json, rows)
    return EXIT_OK


def _cmd_jobs(args: argparse.Namespace) -> int:
    name = args.experiment
    with _client(args) as client:
        # Looked up, never created: ``init_experiment`` would make an empty one of a typo.
        found = [e for e in client.list_experiments(name) if e.name == name]
        if not found:
            names = sorted({e.name for e in client.list_experiments()})
            close = difflib.get_close_matches(name, names, n=3)
            hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
            print(
                f"error: no experiment is named {name!r}.{hint} The primitives store their "
                "jobs in options.experiment_name (default 'qiskit-haiqu').",
                file=sys.stderr,
            )
            return EXIT_ERROR
        jobs = [job for e in found for job in client.list_jobs(e.id, limit=args.limit)]
    jobs.sort(key=lambda job: job.creation_date, reverse=True)
    jobs = jobs[: args.limit]
    rows = [["ID", "STATUS", "DEVICE", "CREATED", "NAME"]] + [
        [j.id, j.status, j.device_id, str(j.creation_date), j.name or ""] for j in jobs
    ]
    _print([j.model_dump(mode="json") for j in jobs], args.json, rows)
    return EXIT_OK


def _cmd_job(args: argparse.Namespace) -> int:
    with _client(args) as client:
        jobs = [client.get_job(job_id) for job_id in _job_ids(args.job_id)]
    data = [
        mask_credentials(
            job.model_dump(mode="json", exclude={"quantum_results", "parameters", "observables"})
        )
        for job in jobs
    ]
    if args.json:
        _print(_one_or_many(data), True)
    else:
        for index, fields in enumerate(data):
            if index:
                print()
            for key in (
                "id",
                "status",
                "device_id",
                "creation_date",
                "run_date",
                "finish_date",
                "time",
                "estimated_qpu_cost",
                "info",
                "logs",
            ):
                if fields.get(key) not in (None, "", {}):
                    print(redact(f"{key:>15}: {fields[key]}"))
    return EXIT_ERROR if any(job.status == "Error" for job in jobs) else EXIT_OK


def _cancel_one(client: HaiquClient, job_id: str) -> tuple[int, str, str]:
    """Cancel one Haiqu job: its exit code, its status and what happened, in words."""
    from qiskit_haiqu.api.models import FINAL_STATUSES

    before = client.get_job(job_id).status
    if before in FINAL_STATUSES:
        return (
            EXIT_ALREADY_FINAL,
            before,
            f"Job {job_id} was already final ({before}): nothing to cancel.",
        )
    after = client.cancel_job(job_id).status
    if after == "Cancelled":
        return EXIT_OK, after, f"Job {job_id} cancelled."
    if after in FINAL_STATUSES:
        kept = " Its results are kept." if after == "Done" else ""
        return (
            EXIT_ALREADY_FINAL,
            after,
            f"Job {job_id} ended ({after}) before the cancel reached it: nothing was "
            f"cancelled.{kept}",
        )
    return (
        EXIT_ERROR,
        after,
        f"Job {job_id} is {after}: the service took the cancel request but has not cancelled "
        f"the job yet. Check with: qiskit-haiqu job {job_id}",
    )


def _cmd_cancel(args: argparse.Namespace) -> int:
    codes: list[int] = []
    records: list[dict[str, str]] = []
    with _client(args) as client:
        for job_id in _job_ids(args.job_id):
            try:  # every part of a split run is tried, whatever happened to the others
                code, status, text = _cancel_one(client, job_id)
            except HaiquError as exc:
                code, status, text = EXIT_ERROR, "unknown", f"error: job {job_id}: {exc}"
            codes.append(code)
            records.append({"job_id": job_id, "status": status, "outcome": text})
            if not args.json:
                print(text, file=sys.stderr if code == EXIT_ERROR else sys.stdout)
    if args.json:
        _print(_one_or_many(records), True)
    # An error outweighs "already final", which outweighs success.
    return max(codes, key=(EXIT_OK, EXIT_ALREADY_FINAL, EXIT_ERROR).index)


def _wait(client: HaiquClient, job_ids: list[str]) -> None:
    """Poll jobs until they are final, showing their progress on standard error."""
    from qiskit_haiqu.primitives.polling import JobWatch, PollingPolicy
    from qiskit_haiqu.primitives.progress import TerminalProgress

    jobs: list[Any] = [client.get_job(job_id) for job_id in job_ids]
    JobWatch(
        client,
        jobs,
        device_id=jobs[0].device_id,
        policy=PollingPolicy(max_interval=1.0),
        progress=TerminalProgress(),
    ).wait()


def _missing_result(job: RunJob | BaseJob, argument: str) -> str | None:
    """Why ``job`` has no result to show (``None``: it has one)."""
    from qiskit_haiqu.api.models import RunJob

    if job.status == "Cancelled":
        return f"Job {job.id} was cancelled; it has no result."
    if job.status == "Error":
        return f"Job {job.id} failed; it has no result. {job.logs or '(no logs)'}"
    if job.status != "Done":
        return (
            f"Job {job.id} is {job.status}; it has no result yet. Wait for it with: "
            f'qiskit-haiqu result "{argument}" --wait'
        )
    if not isinstance(job, RunJob) or job.quantum_results is None:
        return f"Job {job.id} has no quantum results (a dry run or not a run job)."
    return None


def _cmd_result(args: argparse.Namespace) -> int:
    from qiskit_haiqu.api.models import RunJob
    from qiskit_haiqu.cli_results import result_records, result_rows

    job_ids = _job_ids(args.job_id)
    with _client(args) as client:
        if args.wait:
            _wait(client, job_ids)
        fetched = [client.get_job(job_id) for job_id in job_ids]
    for job in fetched:
        problem = _missing_result(job, args.job_id)
        if problem is not None:
            print(redact(problem), file=sys.stderr)
            return EXIT_ERROR
    jobs = [job for job in fetched if isinstance(job, RunJob)]
    if args.raw:
        _print(_one_or_many([job.quantum_results for job in jobs]), True)
        return EXIT_OK
    payloads: list[dict[str, Any]] = [
        {"job_id": job.id, "device_id": job.device_id, "shots": job.shots}
        | {"records": result_records(job, top=args.top)}
        for job in jobs
    ]
    if args.json:
        _print(_one_or_many(payloads), True)
        return EXIT_OK
    for index, payload in enumerate(payloads):
        if len(payloads) > 1:  # a split run: one table per Haiqu job, each with a title
            if index:
                print()
            job_id, shots, device = payload["job_id"], payload["shots"], payload["device_id"]
            print(f"Haiqu job {job_id} ({shots} shots on {device}):")
        _print(payload, False, result_rows(payload["records"]))
    return EXIT_OK


# -- the parser ---------------------------------------------------------------------------------


def _with_client(parser: argparse.ArgumentParser, local: bool) -> argparse.ArgumentParser:
    """Add the options of commands that talk to a service; ``local``: ``--url local`` works."""
    where = (
        "'local' runs an embedded emulator for this command only"
        if local
        else "for the local emulator, serve it with 'qiskit-haiqu emulator' and pass its URL"
    )
    parser.add_argument(
        "--url", help=f"API URL (default: $HAIQU_API_URL, else the Haiqu cloud); {where}"
    )
    parser.add_argument("--api-key", help="API key (default: $HAIQU_API_KEY)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    return parser


JOB_ID_HELP = (
    "a Haiqu job id, or a primitive job's id as job.job_id() prints it (a split run's ids "
    "joined with ';': quote it in the shell)"
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``qiskit-haiqu``."""
    parser = argparse.ArgumentParser(
        prog="qiskit-haiqu",
        description="Qiskit primitives on the Haiqu quantum cloud.",
        epilog="Exit codes: 0 success, 1 error, 2 bad usage, 3 cancel of a job already final.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    emulator = sub.add_parser(
        "emulator",
        help="serve the local Haiqu-compatible emulator (--help for its options)",
        add_help=False,
    )
    emulator.set_defaults(func=_cmd_emulator)  # its options are the emulator's own

    demo = sub.add_parser("demo", help="run a Bell sampler and an estimator sweep end to end")
    demo.add_argument("--url", default="local", help="API URL (default: an embedded emulator)")
    demo.add_argument("--api-key", help="API key (default: $HAIQU_API_KEY)")
    demo.set_defaults(func=_cmd_demo)

    devices = _with_client(sub.add_parser("devices", help="list devices"), local=True)
    devices.set_defaults(func=_cmd_devices)
    jobs = _with_client(sub.add_parser("jobs", help="recent jobs of an experiment"), local=False)
    jobs.add_argument(
        "--experiment",
        default="qiskit-haiqu",
        help="the experiment's name, looked up and never created (default: qiskit-haiqu, "
        "where the primitives put their jobs)",
    )
    jobs.add_argument(
        "--limit", type=_positive_int, default=10, help="show at most N jobs (default: 10)"
    )
    jobs.set_defaults(func=_cmd_jobs)
    commands: tuple[tuple[str, Callable[[argparse.Namespace], int], str], ...] = (
        ("job", _cmd_job, "status, timings, cost and logs of a job"),
        ("cancel", _cmd_cancel, "cancel a job (exit code 3 when it was already final)"),
        ("result", _cmd_result, "counts (sampler jobs) or values (estimator jobs) of a job"),
    )
    by_id = {}
    for name, func, text in commands:
        by_id[name] = p = _with_client(sub.add_parser(name, help=text), local=False)
        p.add_argument("job_id", metavar="JOB_ID", type=_job_id_argument, help=JOB_ID_HELP)
        p.set_defaults(func=func)
    result = by_id["result"]
    result.add_argument(
        "--top", type=_positive_int, help="only the N most frequent outcomes of each circuit"
    )
    result.add_argument(
        "--raw", action="store_true", help="print the service's quantum_results as they are"
    )
    result.add_argument(
        "--wait", action="store_true", help="wait until the job is final, showing its progress"
    )
    return parser


def _local_refusal(args: argparse.Namespace) -> str | None:
    """Why ``--url local`` (or ``HAIQU_API_URL=local``) cannot work for this command."""
    if args.command in _LOCAL_COMMANDS:
        return None
    given = args.url if args.url else os.environ.get("HAIQU_API_URL", "")
    if given.strip().lower() != "local":
        return None
    source = "--url local" if args.url else "HAIQU_API_URL=local"
    return (
        f"{source} cannot work with '{args.command}': it starts an embedded emulator that "
        "holds no jobs and stops when the command ends. Serve the emulator with "
        "'qiskit-haiqu emulator --port 8000' and pass --url http://127.0.0.1:8000 (any "
        "--api-key), or run 'qiskit-haiqu demo'."
    )


def _run(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if args.command == "emulator":
        args.options = extra
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    refusal = _local_refusal(args)
    if refusal is not None:
        print(f"error: {refusal}", file=sys.stderr)
        return EXIT_USAGE
    try:
        return int(args.func(args))
    except HaiquError as exc:
        print(f"error: {redact(str(exc))}", file=sys.stderr)
        return EXIT_ERROR


def _discard_stdout() -> None:
    """Point standard output at the null device, so that flushing it at exit cannot fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no file descriptor (captured output): nothing to flush
        return


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    try:
        code = _run(argv)
        sys.stdout.flush()
    except BrokenPipeError:  # the reader went away (``| head``): stop quietly
        _discard_stdout()
        return EXIT_BROKEN_PIPE
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
