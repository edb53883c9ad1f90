"""The spectral learning curve of kernel regression (Bordelon, Canatar & Pehlevan 2020) against Monte
Carlo kernel regression, and its exact limits."""

import numpy as np
import pytest

from ntklab.core.learning_curve import learning_curve, sample_spectrum, solve_kappa


def _problem(seed=0, m=1200, d=8):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((m, d)) / np.sqrt(d)
    k = np.exp(-np.sqrt(np.sum((x[:, None] - x[None]) ** 2, -1)))  # a Laplace kernel on Gaussian inputs
    f = 3 * x[:, 0] + np.sin(3 * x[:, 1])
    return rng, k, f


@pytest.mark.parametrize("noise", [0.0, 0.3])
def test_learning_curve_matches_monte_carlo_kernel_regression(noise):
    """p(x) uniform over M points (so the spectrum of K/M is exact); the average test error of kernel
    interpolation over 120 random training sets of P points each, against the theory: within 3 standard
    errors plus 12% (the theory is exact as the number of modes grows; d = 8 is in that regime)."""
    rng, k, f = _problem()
    m = len(f)
    eigvals, power = sample_spectrum(k, f)
    ps = [8, 32, 128]
    theory = learning_curve(eigvals, power, ps, noise_var=noise**2)
    for p, expected in zip(ps, theory):
        errs = []
        for _ in range(120):
            idx = rng.choice(m, p, replace=False)
            y = f[idx] + noise * rng.standard_normal(p)
            pred = k[:, idx] @ np.linalg.solve(k[np.ix_(idx, idx)], y)
            errs.append(np.mean((pred - f) ** 2))
        errs = np.array(errs)
        assert abs(errs.mean() - expected) <= 3 * errs.std(ddof=1) / np.sqrt(len(errs)) + 0.12 * expected, \
            (p, errs.mean(), expected)


def test_limits_and_the_kappa_equation():
    _, k, f = _problem(m=300)
    eigvals, power = sample_spectrum(k, f)
    assert np.all(np.diff(eigvals) <= 0) and np.all(eigvals >= 0)
    assert power.sum() == pytest.approx(np.mean(f**2), rel=1e-10)  # Parseval: ‖f‖² over p(x)
    # no data: the predictor is 0 and the error is the target's power
    assert learning_curve(eigvals, power, [1e-9])[0] == pytest.approx(np.mean(f**2), rel=1e-6)
    kappa = solve_kappa(eigvals, [5, 50])
    for p, kap in zip([5, 50], kappa):
        pos = eigvals[eigvals > 0]
        assert kap == pytest.approx(kap * np.sum(pos / (p * pos + kap)), rel=1e-10)
    # a ridge raises κ; pure noise at large ridge: the predictor shrinks to 0, the error to 0
    assert solve_kappa(eigvals, [50], ridge=1.0)[0] > kappa[1]
    assert learning_curve(eigvals, np.zeros_like(power), [50], noise_var=1.0, ridge=1e6)[0] < 1e-6
    # a kernel of rank 3 interpolates exactly from 3 points: no κ, no curve
    assert np.isnan(solve_kappa(np.array([3.0, 2.0, 1.0, 0.0]), [3])[0])


def test_random_function_power_is_its_covariance_on_the_modes():
    """The power a random f ~ N(0, C) puts in mode k is E[(u_kᵀ f)²]/M = u_kᵀ C u_k/M: Monte Carlo."""
    rng, k, _ = _problem(m=200)
    c = k  # a random function with the kernel's own covariance: its power per mode is η_k
    eigvals, power = sample_spectrum(k, None, c)
    np.testing.assert_allclose(power, eigvals, rtol=1e-8, atol=1e-12)
    draws = np.linalg.cholesky(c + 1e-9 * np.eye(len(c))) @ rng.standard_normal((len(c), 4000))
    _, vectors = np.linalg.eigh(k / len(c))
    mc = np.mean((vectors[:, ::-1].T @ draws) ** 2, axis=1) / len(c)
    np.testing.assert_allclose(mc[:5], power[:5], rtol=0.1)
