"""Find jobs again by id from another process: ``HaiquService().job(job_id)``.

This process submits a sampler job and an estimator job and keeps only their ids. A second
Python process (this script with ``--retrieve``) gets the ids and nothing else:
``service.job(job_id)`` reads from each job whether a sampler or an estimator made it, and its
``result()`` is what the submitting process got (register names, shapes, values). Last,
``service.jobs()`` lists the experiment's recent jobs, newest first.

Run against the embedded emulator: ``python examples/service_job_retrieval.py`` (``--quick``
for fewer shots). Set ``HAIQU_API_URL``/``HAIQU_API_KEY`` to run on the Haiqu cloud instead.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit import ClassicalRegister, Parameter, QuantumRegister

from qiskit_haiqu import HaiquClient, HaiquEstimator, HaiquSampler, HaiquService

EXPERIMENT = "service-job-retrieval"


def summary(result) -> list[dict[str, object]]:
    """What a result says, as JSON: counts per register, or values, per pub."""
    pubs = []
    for pub in result:
        if "evs" in pub.data:
            pubs.append({"evs": pub.data.evs.tolist(), "stds": pub.data.stds.tolist()})
        else:
            pubs.append({name: pub.data[name].get_counts() for name in pub.data})
    return pubs


def retrieve(job_ids: list[str]) -> None:
    """The second process: the jobs from their ids alone (client from the environment)."""
    with HaiquService() as service:
        jobs = [service.job(job_id) for job_id in job_ids]
        print(json.dumps([summary(job.result()) for job in jobs]))


def main() -> bool:
    """Submit, retrieve in another process, compare; return whether the results agree."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--retrieve", nargs="+", metavar="JOB_ID")
    args = parser.parse_args()
    if args.retrieve:
        retrieve(args.retrieve)
        return True
    shots = 500 if args.quick else 4000
    options = {"experiment_name": EXPERIMENT, "default_shots": shots}

    bell = QuantumCircuit(QuantumRegister(2), ClassicalRegister(1, "a"), ClassicalRegister(1, "b"))
    bell.h(0)
    bell.cx(0, 1)
    bell.measure([0, 1], [0, 1])
    theta = Parameter("theta")
    rotated = QuantumCircuit(1)
    rotated.ry(theta, 0)

    with HaiquClient(url=os.environ.get("HAIQU_API_URL", "local")) as client:
        sampled = HaiquSampler("aer_simulator", client=client, options=options).run([bell])
        estimated = HaiquEstimator("aer_simulator", client=client, options=options).run(
            [(rotated, [["Z"], ["X"]], np.linspace(0, np.pi, 3))]
        )
        ids = [sampled.job_id(), estimated.job_id()]
        mine = [summary(sampled.result()), summary(estimated.result())]
        print(f"submitted: sampler job {ids[0]}, estimator job {ids[1]}")

        # Another process knows only the ids (and the service's URL and key).
        env = dict(os.environ, HAIQU_API_URL=client.base_url)
        env.setdefault("HAIQU_API_KEY", "local")  # the embedded emulator takes any key
        completed = subprocess.run(
            [sys.executable, __file__, "--retrieve", *ids],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        theirs = json.loads(completed.stdout.strip().splitlines()[-1])
        same = [m == t for m, t in zip(mine, theirs, strict=True)]
        print(f"second process, sampler job: counts {theirs[0][0]}; same as here: {same[0]}")
        evs = np.round(theirs[1][0]["evs"], 3).tolist()
        print(f"second process, estimator job: evs {evs}; same as here: {same[1]}")

        listed = HaiquService(client).jobs(limit=2, experiment_name=EXPERIMENT)
        print(f"service.jobs(): {[job.job_id() for job in listed]}")
        print(f"newest first: {[job.job_id() for job in listed] == ids[::-1]}")
    return all(same)


if __name__ == "__main__":
    main()
