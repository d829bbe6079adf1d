"""A parameter sweep with HaiquEstimator: <Z> and <X> of RY(theta)|0>, plotted to a PNG.

``python examples/parameter_sweep.py [--quick] [--output sweep.png]`` (the plot needs
matplotlib; without it the values are printed only).
"""

from __future__ import annotations

import argparse
import os

import numpy as np
from qiskit.circuit import Parameter, QuantumCircuit

from qiskit_haiqu import HaiquClient, HaiquEstimator


def main() -> float:
    """Run the sweep; returns the largest deviation from the exact values, in stds."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--output", default="sweep.png")
    args = parser.parse_args()
    theta = Parameter("theta")
    circuit = QuantumCircuit(1)
    circuit.ry(theta, 0)
    angles = np.linspace(0, 2 * np.pi, 9 if args.quick else 41)
    observables = [["Z"], ["X"]]  # shape (2, 1) against values (n,): a (2, n) result
    with HaiquClient(url=os.environ.get("HAIQU_API_URL", "local")) as client:
        estimator = HaiquEstimator("aer_simulator", client=client)
        result = estimator.run([(circuit, observables, angles)], precision=0.02).result()[0]
    evs, stds = result.data.evs, result.data.stds
    exact = np.array([np.cos(angles), np.sin(angles)])
    worst = float(np.max(np.abs(evs - exact) / np.maximum(stds, 1e-12)))
    print(f"{len(angles)} angles, shape {evs.shape}, {result.metadata['shots']} shots each")
    print(f"largest deviation from exact: {worst:.1f} standard errors")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot")
        return worst
    fig, ax = plt.subplots(figsize=(6, 4))
    for row, label in enumerate(("<Z>", "<X>")):
        ax.errorbar(angles, evs[row], yerr=stds[row], fmt="o", label=f"{label} measured")
        ax.plot(angles, exact[row], "--", label=f"{label} exact")
    ax.set_xlabel("theta")
    ax.legend()
    fig.savefig(args.output, dpi=100)
    print(f"plot written to {args.output}")
    return worst


if __name__ == "__main__":
    main()
