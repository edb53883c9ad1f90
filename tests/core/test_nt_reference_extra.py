"""Orthogonal and antipodal inputs against neural-tangents 0.6.5 (tests/data/make_nt_reference_extra.py).

One-hot inputs and x, −x pairs put the ReLU family's angle exactly at π/2 and π (issue 16: c = +0 gave
3π/2). Run eagerly (``jax.disable_jit``): 336 small cases, one compilation each would take minutes.
"""

import json
import os

import jax
import numpy as np
import pytest

from ntklab.core import MLPSpec, analytic_kernels

with open(os.path.join(os.path.dirname(os.path.dirname(__file__)), "data", "nt_reference_extra.json")) as f:
    EXTRA = json.load(f)


def _spec(arch) -> MLPSpec:
    return MLPSpec(depth=arch["depth"], width=arch["hidden_width"], activation=arch["activation"],
                   activation_params=arch["activation_params"], w_std=arch["W_std"], b_std=arch["b_std"],
                   parameterization=arch["parameterization"])


def test_extra_cases_cover_what_they_claim():
    cases = EXTRA["kernel_cases"]
    assert len(cases) == 336
    assert {c["arch"]["activation"] for c in cases} == {"relu", "leaky_relu", "abrelu", "erf", "gelu", "sin",
                                                        "identity"}
    assert {c["arch"]["b_std"] for c in cases} == {0.0, 0.3}
    assert {c["arch"]["depth"] for c in cases} == {1, 2, 3}
    x = np.array(next(c for c in cases if c["input_set"] == "onehot_d2")["x1"])
    assert x @ x[0] == pytest.approx([1, 0, -1, 0])  # orthogonal and antipodal pairs


@pytest.mark.parametrize("case", EXTRA["kernel_cases"], ids=lambda c: f"{c['id']}-{c['input_set']}-{c['arch']['activation']}")
def test_extra_reference_case(x64, case):
    """rtol 1e-7, and atol 1e-7·max|K| for entries that are pure rounding (shared/reference/README.md)."""
    with jax.disable_jit():
        k = analytic_kernels(_spec(case["arch"]), np.array(case["x1"]), np.array(case["x2"]))
    for name in ("nngp", "ntk"):
        ref = np.array(case[name], dtype=float)
        np.testing.assert_allclose(getattr(k, name), ref, rtol=1e-7, atol=1e-7 * np.abs(ref).max(),
                                   err_msg=f"{case['id']} {name}")
