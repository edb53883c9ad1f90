"""Data sources beyond the 1-D presets, random labels, tables, and the NTK's eigenvalues per
frequency (circle) and degree (sphere) checked against the kernel matrix's own eigendecomposition."""

import numpy as np
import pytest

from ntklab.core import MLPSpec, analytic_kernels, make_dataset
from ntklab.core.data import (
    PLANE_PRESETS,
    make_circle_dataset,
    make_expression_dataset,
    make_plane_dataset,
    make_sphere_dataset,
    make_table_dataset,
    project_to_sphere,
    sign_accuracy,
    split_rows,
    with_random_labels,
)
from ntklab.core.expression import parse_expression
from ntklab.core.spherical import (
    circle_eigenvalues,
    circle_points,
    legendre,
    multiplicities,
    sphere_eigenvalues,
)

# --- sources -------------------------------------------------------------------------------------


@pytest.mark.parametrize("target", list(PLANE_PRESETS))
def test_plane_shapes_range_grid_and_targets(target):
    d = make_plane_dataset(target, 30, 40, 0.1, 5, -1.5, 2.5, n_grid=150)
    assert d.x_train.shape == (30, 2) and d.x_test.shape == (40, 2) and d.y_train.shape == (30,)
    assert d.x_train.min() >= -1.5 and d.x_train.max() <= 2.5 and d.view == "plane"
    assert d.grid_shape == (12, 12) and d.x_grid.shape == (144, 2)  # ⌊√150⌋ = 12 per side
    image = d.x_grid.reshape(12, 12, 2)
    assert np.all(np.diff(image[:, :, 0], axis=1) > 0) and np.all(np.diff(image[:, :, 1], axis=0) > 0)
    assert image[0, 0].tolist() == [-1.5, -1.5] and image[-1, -1].tolist() == [2.5, 2.5]
    x1, x2 = d.x_test[:, 0].astype(float), d.x_test[:, 1].astype(float)
    expected = {"bump": np.exp(-x1**2 - x2**2), "ridge": np.exp(-((x1 - x2) ** 2) / 2),
                "radial": np.cos(2 * np.hypot(x1, x2)), "checker": np.sign(x1 * x2)}[target]
    np.testing.assert_allclose(d.y_test, expected, atol=2e-6)
    if target == "checker":  # ±1 labels, noise not added
        assert d.classification and set(np.unique(d.y_train)) == {-1.0, 1.0}
        np.testing.assert_array_equal(d.y_train, np.sign(d.x_train[:, 0] * d.x_train[:, 1]))
    else:
        clean = make_plane_dataset(target, 30, 40, 0.0, 5, -1.5, 2.5).y_train
        assert 0.04 < np.std(d.y_train - clean) < 0.2 and not d.classification


def test_circle_points_angles_and_target():
    d = make_circle_dataset((0, 1, 3), (0.5, 1.0, -0.25), (0.0, 2.0, 0.5), 25, 30, 0.0, 2, n_grid=101)
    assert d.view == "circle" and d.x_grid.shape == (101, 2) and d.grid_axis.shape == (101,)
    for x in (d.x_train, d.x_test, d.x_grid):
        np.testing.assert_allclose(np.linalg.norm(x, axis=1), np.sqrt(2), rtol=1e-6)  # radius √d
    assert d.grid_axis[0] == 0 and d.grid_axis[-1] == np.float32(2 * np.pi)
    theta = np.arctan2(d.x_test[:, 1], d.x_test[:, 0]).astype(float)  # the angle, from the points
    expected = 0.5 + np.cos(theta) + 2 * np.sin(theta) - 0.25 * np.cos(3 * theta) + 0.5 * np.sin(3 * theta)
    np.testing.assert_allclose(d.y_test, expected, atol=1e-5)
    assert np.all(np.diff(np.arctan2(d.x_train[:, 1], d.x_train[:, 0]) % (2 * np.pi)) >= 0)  # sorted by angle
    assert d.description == "circle: 0.5 + cos θ + 2 sin θ − 0.25 cos 3θ + 0.5 sin 3θ, 25 points"
    with pytest.raises(ValueError, match="amplitudes: 1 amplitudes for 2 frequencies"):
        make_circle_dataset((1, 2), (1.0,), (), 5, 5, 0.0, 0)


