"""The tanh kernel (a Gauss rule over erf kernels) against answers that share nothing with it:
adaptive quadrature of the defining 2-D Gaussian integral, Monte Carlo, the moments of the
Kolmogorov distribution, and the analytic NTK against wide networks."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import integrate

from ntklab.core import MLPSpec, analytic_kernels, empirical_ntk, init_params, make_dataset
from ntklab.core.activations import ACTIVATIONS, TANH_MIXTURE_ORDER, kolmogorov_rule

TANH = ACTIVATIONS["tanh"].kernel
_GL_X, _GL_W = np.polynomial.legendre.leggauss(12)
_MARKS = (0.0, -1.0, 1.0, -3.0, 3.0, -10.0, 10.0, -30.0, 30.0, -100.0, 100.0)


def _composite(fn, lo, hi, scale):
    """∫ fn over [lo, hi]: 12-point Gauss–Legendre on panels at most ``scale`` wide, split at tanh's
    features (0, ±1, ±3, ±10, …) so that the kink of width 1 is resolved whatever the Gaussian's width."""
    cuts = np.unique(np.concatenate([[lo, hi], [p for p in _MARKS if lo < p < hi]]))
    edges = np.concatenate([np.linspace(a, b, math.ceil((b - a) / scale) + 1)[:-1]
                            for a, b in zip(cuts[:-1], cuts[1:])] + [[hi]])
    mid, half = (edges[1:] + edges[:-1]) / 2, (edges[1:] - edges[:-1]) / 2
    return np.sum((half[:, None] * _GL_W).ravel() * fn((mid[:, None] + half[:, None] * _GL_X).ravel()))


def reference(q11, q22, q12, derivative=False):
    """E[φ(u)φ(v)], (u, v) ~ N(0, [[q11, q12], [q12, q22]]), φ = tanh or sech², in float64: v given u is
    N(q12/q11·u, q22(1 − ρ²)); the inner mean by composite Gauss–Legendre in v, the outer by scipy's
    adaptive quad in u with breakpoints at the features of tanh."""
    f = (lambda x: 1 / np.cosh(np.minimum(np.abs(x), 300.0)) ** 2) if derivative else np.tanh
    q11, q22 = max(q11, q22), min(q11, q22)  # the expectation is symmetric; u takes the larger variance
    if q11 == 0:
        return float(f(0.0)) ** 2
    rho = float(np.clip(q12 / math.sqrt(q11 * q22), -1, 1)) if q22 > 0 else 0.0
    slope, sd = q12 / q11, math.sqrt(q22 * (1 - rho) * (1 + rho))
    s1 = math.sqrt(q11)
    lim = 12 * s1

    def integrand(u):
        return float(f(u)) * math.exp(-0.5 * (u / s1) ** 2) / (s1 * math.sqrt(2 * math.pi)) * _mean_1d(f, slope * u, sd)

    return integrate.quad(integrand, -lim, lim, points=[p for p in _MARKS if -lim < p < lim], limit=500,
                          epsabs=1e-13, epsrel=1e-13)[0]


def _mean_1d(f, a, sd):
    """E[f(a + sd·Z)], Z ~ N(0, 1)."""
    if sd < 1e-9:
        return float(f(a))
    return float(_composite(lambda w: f(w) * np.exp(-0.5 * ((w - a) / sd) ** 2) / (sd * math.sqrt(2 * math.pi)),
                            a - 12 * sd, a + 12 * sd, min(sd, 1.0) / 2))


def _case(q11, ratio, rho):
    q22 = ratio * q11
    return q11, q22, rho * math.sqrt(q11 * q22)


# Variances from 0 to far beyond what the app reaches (~65 at W std 4), correlations on [−1, 1] with ±1.
FAST_CASES = [_case(*c) for c in [(0.0, 1.0, 0.0), (1e-6, 0.5, 0.7), (0.5, 1.0, 1.0), (1.7, 0.35, -0.5),
                                  (10.0, 1.0, 0.99), (65.0, 0.2, -0.9), (65.0, 1.0, 1.0), (300.0, 0.6, 0.9999),
                                  (1000.0, 1.0, -1.0), (1000.0, 0.3, 0.5), (1e4, 0.7, 0.999999)]]
