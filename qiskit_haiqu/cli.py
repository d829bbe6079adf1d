"""The ``qiskit-haiqu`` command: run the emulator, a demo, and inspect devices and jobs.

Exit codes: 0 success, 1 the service or a job reported an error, 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from qiskit_haiqu.errors import HaiquError

__all__ = ["main"]


def _client(args: argparse.Namespace) -> Any:
    from qiskit_haiqu.api.client import HaiquClient

    return HaiquClient(url=args.url, api_key=args.api_key)


def _print(data: Any, as_json: bool, rows: list[list[str]] | None = None) -> None:
    if as_json or rows is None:
        print(json.dumps(data, indent=2, default=str))
        return
    if not rows:
        return
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def _cmd_emulator(args: argparse.Namespace) -> int:
    try:
        from qiskit_haiqu.emulator.__main__ import main as emulator_main
    except ImportError as exc:
        print(
            f"error: the emulator needs its extra ({exc.name} is missing): "
            'pip install "qiskit-haiqu[emulator]"',
            file=sys.stderr,
        )
        return 2
    emulator_main(list(args.options), prog="qiskit-haiqu emulator")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from qiskit_haiqu.demo import run_demo

    run_demo(url=args.url, api_key=args.api_key)
    return 0


def _cmd_devices(args: argparse.Namespace) -> int:
    with _client(args) as client:
        devices = client.list_devices()
    rows = [["ID", "VENDOR", "QUBITS", "SIMULATOR", "STATUS"]] + [
        [d.id, d.vendor, str(d.qubits), str(d.simulator), d.status] for d in devices
    ]
    _print([d.model_dump(mode="json") for d in devices], args.json, rows)
    return 0


def _cmd_jobs(args: argparse.Namespace) -> int:
    with _client(args) as client:
        experiment = client.init_experiment(args.experiment)
        jobs = client.list_jobs(experiment.id, limit=args.limit)
    rows = [["ID", "STATUS", "DEVICE", "CREATED", "NAME"]] + [
        [j.id, j.status, j.device_id, str(j.creation_date), j.name or ""] for j in jobs
    ]
    _print([j.model_dump(mode="json") for j in jobs], args.json, rows)
    return 0


def _cmd_job(args: argparse.Namespace) -> int:
    with _client(args) as client:
        job = client.get_job(args.job_id)
    data = job.model_dump(mode="json", exclude={"quantum_results", "parameters", "observables"})
    if args.json:
        _print(data, True)
    else:
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
            if data.get(key) not in (None, "", {}):
                print(f"{key:>15}: {data[key]}")
    return 1 if job.status == "Error" else 0


def _cmd_cancel(args: argparse.Namespace) -> int:
    with _client(args) as client:
        job = client.cancel_job(args.job_id)
    print(job.status)
    return 0 if job.status == "Cancelled" else 1


def _wait(client: Any, job_id: str) -> None:
    """Poll a job until it is final, showing its progress on standard error."""
    from qiskit.primitives import PrimitiveResult

    from qiskit_haiqu.primitives.job import HaiquJob
    from qiskit_haiqu.primitives.progress import TerminalProgress

    job = client.get_job(job_id)
    # The primitive job's polling and progress, reused; only waiting: nothing is decoded.
    handle = HaiquJob(
        client,
        [job],
        lambda _: PrimitiveResult([]),
        device_id=job.device_id,
        max_poll_interval=1.0,
        progress=TerminalProgress(),
    )
    handle.wait_for_final_state()


def _cmd_result(args: argparse.Namespace) -> int:
    from qiskit_haiqu.api.models import RunJob
    from qiskit_haiqu.cli_results import result_records, result_rows

    with _client(args) as client:
        if args.wait:
            _wait(client, args.job_id)
        job = client.get_job(args.job_id)
    if job.status != "Done":
        print(f"Job {job.id} is {job.status}; it has no result yet.", file=sys.stderr)
        return 1
    if not isinstance(job, RunJob) or job.quantum_results is None:
        print(f"Job {job.id} has no quantum results (a dry run or not a run job).", file=sys.stderr)
        return 1
    if args.raw:
        _print(job.quantum_results, True)
        return 0
    records = result_records(job, top=args.top)
    payload = {"job_id": job.id, "device_id": job.device_id, "shots": job.shots}
    _print(payload | {"records": records}, args.json, result_rows(records))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``qiskit-haiqu``."""
    parser = argparse.ArgumentParser(
        prog="qiskit-haiqu", description="Qiskit primitives on the Haiqu quantum cloud."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def with_client(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument(
            "--url",
            help="API URL (default: $HAIQU_API_URL or the Haiqu cloud; "
            "'local' runs an embedded emulator)",
        )
        p.add_argument("--api-key", help="API key (default: $HAIQU_API_KEY)")
        p.add_argument("--json", action="store_true", help="print JSON")
        return p

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

    with_client(sub.add_parser("devices", help="list devices")).set_defaults(func=_cmd_devices)
    jobs = with_client(sub.add_parser("jobs", help="recent jobs of an experiment"))
    jobs.add_argument("--experiment", default="qiskit-haiqu")
    jobs.add_argument("--limit", type=int, default=10)
    jobs.set_defaults(func=_cmd_jobs)
    by_id = {}
    for name, func, text in (
        ("job", _cmd_job, "status, timings, cost and logs of a job"),
        ("cancel", _cmd_cancel, "cancel a job"),
        ("result", _cmd_result, "counts (sampler jobs) or values (estimator jobs) of a job"),
    ):
        by_id[name] = p = with_client(sub.add_parser(name, help=text))
        p.add_argument("job_id")
        p.set_defaults(func=func)
    result = by_id["result"]
    result.add_argument("--top", type=int, help="only the N most frequent outcomes")
    result.add_argument("--raw", action="store_true", help="the service's quantum_results")
    result.add_argument("--wait", action="store_true", help="wait for the job, with progress")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if args.command == "emulator":
        args.options = extra
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return int(args.func(args))
    except HaiquError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
