"""The ReLU family's angle and correlation: against numpy.arctan2 and arccos in float64, on the whole
range with ±0, orthogonal and antipodal inputs, and continuity of the kernel as b_std → 0."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ntklab.core import MLPSpec, analytic_kernels
from ntklab.core.activations import ACTIVATIONS, _angle

_MAGNITUDES = [0.0, 1e-30, 1e-8, 0.3, 1.0 - 1e-7, 1.0, 1.0 + 1e-7, 3.0, 1e8, 1e30]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_angle_is_arctan2_on_the_whole_range(dtype):
    """Every sign and octant, c = ±0 included (c = +0, s > 0 gave 3π/2); arctan2(0, ±0) is π/2 (nt)."""
    s = np.array(_MAGNITUDES, dtype)
    c = np.concatenate([s, -s])  # -0.0 included
    s_grid, c_grid = np.meshgrid(s, c)
    r_grid = np.hypot(s_grid, c_grid)  # _angle takes r = √(s² + c²), which the kernels have at hand
    with jax.enable_x64(dtype == np.float64):
        got = np.asarray(_angle(jnp.asarray(s_grid), jnp.asarray(c_grid), jnp.asarray(r_grid)))
    assert got.dtype == dtype
    ref = np.arctan2(s_grid.astype(np.float64), c_grid.astype(np.float64))
    ref[(s_grid == 0) & (c_grid == 0)] = math.pi / 2
    eps = np.finfo(dtype).eps
    # a few ε relative (one arctan, one ratio, π/2 or π added); ratios below the smallest normal flush to 0
    np.testing.assert_allclose(got, ref, rtol=4 * eps, atol=float(np.finfo(dtype).tiny) * 4)
    assert np.all((got >= 0) & (got <= np.float64(math.pi) * (1 + eps)))


@pytest.mark.parametrize("activation,params", [("relu", {}), ("leaky_relu", {"alpha": 0.2}),
                                               ("abrelu", {"a": -0.5, "b": 1.5})])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_family_on_the_whole_correlation_range(activation, params, dtype):
    """Against the arc-cosine closed form evaluated with numpy's arccos in float64 (Cho & Saul 2009):
    E[φφ] = √(q11q22)·(f·sin θ + σ̇·cos θ), σ̇ = (a² + b²)/2 − f·θ, f = (a − b)²/(2π), θ = arccos ρ.
    Orthogonal (ρ = ±0) and antipodal (ρ = −1) pairs included. In float32 the error is a few ε of
    the scale √(q11q22) plus the conditioning of θ in ρ: |dθ/dρ| = 1/sin θ, for ρ rounded by 2ε."""
    a, b = {"relu": (0.0, 1.0), "leaky_relu": (params.get("alpha", 0.0), 1.0)}.get(activation, (-0.5, 1.5))
    rho = np.array([-1.0, -0.9999, -0.7, -0.0, 0.0, 1e-7, 0.3, 0.9, 0.99999, 1.0])
    q11, q22 = np.full_like(rho, 2.5), np.full_like(rho, 0.4)
    q12 = rho * np.sqrt(q11 * q22)
    with jax.enable_x64(dtype == np.float64):
        nngp, dot = (np.asarray(v, np.float64) for v in ACTIVATIONS[activation].kernel(
            *(jnp.asarray(v, dtype) for v in (q11, q22, q12)), **params))
    theta = np.arccos(np.clip(rho, -1, 1))
    f = (a - b) ** 2 / (2 * math.pi)
    ref_dot = (a * a + b * b) / 2 - f * theta
    ref_nngp = 1.0 * (f * np.sin(theta) + ref_dot * np.cos(theta))  # √(q11 q22) = 1
    eps = float(np.finfo(dtype).eps)
    sin = np.maximum(np.sin(theta), math.sqrt(4 * eps))  # where θ's conditioning saturates (ρ = ±1 clipped)
    tol = 8 * eps + f * 2 * eps / sin
    assert np.all(np.abs(dot - ref_dot) <= tol), np.abs(dot - ref_dot) / tol
    assert np.all(np.abs(nngp - ref_nngp) <= tol), np.abs(nngp - ref_nngp) / tol


def test_orthogonal_inputs_exact():
    """ρ = +0 and −0: θ = π/2, E[relu(u)relu(v)] = √(q11q22)/(2π), E[relu'relu'] = 1/4."""
    for c in (0.0, -0.0):
        nngp, dot = ACTIVATIONS["relu"].kernel(jnp.float32(4.0), jnp.float32(9.0), jnp.float32(c))
        assert float(dot) == pytest.approx(0.25, rel=1e-7)
        assert float(nngp) == pytest.approx(6 / (2 * math.pi), rel=1e-6)


@pytest.mark.parametrize("parameterization", ["standard", "ntk"])
def test_kernel_continuous_as_bias_vanishes(x64, parameterization):
    """Issue 16's example: depth 2, W std √2, one-hot inputs. NTK₀₁ was 176.84 at b_std = 0 and 177.45 at
    b_std = 1e-9 (standard). The kernel is smooth in b_std², so 1e-9 changes it by ~1e-18 relative."""
    x = np.eye(2)
    k = [analytic_kernels(MLPSpec(depth=2, w_std=math.sqrt(2), b_std=b, parameterization=parameterization), x)
         for b in (0.0, 1e-9)]
    np.testing.assert_allclose(k[0].ntk, k[1].ntk, rtol=1e-12)
    np.testing.assert_allclose(k[0].nngp, k[1].nngp, rtol=1e-12)


def test_orthogonal_one_hot_ntk_closed_form(x64):
    """Depth 1, 'standard', W std 1, b std 0, width N = 512, one-hot x, x' in d = 2, by hand from the
    conventions (shared/reference/README.md): the first Dense gives q11 = 1/2, q12 = 0,
    Θ11 = d·q11_in + 1 = 2, Θ12 = d·0 + 1 = 1; the ReLU: q11 = 1/4, q12 = √(q11q22)/(2π) = 1/(4π),
    σ̇11 = 1/2, σ̇12 = 1/4 (θ = π/2); the readout: Θ ← N·q12 + Θ·σ̇ + 1, NNGP = q12."""
    k = analytic_kernels(MLPSpec(depth=1, width=512, w_std=1.0, b_std=0.0, parameterization="standard"), np.eye(2))
    assert k.nngp[0, 1] == pytest.approx(1 / (4 * math.pi), rel=1e-14)
    assert k.ntk[0, 1] == pytest.approx(512 / (4 * math.pi) + 1 * 0.25 + 1, rel=1e-14)
    assert k.ntk[0, 0] == pytest.approx(512 / 4 + 2 * 0.5 + 1, rel=1e-14)


@pytest.mark.parametrize("x", [np.linspace(-2, 2, 12).reshape(-1, 1),
                               np.outer([1.0, 2.0, -0.5, 3.0, -1.7], [0.3, -1.1, 0.8])],
                         ids=["1-D", "collinear-in-3-D"])
def test_collinear_inputs_exact_in_float32(x):
    """Without bias all these pairs have ρ = ±1 exactly; float32 rounding of q11, q22, q12 must not turn
    that into θ ≈ √(2ε) (a relative error √ε ≈ 3e-4 per layer: 1.4e-3 at depth 32 before). Depth 8:
    within a few ε per layer of max|K| of the float64 kernel."""
    spec = MLPSpec(depth=8, activation="leaky_relu", activation_params={"alpha": 0.1}, b_std=0.0)
    k32 = analytic_kernels(spec, x.astype(np.float32))
    with jax.enable_x64(True):
        k64 = analytic_kernels(spec, x.astype(np.float32).astype(np.float64))
    eps = float(np.finfo(np.float32).eps)
    for name in ("nngp", "ntk"):
        ref = getattr(k64, name)
        np.testing.assert_allclose(getattr(k32, name), ref, rtol=0, atol=8 * 9 * eps * np.abs(ref).max())