def test_sphere_points_uniform_and_zonal_target():
    d = make_sphere_dataset(3, 4000, 50, 0.0, 1, dtype=np.float64)
    np.testing.assert_allclose(np.linalg.norm(d.x_train, axis=1), np.sqrt(3))
    # uniform on the sphere: mean 0 and covariance I (radius √3); 4 standard errors of 4000 points
    assert np.all(np.abs(d.x_train.mean(axis=0)) < 4 / np.sqrt(4000))
    np.testing.assert_allclose(np.cov(d.x_train.T), np.eye(3), atol=4 * np.sqrt(2 / 4000))
    t = d.x_test[:, 2] / np.sqrt(3)
    np.testing.assert_allclose(d.y_test, (5 * t**3 - 3 * t) / 2, atol=1e-12)  # P₃ in closed form
    assert d.view == "points" and np.array_equal(d.x_grid, d.x_test) and np.array_equal(d.y_grid, d.y_test)


def test_legendre_matches_numpy():
    t = np.linspace(-1, 1, 41)
    for degree in range(12):
        np.testing.assert_allclose(legendre(degree, t), np.polynomial.legendre.legval(t, np.eye(12)[degree]),
                                   atol=1e-13)


def test_expression_in_one_dimension_is_the_preset_bit_for_bit():
    for dtype in (np.float32, np.float64):
        a = make_dataset("sin", 17, 23, 0.3, 9, -2.5, 1.0, n_grid=77, dtype=dtype)
        b = make_expression_dataset(parse_expression("sin(2*x)"), 17, 23, 0.3, 9, -2.5, 1.0, n_grid=77, dtype=dtype)
        for name in ("x_train", "y_train", "x_test", "y_test", "x_grid", "y_grid"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
            assert getattr(a, name).dtype == getattr(b, name).dtype
        assert b.view == "line" and np.array_equal(b.grid_axis, a.grid_axis)


def test_expression_in_two_and_more_dimensions():
    d = make_expression_dataset(parse_expression("x1 * x2**2", 2), 10, 12, 0.0, 3, 0.0, 1.0, n_grid=36)
    assert d.view == "plane" and d.grid_shape == (6, 6)
    np.testing.assert_allclose(d.y_grid, d.x_grid[:, 0] * d.x_grid[:, 1] ** 2, rtol=1e-6)
    d5 = make_expression_dataset(parse_expression("x1 - x5", 5), 10, 12, 0.0, 3, -1.0, 1.0)
    assert d5.x_train.shape == (10, 5) and d5.view == "points" and d5.x_grid.shape == (12, 5)
    np.testing.assert_allclose(d5.y_test, d5.x_test[:, 0] - d5.x_test[:, 4], rtol=1e-6)


def test_expression_not_finite_on_the_data_names_the_expression():
    with pytest.raises(ValueError, match=r"expression: 'log\(x\)' is nan at \d+ of the 40 training points"):
        make_expression_dataset(parse_expression("log(x)"), 40, 5, 0.0, 0, -1.0, 1.0)
    with pytest.raises(ValueError, match=r"expression: '1/x1' is inf at 3 of the 9 grid points \(first at x = \(0, -1\)\)"):
        make_expression_dataset(parse_expression("1/x1", 2), 4, 5, 0.0, 0, -1.0, 1.0, n_grid=9)


@pytest.mark.parametrize("build", [
    lambda seed: make_plane_dataset("radial", 9, 7, 0.2, seed, -2.0, 2.0),
    lambda seed: make_circle_dataset((2,), (1.0,), (), 9, 7, 0.2, seed),
    lambda seed: make_sphere_dataset(2, 9, 7, 0.2, seed),
    lambda seed: make_expression_dataset(parse_expression("x1+x2*x3", 3), 9, 7, 0.2, seed, -1.0, 1.0),
])
def test_same_seed_same_data_other_seed_other_data(build):
    a, b, c = build(4), build(4), build(5)
    for name in ("x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert not np.array_equal(a.x_train, c.x_train)


# --- tables and labels ---------------------------------------------------------------------------


def test_split_rows_disjoint_sizes_and_limits():
    train, test = split_rows(50, 30, 100, seed=1)
    assert len(train) == 30 and len(test) == 20 and not set(train) & set(test)  # test: the 20 left
    np.testing.assert_array_equal(split_rows(50, 30, 100, seed=1)[0], train)
    with pytest.raises(ValueError, match="n_train: 50 is not valid for a table of 50 rows; use at most 49"):
        split_rows(50, 50, 1, seed=0)


def test_table_standardized_and_projected_on_the_sphere():
    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 5.0, (80, 6))
    x[:, 2] = 7.0  # a constant column is centred, not divided by 0
    y = rng.normal(10.0, 2.0, 80)
    d = make_table_dataset(x, y, 60, 10, 2, standardize_target=True, dtype=np.float64)
    np.testing.assert_allclose(d.x_train.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(d.x_train.std(axis=0), [1, 1, 0, 1, 1, 1], atol=1e-12)
    np.testing.assert_allclose([d.y_train.mean(), d.y_train.std()], [0, 1], atol=1e-12)
    s = d.source_settings
    np.testing.assert_allclose(d.y_test * s["target_std"] + s["target_mean"], y[s["test_rows"]])
    ds = make_table_dataset(x, y, 60, 10, 2, sphere=True, dtype=np.float64)
    np.testing.assert_allclose(np.linalg.norm(ds.x_train, axis=1), np.sqrt(6))
    np.testing.assert_allclose(np.linalg.norm(ds.x_test, axis=1), np.sqrt(6))
    np.testing.assert_allclose(project_to_sphere(np.zeros((1, 3))), 0)


def test_random_labels_replace_only_the_training_targets():
    clean = make_plane_dataset("checker", 400, 30, 0.0, 3, -1.0, 1.0)
    noisy = with_random_labels(clean, 3, "sign")
    assert set(np.unique(noisy.y_train)) == {-1.0, 1.0} and noisy.classification
    assert abs(noisy.y_train.mean()) < 4 / np.sqrt(400)  # fair coin
    agree = np.mean(noisy.y_train == clean.y_train)  # independent of the clean labels
    assert abs(agree - 0.5) < 4 * 0.5 / np.sqrt(400)
    for name in ("x_train", "x_test", "y_test", "x_grid", "y_grid"):
        assert getattr(noisy, name) is getattr(clean, name)
    np.testing.assert_array_equal(with_random_labels(clean, 3, "sign").y_train, noisy.y_train)
    assert not np.array_equal(with_random_labels(clean, 4, "sign").y_train, noisy.y_train)
    gauss = with_random_labels(make_dataset("sin", 2000, 5, 0.0, 0, -2, 2), 0, "gaussian")
    assert abs(gauss.y_train.std() - 1) < 0.1 and not gauss.classification
    assert gauss.source_settings["label_kind"] == "gaussian" and "random Gaussian" in gauss.description
    with pytest.raises(ValueError, match="label_kind: 'uniform' is not valid"):
        with_random_labels(clean, 0, "uniform")


def test_sign_accuracy():
    assert sign_accuracy([0.3, -2.0, 0.0, -0.1], [1, -1, 1, 1]) == 0.75


# --- eigenvalues per frequency and degree --------------------------------------------------------


def test_circle_eigenvalues_match_the_dense_grid_eigendecomposition(x64):
    """On N uniform angles the kernel matrix is circulant; eigh(K/N) grouped by each eigenvector's
    Fourier frequency must give μ_k twice (k ≥ 1). The grid's error is the trapezoid rule's,
    O(N⁻²) for a kernel with a kink at θ = 0 (k(θ) ~ |θ|): it must shrink ~4× from N to 2N."""
    spec, k_max = MLPSpec(), 12
    mu = circle_eigenvalues(spec, k_max)
    assert np.all(np.diff(mu) < 0)  # the default ReLU network: decreasing with the frequency
    errors = []
    for n in (256, 512):
        theta = 2 * np.pi * np.arange(n) / n
        values, vectors = np.linalg.eigh(analytic_kernels(spec, circle_points(theta)).ntk / n)
        frequency = np.argmax(np.abs(np.fft.rfft(vectors, axis=0)), axis=0)
        group_means = []
        for k in range(k_max + 1):
            group = values[frequency == k]
            assert len(group) == multiplicities(k_max, 2)[k]
            np.testing.assert_allclose(group, group[0], atol=1e-9 * mu[0])  # degenerate but for rounding
            group_means.append(group.mean())
        errors.append(np.abs(np.array(group_means) - mu))
    assert np.all(errors[1] < 0.3 * errors[0])  # converging to μ at the trapezoid rule's rate
    assert np.all(errors[1] < 3e-6 * mu[0])  # and close: at N = 512 (seen: 1.39e-6 μ₀, 5.5e-6 at 256)


def test_sphere_eigenvalues_match_a_quadrature_grid_eigendecomposition(x64):
    """S² has no exactly uniform grid: Gauss–Legendre in cos θ × uniform φ with weights w (sum 1);
    the eigenvalues of W^½ K W^½ approximate the operator's. Each top eigenvector is assigned the
    degree ℓ holding most of its energy (projection (2ℓ+1) P_ℓ(⟨x̂, x̂'⟩), the addition theorem),
    groups must have 2ℓ+1 members, and their means approach μ_ℓ as the grid is refined."""
    spec, l_max = MLPSpec(), 4
    mu = sphere_eigenvalues(spec, l_max)
    assert np.all(np.diff(mu) < 0)
    errors = []
    for n_t in (12, 24):
        t, w_t = np.polynomial.legendre.leggauss(n_t)
        phi = 2 * np.pi * np.arange(2 * n_t) / (2 * n_t)
        tt, pp = np.meshgrid(t, phi, indexing="ij")
        s = np.sqrt(1 - tt**2)
        x = np.stack([s * np.cos(pp), s * np.sin(pp), tt], axis=-1).reshape(-1, 3)
        w = np.repeat(w_t, 2 * n_t) / (2 * 2 * n_t)
        k = analytic_kernels(spec, np.sqrt(3) * x).ntk
        values, vectors = np.linalg.eigh(np.sqrt(w)[:, None] * k * np.sqrt(w)[None, :])
        top = (l_max + 1) ** 2  # Σ (2ℓ+1) for ℓ ≤ l_max
        values, f = values[::-1][:top], (vectors[:, ::-1][:, :top] / np.sqrt(w)[:, None])
        cos = np.clip(x @ x.T, -1, 1)
        energy = np.stack([np.einsum("ia,ij,ja->a", f * w[:, None], (2 * l + 1) * legendre(l, cos), f * w[:, None])
                           for l in range(l_max + 1)])
        degree = np.argmax(energy, axis=0)
        assert np.all(energy.max(axis=0) > 0.9)  # each top eigenvector is (nearly) of one degree
        counts = np.bincount(degree, minlength=l_max + 1)
        np.testing.assert_array_equal(counts, multiplicities(l_max, 3))
        errors.append(np.abs(np.array([values[degree == l].mean() for l in range(l_max + 1)]) - mu) / mu)
    assert np.all(errors[1] < 0.25 * errors[0])  # converging (seen: 8× smaller from 288 to 1152 points)
    assert np.all(errors[1] < 6e-3)  # 1152 points: relative errors seen 1.1e-5 (ℓ = 0) … 4.1e-3 (ℓ = 4)


def test_eigenvalues_in_float32_agree_with_float64():
    spec = MLPSpec(depth=3, activation="erf", w_std=1.5, b_std=0.3)
    mu32_circle, mu32_sphere = circle_eigenvalues(spec, 8), sphere_eigenvalues(spec, 6)
    import jax

    jax.config.update("jax_enable_x64", True)
    try:
        mu64_circle, mu64_sphere = circle_eigenvalues(spec, 8), sphere_eigenvalues(spec, 6)
    finally:
        jax.config.update("jax_enable_x64", False)
    eps = np.finfo(np.float32).eps  # kernel values rounded at ~eps·μ₀; 512 nodes add ~√512 of them
    np.testing.assert_allclose(mu32_circle, mu64_circle, rtol=0, atol=50 * eps * mu64_circle[0])
    np.testing.assert_allclose(mu32_sphere, mu64_sphere, rtol=0, atol=50 * eps * mu64_sphere[0])


def test_eigenvalue_decay_and_parity_match_the_theory(x64):
    """Bietti & Mairal 2019 (NeurIPS, Prop. 5 and Thm. 1): the ReLU NTK on the sphere S^{d−1} ⊂ ℝ^d has
    μ_k ~ C k^{−d}; without biases the two-layer network's μ_k vanish for odd k ≥ 3 (even k do not)."""
    spec = MLPSpec()
    ks = np.arange(16, 129)
    slope = np.polyfit(np.log(ks), np.log(circle_eigenvalues(spec, 128)[16:]), 1)[0]
    assert abs(slope + 2) < 0.05  # d = 2 (seen: −2.004)
    ls = np.arange(12, 65)
    slope = np.polyfit(np.log(ls), np.log(sphere_eigenvalues(spec, 64, n_quad=1024)[12:]), 1)[0]
    assert abs(slope + 3) < 0.1  # d = 3 (seen: −2.96)
    no_bias = MLPSpec(depth=1, b_std=0.0)
    for mu in (circle_eigenvalues(no_bias, 20), sphere_eigenvalues(no_bias, 20)):
        assert np.all(np.abs(mu[3::2]) < 1e-12 * mu[0])  # odd k ≥ 3: zero but for rounding
        assert np.all(mu[0::2] > 1e-5 * mu[0]) and mu[1] > 1e-3 * mu[0]