SLOW_CASES = [_case(q, ratio, rho) for q in (1e-4, 1e-2, 0.3, 3.0, 30.0, 100.0, 1000.0, 3000.0)
              for ratio in (1.0, 0.25) for rho in (-1.0, -0.999, -0.6, 0.0, 0.4, 0.95, 0.99999, 1.0)]


def _check_against_reference(cases):
    q11, q22, q12 = (jnp.asarray(np.array(c, np.float64)) for c in zip(*cases))
    e_ff, e_dd = (np.asarray(a) for a in TANH(q11, q22, q12))
    for i, case in enumerate(cases):
        # measured 1e-13 (order 24); the documented claim in activations.py is ~1e-13
        assert abs(e_ff[i] - reference(*case)) < 1e-11, ("E[tanh tanh]", case)
        assert abs(e_dd[i] - reference(*case, derivative=True)) < 1e-11, ("E[sech² sech²]", case)


def test_tanh_kernel_matches_adaptive_quadrature(x64):
    _check_against_reference(FAST_CASES)


@pytest.mark.slow
def test_tanh_kernel_matches_adaptive_quadrature_on_a_grid(x64):
    _check_against_reference(SLOW_CASES)


def test_tanh_kernel_float32_within_rounding_of_float64():
    """In float32 at the same (float32) inputs: the sum of 24² terms of size ≤ 1 rounds by a few ε, and
    ρ = q12/√(q11·q22) is rounded by ~2ε, which near ρ = ±1 at large variances is the larger error: the
    tolerance adds how much the float64 answer moves when q12 moves by 4ε relative (the conditioning)."""
    cases = FAST_CASES + SLOW_CASES[::3]
    args32 = [np.array(c, np.float32) for c in zip(*cases)]
    got = [np.asarray(a) for a in TANH(*(jnp.asarray(a) for a in args32))]
    assert got[0].dtype == np.float32
    eps = float(np.finfo(np.float32).eps)
    with jax.enable_x64(True):
        q11, q22, q12 = (jnp.asarray(a.astype(np.float64)) for a in args32)
        exact = [np.asarray(a) for a in TANH(q11, q22, q12)]
        moved = [[np.asarray(a) for a in TANH(q11, q22, q12 * (1 + sign * 4 * eps))] for sign in (-1, 1)]
    for i, name in enumerate(("E[tanh tanh]", "E[sech² sech²]")):
        condition = np.maximum(np.abs(moved[0][i] - exact[i]), np.abs(moved[1][i] - exact[i]))
        error = np.abs(got[i].astype(np.float64) - exact[i])
        assert np.all(error <= 16 * eps + condition), (name, error.max())


@pytest.mark.parametrize("q11,q22,rho", [(3.0, 0.6, -0.5), (65.0, 40.0, 0.95), (1000.0, 1000.0, 0.5),
                                         (1000.0, 10.0, -0.999)])
def test_tanh_kernel_matches_monte_carlo(x64, q11, q22, rho):
    q12 = rho * math.sqrt(q11 * q22)
    e_ff, e_dd = (float(a) for a in TANH(q11, q22, q12))
    rng = np.random.default_rng(2)
    z = rng.standard_normal((2, 1_000_000))
    u = math.sqrt(q11) * z[0]
    v = math.sqrt(q22) * (rho * z[0] + math.sqrt(1 - rho * rho) * z[1])
    fu, fv = np.tanh(u), np.tanh(v)
    for est, samples in ((e_ff, fu * fv), (e_dd, (1 - fu**2) * (1 - fv**2))):
        assert abs(est - samples.mean()) < 5 * samples.std() / math.sqrt(samples.size), (est, samples.mean())


