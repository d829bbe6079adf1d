"""The program of a ``POST /flow`` request: its layers, as the official SDK 1.7.0 models them.

A program is ``{"schema_version": 1, "layers": [...]}``; each layer is an object whose
``type`` names it. The models keep the SDK's defaults (they differ between the two grouped
mitigation layers), so a reader of a program that leaves a switch out reads what the SDK
would. :func:`program_problems` states the SDK's rules of a well-formed program.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AUXILIARY_LAYER_TYPES",
    "MITIGATION_SWITCHES",
    "TRANSPILATION_FIELDS",
    "AuxiliaryLayer",
    "DeviceLayer",
    "DistributionMitigationLayer",
    "EstimatorLayer",
    "FlowProgram",
    "InputLayer",
    "Layer",
    "PackingLayer",
    "ReadoutBasisLayer",
    "StatevectorLayer",
    "TranspilationLayer",
    "program_problems",
]

MITIGATION_SWITCHES = (
    "advanced_mitigation",
    "readout_mitigation",
    "noise_tailoring",
    "dynamical_decoupling",
)
"""The boolean switches of a grouped mitigation layer, besides ``mitigation_enabled``."""

TRANSPILATION_FIELDS = (
    "optimization_level",
    "basis_gates",
    "coupling_map",
    "initial_layout",
    "layout_method",
    "routing_method",
    "translation_method",
    "scheduling_method",
    "approximation_degree",
    "seed_transpiler",
    "dt",
    "qubits_initially_zero",
)
"""The fields of a transpilation layer, in the SDK's order (it sends each one, null if unset)."""

AuxiliaryLayerType = Literal[
    "observable_split",
    "noise_tailoring",
    "dynamical_decoupling",
    "advanced_obs_mitigation",
    "advanced_dist_mitigation",
    "advanced_readout_mitigation",
    "qwc_compute",
]
AUXILIARY_LAYER_TYPES: tuple[str, ...] = get_args(AuxiliaryLayerType)
"""Fine-grained steps of hand-built pipelines: layers without fields of their own."""


class _Layer(BaseModel):
    model_config = ConfigDict(extra="ignore")


class InputLayer(_Layer):
    """The program's entry point: the job's circuits."""

    type: Literal["input"] = "input"


class DeviceLayer(_Layer):
    """Runs the circuits on ``device_id``; ``options`` are the backend's settings."""

    type: Literal["device"] = "device"
    device_id: str = Field(max_length=200)
    options: dict[str, Any] = Field(default_factory=dict)
    auto_quality: bool = False


class StatevectorLayer(_Layer):
    """Simulates the circuits exactly and returns their statevectors (no device)."""

    type: Literal["statevector"] = "statevector"


class PackingLayer(_Layer):
    """Runs copies of a circuit on spare qubits; ``pack_size`` ``None`` lets the server pick."""

    type: Literal["packing"] = "packing"
    pack_size: int | None = Field(default=None, ge=2)


class TranspilationLayer(_Layer):
    """Transpiles for the device; unset fields keep the defaults, other keys go to Qiskit."""

    model_config = ConfigDict(extra="allow")

    type: Literal["transpilation"] = "transpilation"
    optimization_level: Literal[0, 1, 2, 3] | None = None
    basis_gates: list[str] | None = None
    coupling_map: list[list[int]] | None = None
    initial_layout: list[int] | None = None
    layout_method: Literal["trivial", "dense", "sabre"] | None = None
    routing_method: Literal["basic", "lookahead", "sabre", "none"] | None = None
    translation_method: Literal["translator", "synthesis"] | None = None
    scheduling_method: Literal["alap", "asap"] | None = None
    approximation_degree: float | None = Field(default=None, ge=0.0, le=1.0)
    seed_transpiler: int | None = None
    dt: float | None = None
    qubits_initially_zero: bool | None = None


class _MitigationLayer(_Layer):
    """The error-mitigation switches both result layers carry (``/run``'s defaults).

    ``type`` and ``mitigation_enabled`` are declared here so that every layer dumps its
    keys in the SDK's order; each subclass sets their values.
    """

    type: str
    mitigation_enabled: bool
    advanced_mitigation: bool = True
    readout_mitigation: bool = True
    noise_tailoring: bool = False
    dynamical_decoupling: bool = True
    readout_mitigation_options: dict[str, Any] = Field(default_factory=dict)


class EstimatorLayer(_MitigationLayer):
    """Expectation values with error mitigation (the SDK's default: mitigation off)."""

    type: Literal["estimator"] = "estimator"
    mitigation_enabled: bool = False


class DistributionMitigationLayer(_MitigationLayer):
    """Mitigated distributions (the SDK's default: mitigation on)."""

    type: Literal["distribution_mitigation"] = "distribution_mitigation"
    mitigation_enabled: bool = True


class ReadoutBasisLayer(_Layer):
    """Where the job's ``readout_bases`` rotations are applied."""

    type: Literal["readout_basis"] = "readout_basis"


class AuxiliaryLayer(_Layer):
    """One of :data:`AUXILIARY_LAYER_TYPES`."""

    type: AuxiliaryLayerType


Layer = Annotated[
    InputLayer
    | DeviceLayer
    | StatevectorLayer
    | PackingLayer
    | TranspilationLayer
    | EstimatorLayer
    | DistributionMitigationLayer
    | ReadoutBasisLayer
    | AuxiliaryLayer,
    Field(discriminator="type"),
]
"""Any layer, told apart by its ``type``."""


class FlowProgram(BaseModel):
    """A hybrid program: ``schema_version`` 1 and its layers, in order."""

    model_config = ConfigDict(extra="ignore")

    schema_version: Literal[1] = 1
    layers: list[Layer]


_TERMINAL = ("device", "statevector")
_GROUPED = ("estimator", "distribution_mitigation")


def program_problems(layers: list[Layer]) -> list[tuple[int | None, str]]:
    """What breaks the SDK's rules of a program, as ``(layer index or None, message)``.

    The rules: ``input`` first and only once; exactly one ``device`` or ``statevector``
    layer, last; at most one of ``estimator`` / ``distribution_mitigation``; at most one
    ``readout_basis``, and never with ``estimator``.
    """
    if not layers:
        return [(None, "layers must not be empty.")]
    problems: list[tuple[int | None, str]] = []
    kinds = [layer.type for layer in layers]
    if kinds[0] != "input":
        problems.append((0, "The first layer must be an input layer."))
    problems += [
        (index, "Only one input layer is allowed, and it comes first.")
        for index, kind in enumerate(kinds[1:], 1)
        if kind == "input"
    ]
    if kinds[-1] not in _TERMINAL:
        problems.append((len(kinds) - 1, "The last layer must be a device or statevector layer."))
    problems += [
        (index, "Only one device or statevector layer is allowed, and it comes last.")
        for index, kind in enumerate(kinds[:-1])
        if kind in _TERMINAL
    ]
    grouped = [index for index, kind in enumerate(kinds) if kind in _GROUPED]
    if len(grouped) > 1:
        problems.append(
            (grouped[1], "At most one estimator or distribution_mitigation layer is allowed.")
        )
    bases = [index for index, kind in enumerate(kinds) if kind == "readout_basis"]
    if len(bases) > 1:
        problems.append((bases[1], "At most one readout_basis layer is allowed."))
    if bases and "estimator" in kinds:
        problems.append(
            (bases[0], "A readout_basis layer cannot be combined with an estimator layer.")
        )
    return problems
