"""A quantum neural network classifier (qiskit-machine-learning EstimatorQNN) on HaiquEstimator.

Twelve 2-feature points, labelled by which side of the line ``x0 + x1 = 0`` they lie on, are
encoded as RY angles on two qubits; a trainable layer (RY, CX, RY) follows, and the network's
output is ``<ZZ>`` in [-1, 1]. Training is plain gradient descent on the mean squared error,
with parameter-shift gradients that also run on Haiqu: every step is one job for the forward
pass (all points as one parameter sweep) and one for the gradients.

Run against the embedded emulator: ``python examples/qnn_training.py`` (``--quick`` for fewer
steps). Set ``HAIQU_API_URL``/``HAIQU_API_KEY`` to run on the Haiqu cloud instead.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from qiskit.circuit import ParameterVector, QuantumCircuit
from qiskit.quantum_info import SparsePauliOp
from qiskit_machine_learning.gradients import ParamShiftEstimatorGradient
from qiskit_machine_learning.neural_networks import EstimatorQNN

from qiskit_haiqu import HaiquClient, HaiquEstimator

LEARNING_RATE = 0.5
INITIAL_WEIGHTS = np.array([0.3, -0.2, 0.1, 0.4])


def toy_dataset(per_class: int = 6, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """Points in [-1, 1]^2 at least 0.4 away (in x0 + x1) from the line, labels +1 / -1."""
    rng = np.random.default_rng(seed)
    points: dict[float, list[np.ndarray]] = {1.0: [], -1.0: []}
    while min(len(group) for group in points.values()) < per_class:
        point = rng.uniform(-1, 1, 2)
        side = point[0] + point[1]
        label = 1.0 if side > 0 else -1.0
        if abs(side) > 0.4 and len(points[label]) < per_class:
            points[label].append(point)
    features = np.array(points[1.0] + points[-1.0])
    labels = np.array([1.0] * per_class + [-1.0] * per_class)
    return features, labels


def qnn_circuit() -> tuple[QuantumCircuit, ParameterVector, ParameterVector]:
    """Angle encoding of two features, then one trainable entangling layer."""
    inputs = ParameterVector("x", 2)
    weights = ParameterVector("w", 4)
    circuit = QuantumCircuit(2, name="qnn")
    circuit.ry(np.pi / 2 * inputs[0], 0)
    circuit.ry(np.pi / 2 * inputs[1], 1)
    circuit.ry(weights[0], 0)
    circuit.ry(weights[1], 1)
    circuit.cx(0, 1)
    circuit.ry(weights[2], 0)
    circuit.ry(weights[3], 1)
    return circuit, inputs, weights


def main() -> tuple[float, float, float]:
    """Train; return (initial loss, final loss, final train accuracy)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    quick = parser.parse_args().quick
    steps = 6 if quick else 25
    features, labels = toy_dataset()
    circuit, inputs, weights = qnn_circuit()
    start = time.perf_counter()
    with HaiquClient(url=os.environ.get("HAIQU_API_URL", "local")) as client:
        options = {"device_options": {"seed_simulator": 11}}  # repeatable shot noise
        estimator = HaiquEstimator("aer_simulator", client=client, options=options)
        qnn = EstimatorQNN(
            circuit=circuit,
            estimator=estimator,
            observables=SparsePauliOp("ZZ"),
            input_params=list(inputs),
            weight_params=list(weights),
            gradient=ParamShiftEstimatorGradient(estimator),
        )

        def loss_and_accuracy(w: np.ndarray) -> tuple[np.ndarray, float, float]:
            outputs = np.asarray(qnn.forward(features, w))[:, 0]
            loss = float(np.mean((outputs - labels) ** 2))
            accuracy = float(np.mean(np.sign(outputs) == labels))
            return outputs, loss, accuracy

        w = INITIAL_WEIGHTS.copy()
        outputs, initial_loss, initial_accuracy = loss_and_accuracy(w)
        print(f"step 0: loss {initial_loss:.4f}, accuracy {initial_accuracy:.2f}")
        for step in range(1, steps + 1):
            _, weight_grads = qnn.backward(features, w)  # (points, outputs, weights)
            grad = np.mean(2 * (outputs - labels)[:, None] * weight_grads[:, 0, :], axis=0)
            w = w - LEARNING_RATE * grad
            outputs, loss, accuracy = loss_and_accuracy(w)
            print(f"step {step}: loss {loss:.4f}, accuracy {accuracy:.2f}")
    elapsed = time.perf_counter() - start
    print(
        f"QNN result: initial loss {initial_loss:.4f} final loss {loss:.4f} "
        f"train accuracy {accuracy:.3f} ({len(labels)} points, {steps} steps, "
        f"{2 * steps + 1} jobs, {elapsed:.1f} s)"
    )
    print(f"trained weights: {np.round(w, 3).tolist()}")
    return initial_loss, loss, accuracy


if __name__ == "__main__":
    main()
