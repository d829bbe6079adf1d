"""``python -m qiskit_haiqu.emulator``: serve the emulator in the foreground."""

from __future__ import annotations

import argparse

from qiskit_haiqu.emulator.server import serve
from qiskit_haiqu.emulator.settings import (
    KEY_FORMATS,
    RUN_ROUTES,
    UPLOAD_LAYOUTS,
    EmulatorSettings,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The emulator's command-line options (shared with ``qiskit-haiqu emulator``)."""
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on")
    parser.add_argument(
        "--api-key",
        action="append",
        dest="api_keys",
        help="accept only this key (repeatable); default: any non-empty key",
    )
    parser.add_argument(
        "--enable-faults",
        action="store_true",
        help="serve the fault-injection control endpoints (for tests)",
    )
    parser.add_argument(
        "--min-job-seconds",
        type=float,
        default=0.0,
        help="every job takes at least this long, so pollers see its statuses",
    )
    defaults = EmulatorSettings()
    parser.add_argument(
        "--key-format",
        choices=KEY_FORMATS,
        default=defaults.key_format,
        help="how sampled outcomes are keyed: as Result.get_counts() writes them, the full "
        "clbit string, or Aer's hex keys (default: %(default)s)",
    )
    parser.add_argument(
        "--upload-layout",
        choices=UPLOAD_LAYOUTS,
        default=defaults.upload_layout,
        help="whether observables of an uploaded circuit that carries a layout are read as "
        "virtual and mapped through it (honour) or not (ignore) (default: %(default)s)",
    )
    parser.add_argument(
        "--max-density-matrix-qubits",
        type=int,
        default=defaults.max_density_matrix_qubits,
        help="widest non-unitary circuit whose expectation values are computed exactly "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--max-trajectories",
        type=int,
        default=defaults.max_trajectories,
        help="most trajectories per noisy or non-unitary expectation value (default: %(default)s)",
    )
    parser.add_argument(
        "--max-finished-jobs",
        type=int,
        default=defaults.max_finished_jobs,
        help="finished jobs kept with their results; older ones are forgotten, and their ids "
        "answer 404 saying so (0: keep all) (default: %(default)s)",
    )
    parser.add_argument(
        "--run-route",
        choices=RUN_ROUTES,
        default=defaults.run_route,
        help="serve POST /run next to POST /flow (available), or not at all, as when the "
        "service retires it (retired) (default: %(default)s)",
    )


def run(arguments: argparse.Namespace) -> None:
    """Serve with the parsed options until interrupted."""
    serve(
        host=arguments.host,
        port=arguments.port,
        api_keys=arguments.api_keys,
        enable_faults=arguments.enable_faults,
        min_job_seconds=arguments.min_job_seconds,
        key_format=arguments.key_format,
        upload_layout=arguments.upload_layout,
        max_density_matrix_qubits=arguments.max_density_matrix_qubits,
        max_trajectories=arguments.max_trajectories,
        run_route=arguments.run_route,
        max_finished_jobs=arguments.max_finished_jobs,
    )


def main(argv: list[str] | None = None, prog: str = "python -m qiskit_haiqu.emulator") -> None:
    """Parse the command line and serve until interrupted."""
    parser = argparse.ArgumentParser(prog=prog, description="Serve the local Haiqu emulator.")
    add_arguments(parser)
    run(parser.parse_args(argv))


if __name__ == "__main__":
    main()
