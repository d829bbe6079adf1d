"""Readout-error mitigation on a noisy device, side by side with the unmitigated run.

A 4-qubit GHZ state is run on ``fake_manila`` (a noisy simulator of a 5-qubit IBM device)
with ``use_mitigation=False`` and ``True``, and on the noiseless ``aer_simulator`` as a
reference:

* HaiquSampler: total variation distance of the measured distribution to the ideal one
  (half ``0000``, half ``1111``). With mitigation the service returns quasi-probabilities,
  read here from ``result.metadata["quasi_dists"]``.
* HaiquEstimator: ``<ZZZZ>``, exactly 1.0 on a GHZ state.

Both runs of a pair use the same ``seed_simulator``, so they see the same raw shots and the
difference is the mitigation alone. Readout mitigation removes the readout error only; the
gate noise that remains keeps the mitigated values short of the exact ones.

Run against the embedded emulator: ``python examples/noisy_mitigation.py`` (``--quick`` for
fewer shots). Set ``HAIQU_API_URL``/``HAIQU_API_KEY`` to run on the Haiqu cloud instead.
"""

from __future__ import annotations

import argparse
import os
import warnings

from qiskit import QuantumCircuit
from qiskit.quantum_info import SparsePauliOp

from qiskit_haiqu import HaiquClient, HaiquEstimator, HaiquSampler

DEVICE = "fake_manila"
NUM_QUBITS = 4
SEED = 1234


def ghz(num_qubits: int, *, measure: bool) -> QuantumCircuit:
    """The GHZ state (|0...0> + |1...1>) / sqrt(2), measured or not."""
    circuit = QuantumCircuit(num_qubits, name=f"ghz{num_qubits}")
    circuit.h(0)
    for qubit in range(num_qubits - 1):
        circuit.cx(qubit, qubit + 1)
    if measure:
        circuit.measure_all()
    return circuit


def total_variation(dist: dict[str, float], ideal: dict[str, float]) -> float:
    """Half the L1 distance between two (quasi-)distributions."""
    keys = set(dist) | set(ideal)
    return 0.5 * sum(abs(dist.get(k, 0.0) - ideal.get(k, 0.0)) for k in keys)


def main() -> dict[str, tuple[float, float, float]]:
    """Run all six jobs; return {run: (distance, <ZZZZ>, its std)}."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    quick = parser.parse_args().quick
    shots = 4000 if quick else 20000
    precision = 0.01 if quick else 0.005
    ideal = {"0" * NUM_QUBITS: 0.5, "1" * NUM_QUBITS: 0.5}
    observable = SparsePauliOp("Z" * NUM_QUBITS)
    runs = {
        "aer_simulator": ("aer_simulator", False),
        "unmitigated": (DEVICE, False),
        "mitigated": (DEVICE, True),
    }
    figures: dict[str, tuple[float, float, float]] = {}
    with HaiquClient(url=os.environ.get("HAIQU_API_URL", "local")) as client:
        for name, (device, mitigate) in runs.items():
            options = {"use_mitigation": mitigate, "device_options": {"seed_simulator": SEED}}
            sampler = HaiquSampler(device, client=client, options=options)
            with warnings.catch_warnings():
                # Expected with mitigation: we read the quasi-probabilities themselves.
                warnings.filterwarnings("ignore", message="The service returned quasi")
                sampled = sampler.run([ghz(NUM_QUBITS, measure=True)], shots=shots).result()[0]
            quasi = sampled.metadata.get("quasi_dists")
            if quasi:
                dist = quasi[0]
            else:
                counts = sampled.data.meas.get_counts()
                dist = {key: count / shots for key, count in counts.items()}
            estimator = HaiquEstimator(device, client=client, options=options)
            pub = (ghz(NUM_QUBITS, measure=False), observable)
            estimated = estimator.run([pub], precision=precision).result()[0]
            figures[name] = (
                total_variation(dist, ideal),
                float(estimated.data.evs),
                float(estimated.data.stds),
            )
    label = "Z" * NUM_QUBITS
    print(f"GHZ-{NUM_QUBITS} on {DEVICE}: {shots} shots (sampler), precision {precision}")
    print(f"{'run':<28}{'TVD to ideal':>14}{f'<{label}>':>12}{'std':>9}")
    print(f"{'exact':<28}{0.0:>14.4f}{1.0:>12.4f}{0.0:>9.4f}")
    for name, (distance, value, std) in figures.items():
        title = name if name == "aer_simulator" else f"{DEVICE} {name}"
        print(f"{title:<28}{distance:>14.4f}{value:>12.4f}{std:>9.4f}")
    ref, raw, fixed = figures["aer_simulator"], figures["unmitigated"], figures["mitigated"]
    print(
        f"sampler distance: reference {ref[0]:.4f} unmitigated {raw[0]:.4f} "
        f"mitigated {fixed[0]:.4f}"
    )
    print(
        f"estimator {label}: exact 1.0 reference {ref[1]:.4f} "
        f"unmitigated {raw[1]:.4f} +- {raw[2]:.4f} mitigated {fixed[1]:.4f} +- {fixed[2]:.4f}"
    )
    return figures


if __name__ == "__main__":
    main()