def test_kolmogorov_rule_has_the_distributions_moments():
    """E[K] = √(π/2)·ln 2 and E[K²] = π²/12 (Kolmogorov 1933; Marsaglia et al. 2003), and
    E[√(2/π)/K] = sech²(0) = 1 (the mixture's derivative at 0): the rule is exact for these."""
    nodes, weights = kolmogorov_rule(TANH_MIXTURE_ORDER)
    assert nodes.shape == weights.shape == (TANH_MIXTURE_ORDER,)
    assert np.all(nodes > 0) and np.all(weights > 0)
    assert weights.sum() == pytest.approx(1.0, abs=1e-14)
    assert weights @ nodes == pytest.approx(math.sqrt(math.pi / 2) * math.log(2), rel=1e-13)
    assert weights @ nodes**2 == pytest.approx(math.pi**2 / 12, rel=1e-13)
    assert weights @ (math.sqrt(2 / math.pi) / nodes) == pytest.approx(1.0, rel=1e-11)


def test_tanh_is_the_scale_mixture_of_erf():
    """tanh(x) = E_K[erf(x/(K√2))] (Andrews & Mallows 1974): the rule reproduces tanh and sech²."""
    from scipy.special import erf

    nodes, weights = kolmogorov_rule(TANH_MIXTURE_ORDER)
    x = np.array([0.0, 0.05, 0.4, 1.0, 2.5, 6.0, -3.0])
    b = 1 / (nodes * math.sqrt(2))
    np.testing.assert_allclose(erf(np.outer(x, b)) @ weights, np.tanh(x), rtol=0, atol=1e-9)
    sech2 = (2 / math.sqrt(math.pi)) * b * np.exp(-np.outer(x, b) ** 2)
    np.testing.assert_allclose(sech2 @ weights, 1 / np.cosh(x) ** 2, rtol=0, atol=1e-9)


def _issue_case():
    """Issue 9's case: tanh, W std 4, otherwise the default experiment (depth 2, b std 1, ntk, 16 points)."""
    data = make_dataset("sin", 16, 200, 0.0, 0, -2.0, 2.0)
    return MLPSpec(depth=2, width=512, activation="tanh", w_std=4.0, b_std=1.0), data.x_train


def test_issue_case_ntk_is_positive_semidefinite_to_rounding(x64):
    """The quadrature of order 96 gave λ_min = −2.98 against λ_max = 872 here (pre-activation variance ~65)."""
    spec, x = _issue_case()
    k = analytic_kernels(spec, x.astype(np.float64))
    for m in (k.ntk, k.nngp):
        evals = np.linalg.eigvalsh(m)
        assert evals[0] >= -len(x) * np.finfo(np.float64).eps * evals[-1], evals[:3]


def test_issue_case_ntk_is_positive_semidefinite_to_rounding_in_float32():
    spec, x = _issue_case()
    k = analytic_kernels(spec, x)
    assert k.ntk.dtype == np.float32
    evals = np.linalg.eigvalsh(k.ntk.astype(np.float64))
    assert evals[0] >= -len(x) * np.finfo(np.float32).eps * evals[-1], evals[:3]


@pytest.mark.slow
@pytest.mark.parametrize("parameterization", ["ntk", "standard"])
def test_tanh_ntk_at_large_variance_matches_wide_networks(x64, parameterization):
    """W std 4 (pre-activation variances up to ~65): the mean empirical NTK of width-2048 networks."""
    width, seeds = 2048, 12
    spec = MLPSpec(depth=2, width=width, activation="tanh", w_std=4.0, b_std=1.0, parameterization=parameterization)
    x = np.linspace(-2, 2, 5).reshape(-1, 1)
    analytic = analytic_kernels(spec, x).ntk
    samples = np.stack([np.asarray(empirical_ntk(spec, init_params(spec, 1, key=jax.random.key(s)), jnp.asarray(x)))
                        for s in range(seeds)])
    mean, se = samples.mean(0), samples.std(0, ddof=1) / math.sqrt(seeds)
    assert np.all(np.abs(mean - analytic) <= 5 * se + 4 * np.abs(analytic).max() / width), (mean, analytic, se)
