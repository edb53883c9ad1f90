"""Spectral helpers against independent answers: matrix powers, explicit loops, constructed kernels."""

import numpy as np
import pytest

from ntklab.core import spectra as sp

pytestmark = pytest.mark.usefixtures("x64")  # float64 eigendecompositions


def _random_psd(n, seed=0, rank=None):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, rank or n))
    return a @ a.T


def test_eigen_sorted_largest_first_and_reconstructs():
    k = _random_psd(9)
    eig = sp.eigen(k)
    assert np.all(np.diff(eig.values) <= 0)
    np.testing.assert_allclose(eig.vectors @ np.diag(eig.values) @ eig.vectors.T, k, atol=1e-10)
    np.testing.assert_allclose(eig.values, np.sort(np.linalg.eigvalsh(k))[::-1], rtol=1e-12)
    assert eig.condition == pytest.approx(eig.values[0] / eig.values[-1])
    assert sp.eigen(_random_psd(6, rank=2)).condition > 1e10  # rank 2: λ_min is rounding (or ≤ 0: inf)


def test_linear_mode_factors_match_a_matrix_power():
    """Vᵀ (I − ηK/n)^t r = (1 − ηλ/n)^t ⊙ Vᵀ r: the closed form of gradient descent on a linear model."""
    n, lr, t = 7, 0.3, 13
    k = _random_psd(n, seed=1)
    r = np.random.default_rng(2).normal(size=n)
    eig = sp.eigen(k)
    stepped = np.linalg.matrix_power(np.eye(n) - lr * k / n, t) @ r
    np.testing.assert_allclose(sp.mode_residuals(eig, stepped),
                               sp.linear_mode_factors(eig.values, lr, n, t) * sp.mode_residuals(eig, r),
                               rtol=1e-9, atol=1e-12)
    table = sp.linear_mode_factors(eig.values, lr, n, np.arange(4))
    assert table.shape == (4, n) and np.all(table[0] == 1)


def test_loss_rate_is_the_gradient_flow_derivative():
    """d/dt of C = ‖r‖²/(2n) under dr/dt = −Kr/n, by a central finite difference of the exact flow."""
    n = 6
    k = _random_psd(n, seed=3)
    r0 = np.random.default_rng(4).normal(size=n)
    evals, evecs = np.linalg.eigh(k)

    def cost(t):
        r = evecs @ (np.exp(-evals * t / n) * (evecs.T @ r0))
        return r @ r / (2 * n)

    h = 1e-5
    assert -(cost(h) - cost(-h)) / (2 * h) == pytest.approx(sp.loss_rate(k, r0), rel=1e-7)


def test_target_energy_and_alignment():
    k = _random_psd(8, seed=5)
    eig = sp.eigen(k)
    energy = sp.target_energy(eig, eig.vectors[:, 2])  # the target is the third eigenvector
    np.testing.assert_allclose(energy, [0, 0] + [1] * 6, atol=1e-12)
    y = np.random.default_rng(6).normal(size=8)
    assert sp.target_energy(eig, y)[-1] == pytest.approx(1.0)
    assert sp.kernel_target_alignment(np.outer(y, y), y) == pytest.approx(1.0)
    assert sp.kernel_target_alignment(np.eye(8), y) == pytest.approx(1 / np.sqrt(8))  # ‖y‖²/(√8‖y‖²)


def test_kernel_velocity():
    k = _random_psd(5, seed=7)
    assert sp.kernel_velocity(k, 3.0 * k) == pytest.approx(0.0, abs=1e-15)
    # K_a = E11 and K_b = cos t·E11 + sin t·(E12 + E21)/√2 are unit vectors at angle t in the Frobenius
    # inner product (E12 + E21 has norm √2 and is orthogonal to E11): the velocity is 1 − cos t.
    for t in (0.3, 1.2, np.pi / 2, 2.5):
        k_b = np.array([[np.cos(t), np.sin(t) / np.sqrt(2)], [np.sin(t) / np.sqrt(2), 0.0]])
        assert sp.kernel_velocity(np.diag([1.0, 0.0]), 7.0 * k_b) == pytest.approx(1 - np.cos(t), abs=1e-15)


def test_nystrom_eigenfunctions_interpolate_and_orient():
    rng = np.random.default_rng(9)
    x = np.sort(rng.uniform(-1, 1, 10))
    grid = np.linspace(-1, 1, 41)

    def rbf(a, b):
        return np.exp(-((a[:, None] - b[None, :]) ** 2) / 0.3)

    eig = sp.eigen(rbf(x, x))
    y = np.sin(3 * x)
    phi = sp.nystrom_eigenfunctions(eig, rbf(x, x), 3, y)  # at the training points
    np.testing.assert_allclose(np.abs(phi), np.abs(np.sqrt(10) * eig.vectors[:, :3].T), atol=1e-8)
    np.testing.assert_allclose(np.mean(phi**2, axis=1), 1.0, rtol=1e-8)
    assert np.all(phi @ y > 0)  # oriented towards the target
    assert sp.nystrom_eigenfunctions(eig, rbf(grid, x), 3, y).shape == (3, 41)


def test_block_average_matches_explicit_blocks():
    n, size = 10, 4
    k = _random_psd(n, seed=10)
    order = np.random.default_rng(11).permutation(n)
    image = sp.block_average(k, order, size)
    edges = np.linspace(0, n, size + 1).round().astype(int)
    sorted_k = k[order][:, order]
    for i in range(size):
        for j in range(size):
            block = sorted_k[edges[i]:edges[i + 1], edges[j]:edges[j + 1]]
            assert image[i, j] == pytest.approx(block.mean())
    np.testing.assert_array_equal(sp.block_average(k, order, 32), sorted_k)  # small: no averaging


def test_definiteness_beyond_rounding():
    """tol = n·ε·λ_max. Issue 9's float32 tanh NTK (16 points, λ = −2.98 … 872, tol = 1.7e-3) was shown as
    rounding; it is indefinite. Either order of the spectrum."""
    eps32 = float(np.finfo(np.float32).eps)
    issue = np.concatenate([[-2.98, -1.10, -0.57, -0.09], np.linspace(0.1, 872.0, 12)])
    assert sp.definiteness(issue, eps32) == "indefinite"
    assert sp.definiteness(issue[::-1], eps32) == "indefinite"
    tol = 16 * eps32 * 872.0

    def with_min(lam):  # 16 eigenvalues again, the smallest one lam
        return np.concatenate([[lam, 0.2, 0.3, 0.4], issue[4:]])

    assert sp.definiteness(with_min(-0.99 * tol), eps32) == "unresolved"
    assert sp.definiteness(with_min(0.0), eps32) == "unresolved"
    assert sp.definiteness(with_min(1.01 * tol), eps32) == "positive"
    assert sp.definiteness(with_min(-1.01 * tol), eps32) == "indefinite"
    assert sp.definiteness(with_min(0.99 * tol), eps32) == "unresolved"
    # the same spectrum is resolved in float64
    assert sp.definiteness(with_min(1e-9), float(np.finfo(np.float64).eps)) == "positive"
    assert sp.definiteness(sp.eigen(_random_psd(6, rank=2)).values, float(np.finfo(np.float64).eps)) == "unresolved"
    with pytest.raises(ValueError, match="eigvals"):
        sp.definiteness(np.array([]), eps32)
