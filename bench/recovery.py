"""Lost-reply recovery with a big job in the experiment: time and client memory.

Target (issue 14): with a 300 MB job in the experiment, a small run whose ``POST /run``
reply is lost (the emulator handles the request, then drops the connection: its
``drop_after`` fault) is recovered in < 1 s and < 50 MB of client memory. The same run with
its reply delivered is the reference. A second case runs the lost submission on the big
job's own circuit (the search then lists the big job's neighbours). Each run happens in a
fresh process, its peak memory reset before (``/proc/self/clear_refs``); the bytes of every
job listing the client received are counted. Run: ``python -m bench.recovery [--quick]``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile

import httpx
from qiskit import qpy
from qiskit.circuit import QuantumCircuit

from bench._common import Target, bell, emulator_process, parse_args, record, report, report_targets
from bench.big_results import uniform_sweep
from qiskit_haiqu import HaiquClient, HaiquSampler

_RECOVER = """
import json, sys, time
import httpx
from qiskit import qpy
from qiskit_haiqu import HaiquClient, HaiquSampler

def status(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1]) * 1024
    raise RuntimeError(field)

def reset_peak():
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")

listed = []
def count(response):
    if response.request.url.path.endswith("/jobs"):
        response.read()
        listed.append(len(response.content))

url, circuit_file, lose = sys.argv[1], sys.argv[2], sys.argv[3] == "lose"
with open(circuit_file, "rb") as f:
    circuit, values = qpy.load(f)[0], json.loads(sys.argv[4])
http = httpx.Client(timeout=600, event_hooks={"response": [count]})
with HaiquClient(url=url, api_key="bench", http_client=http) as client:
    sampler = HaiquSampler("aer_simulator", client=client)
    sampler.run([(circuit, values)], shots=1000).result()  # warm: experiment, uploads, device
    if lose:
        rule = {"method": "POST", "path": "^/run$", "action": "drop_after"}
        httpx.post(f"{url}/_emulator/faults", json=rule).raise_for_status()
    listed.clear()
    reset_peak()
    before = status("VmRSS:")
    start = time.perf_counter()
    sampler.run([(circuit, values)], shots=1000).result()
    seconds = time.perf_counter() - start
    peak = status("VmHWM:")
print(json.dumps({"seconds": seconds, "extra_bytes": peak - before, "listed": listed}))
"""


def _run(
    url: str, circuit: QuantumCircuit, values: list[float], lose: bool
) -> tuple[float, float, list[int]]:
    """One small run in a fresh process (its reply lost when ``lose``): seconds, extra MB,
    and the size of each job listing received."""
    with tempfile.NamedTemporaryFile(suffix=".qpy") as handle:
        qpy.dump(circuit, handle)
        handle.flush()
        out = subprocess.run(
            [
                sys.executable,
                "-c",
                _RECOVER,
                url,
                handle.name,
                "lose" if lose else "keep",
                json.dumps(values),
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    figures = json.loads(out.strip().splitlines()[-1])
    return float(figures["seconds"]), figures["extra_bytes"] / 1e6, list(figures["listed"])


def main() -> None:
    args = parse_args(__doc__ or "")
    qubits, rows, shots = (8, 2, 2_000) if args.quick else (20, 100, 100_000)
    with emulator_process(smoke=args.quick, max_body_bytes=1 << 30, enable_faults=True) as url:
        with HaiquClient(url=url, api_key="bench") as client:
            big, values = uniform_sweep(qubits, rows)
            job = HaiquSampler("aer_simulator", client=client).run([(big, values)], shots=shots)
            job.wait_for_final_state(timeout=900)
            raw = httpx.get(f"{url}/jobs/{job.job_id()}", headers={"authorization": "bench"})
            big_mb = len(raw.content) / 1e6
            del raw
        cases = [
            ("2-qubit run", bell(), []),
            (f"1 row on the big job's {qubits}-qubit circuit", big, [0.5]),
        ]
        if args.quick:  # a smoke run: the harder case, its lost reply only
            cases = cases[1:]
        rows_out = [("big job in the experiment", f"{qubits} q, {rows} x {shots}: {big_mb:.1f} MB")]
        targets: list[Target] = []
        for index, (name, circuit, params) in enumerate(cases):
            normal_s, normal_mb, _ = (
                (0.0, 0.0, []) if args.quick else _run(url, circuit, params, lose=False)
            )
            lost_s, lost_mb, listed = _run(url, circuit, params, lose=True)
            if not args.quick:
                rows_out.append(
                    (f"{name}, reply delivered", f"{normal_s:.3f} s, +{normal_mb:.1f} MB")
                )
            rows_out += [
                (f"{name}, reply lost", f"{lost_s:.3f} s, +{lost_mb:.1f} MB"),
                (
                    f"{name}, job listings received",
                    f"{len(listed)}: {', '.join(f'{n / 1e6:.2f} MB' for n in listed)}",
                ),
            ]
            what = f"lost-reply recovery, {big_mb:.0f} MB job in the experiment, {name}"
            targets.append(
                record(
                    what if index == 0 else f"same, {name}",
                    f"{lost_s:.2f} s, +{lost_mb:.0f} MB (reply kept: {normal_s:.2f} s, "
                    f"+{normal_mb:.0f} MB)",
                    "< 1 s, < 50 MB",
                    lost_s < 1 and lost_mb < 50,
                )
            )
    report("lost-reply recovery (fresh process per run)", rows_out)
    report_targets(targets)


if __name__ == "__main__":
    main()
