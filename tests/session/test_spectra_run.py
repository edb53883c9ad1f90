"""The spectral fields of a run against independent answers: closed forms, a Jacobian oracle, width."""

import math

import jax
import numpy as np
import pytest

from ntklab.core import empirical_ntk_jacobian, init_params, make_apply_fn, make_dataset
from ntklab.session import Experiment, ExperimentSpec, critical_rate

SMALL = ExperimentSpec().with_changes(model={"width": 64}, data={"n_train": 10, "n_test": 10},
                                      train={"steps": 40, "snapshots": 4, "kernel_every": 1})
# f(x) = (w_std/√d) W x + b_std b: linear in its parameters, so the network is its own linearization
LINEAR = SMALL.with_changes(model={"depth": 0, "activation": "identity", "w_std": 1.5, "b_std": 0.5},
                            train={"steps": 60, "snapshots": 6, "learning_rate": 0.5, "precision": "float64"})
SMALL64 = SMALL.with_changes(train={"precision": "float64"})


def test_eigenvalues_match_the_jacobian_kernel(x64):
    spec = SMALL64
    first = next(Experiment(spec).run())
    d = spec.data
    x = make_dataset(d.preset, d.n_train, d.n_test, d.noise, d.seed, d.x_min, d.x_max, dtype=np.float64).x_train
    # θ0 is drawn in float32 and cast: the same network in both precisions
    theta0 = init_params(spec.model, 1, key=jax.random.key(spec.train.seed), dtype=np.float32)
    theta0 = jax.tree_util.tree_map(lambda a: a.astype(np.float64), theta0)
    kernel = np.asarray(empirical_ntk_jacobian(make_apply_fn(spec.model), theta0, x))
    expected = np.sort(np.linalg.eigvalsh(kernel))[::-1]
    np.testing.assert_allclose(first.spectra.eigvals, expected, rtol=1e-10, atol=1e-10 * expected[0])
    np.testing.assert_allclose(first.run_spectra.eig_ntk0, expected, rtol=1e-10, atol=1e-10 * expected[0])


def test_linear_model_residual_per_mode_follows_the_closed_form(x64):
    """Θ = w²xx'/d + b² exactly; each mode's residual scales by (1 − ηλ_i/n) per step."""
    spec, n = LINEAR, LINEAR.data.n_train
    snaps = list(Experiment(spec).run())
    d = spec.data
    x = make_dataset(d.preset, d.n_train, d.n_test, d.noise, d.seed, d.x_min, d.x_max, dtype=np.float64).x_train[:, 0]
    theta = 1.5**2 * np.outer(x, x) + 0.5**2  # the NTK of f = 1.5·W x + 0.5·b (d = 1)
    lam = np.sort(np.linalg.eigvalsh(theta))[::-1]
    np.testing.assert_allclose(snaps[0].run_spectra.eig_ntk0[:2], lam[:2], rtol=1e-12)
    assert np.all(np.abs(snaps[0].run_spectra.eig_ntk0[2:]) < 1e-12 * lam[0])  # rank 2
    r0 = snaps[0].mode_residual
    for snap in snaps[1:]:
        expected = (1 - spec.train.learning_rate * lam / n) ** snap.step * r0
        np.testing.assert_allclose(snap.mode_residual, expected, rtol=1e-9, atol=1e-12)
        assert snap.kernel_change < 1e-12  # a linear model's kernel does not move
    # The target sin 2x is not in span{x, 1}: most of its energy lies outside the two live modes.
    assert snaps[0].run_spectra.energy_ntk0[1] < 0.9


def test_critical_rate_separates_convergence_from_divergence(x64):
    eta_crit, lambda_max = critical_rate(LINEAR)
    first = next(Experiment(LINEAR).run())
    assert eta_crit == pytest.approx(first.eta_crit, rel=1e-12)
    assert lambda_max == pytest.approx(first.run_spectra.eig_ntk0[0], rel=1e-12)
    for factor, grows in ((0.95, False), (1.05, True)):
        spec = LINEAR.with_changes(train={"learning_rate": factor * eta_crit, "steps": 40, "snapshots": 2})
        snaps = list(Experiment(spec).run())
        top = abs(snaps[-1].mode_residual[0]) / abs(snaps[0].mode_residual[0])
        assert bool(top > 1) is grows, (factor, top)


def test_loss_rate_identity_holds_to_first_order_in_the_learning_rate(x64):
    """−ΔC/Δt over one step vs ‖∂C/∂f‖²_Θ̂ from the current kernel: the gap halves with η."""
    base = SMALL64.with_changes(model={"width": 256}, data={"n_train": 12},
                              train={"steps": 40, "snapshots": 2})
    gaps = []
    for lr in (2e-3, 1e-3, 5e-4):
        last = list(Experiment(base.with_changes(train={"learning_rate": lr})).run())[-1]
        assert last.loss_rate_predicted > 0
        gaps.append(abs(last.loss_rate_measured / last.loss_rate_predicted - 1))
    assert gaps[0] < 0.05, gaps
    assert 0.4 < gaps[1] / gaps[0] < 0.6 and 0.4 < gaps[2] / gaps[1] < 0.6, gaps


def test_kernel_change_is_small_at_large_width_and_grows_as_width_shrinks():
    changes = {}
    for width in (4096, 512, 64):
        spec = ExperimentSpec().with_changes(
            model={"width": width, "depth": 1}, data={"n_train": 16, "n_test": 10},
            train={"steps": 100, "snapshots": 2, "kernel_every": 1}, infinite={"enabled": False})
        last = list(Experiment(spec).run())[-1]
        changes[width] = last.kernel_change
        assert last.kernel_velocity >= 0
    assert changes[4096] < 0.01, changes
    assert changes[4096] < changes[512] < changes[64], changes
    assert changes[64] > 5 * changes[4096], changes  # ~1/√width


def test_spectra_off_leaves_the_fields_empty():
    snaps = list(Experiment(SMALL.with_changes(spectra={"enabled": False})).run())
    last = snaps[-1]
    assert last.spectra is None and last.run_spectra is None and last.mode_residual.size == 0
    assert math.isnan(last.loss_rate_predicted) and math.isnan(last.alignment)
    assert np.isfinite(last.kernel_change)


def test_spectral_fields_at_the_kernel_cadence():
    spec = SMALL.with_changes(train={"snapshots": 8, "steps": 80, "kernel_every": 3})
    snaps = list(Experiment(spec).run())
    with_kernel = [s.step for s in snaps if s.spectra is not None]
    assert with_kernel == [0, 30, 60, 80]  # step 0, every 3 snapshots, and the last
    assert all(np.isfinite(s.loss_rate_measured) for s in snaps[1:])
    assert all(s.mode_residual.shape == (10,) for s in snaps)
    assert math.isnan(snaps[1].loss_rate_predicted) and np.isfinite(snaps[3].loss_rate_predicted)
    run = snaps[0].run_spectra
    assert run.eigenfunctions.shape == (4, 200) and run.energy_ntk_inf[-1] == pytest.approx(1.0)
    assert 0 < snaps[-1].alignment <= 1 and snaps[-1].spectra.kernel_image.shape == (10, 10)
