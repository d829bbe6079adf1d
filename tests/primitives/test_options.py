"""Options are closed and validated when set."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from qiskit_haiqu import EstimatorOptions, HaiquInputError, SamplerOptions
from qiskit_haiqu.primitives.options import coerce_options


def test_unknown_key_names_the_key_and_the_valid_ones():
    with pytest.raises(HaiquInputError) as info:
        coerce_options(SamplerOptions, {"default_shot": 10})
    message = str(info.value)
    assert "'default_shot'" in message
    assert "default_shots" in message


def test_invalid_values_refused_at_construction_and_assignment():
    with pytest.raises(HaiquInputError, match="default_shots"):
        coerce_options(SamplerOptions, {"default_shots": 0})
    options = SamplerOptions()
    with pytest.raises(ValidationError):
        options.default_shots = -1
    with pytest.raises(ValidationError):
        options.default_shots = 1.5  # type: ignore[assignment]
    with pytest.raises(HaiquInputError):
        coerce_options(EstimatorOptions, {"default_precision": 0})


def test_defaults():
    assert SamplerOptions().default_shots == 1024
    estimator = EstimatorOptions()
    assert estimator.default_precision == 0.015625
    assert estimator.default_shots is None


def test_error_mitigation_sends_only_what_was_set():
    options = coerce_options(
        SamplerOptions,
        {"use_mitigation": True, "error_mitigation_options": {"readout_mitigation": False}},
    )
    assert options.error_mitigation_options.to_wire() == {"readout_mitigation": False}
    with pytest.raises(HaiquInputError):
        coerce_options(SamplerOptions, {"error_mitigation_options": {"twirl": True}})
