"""Each measurement function alone, on a hand-made context and observation, against direct sums."""

import math

import numpy as np
import pytest

from ntklab.core import Dataset, spectra as sp
from ntklab.session.measures import (
    MEASUREMENTS,
    NOT_DIVERGED,
    Observation,
    RunContext,
    loss_rate_rounding,
    measure,
    measure_accuracy,
    measure_fit,
    measure_motion,
    measure_ntk_inf,
    measure_progress,
    measure_spectra,
    sign_accuracy,
)

RNG = np.random.default_rng(3)
N, M, G = 5, 4, 6


def _context(**changes) -> RunContext:
    x = RNG.uniform(-1, 1, (N + M + G, 1))
    y = np.sin(2 * x[:, 0])
    data = Dataset(x_train=x[:N], y_train=y[:N] + 0.1, x_test=x[N:N + M], y_test=y[N:N + M],
                   x_grid=x[N + M:], y_grid=y[N + M:])
    a = RNG.standard_normal((N, N))
    ntk0 = a @ a.T + N * np.eye(N)
    base = dict(steps_total=100, learning_rate=0.5, data=data, split=(N, N + M),
                y_train=np.asarray(data.y_train, np.float64), ntk0=ntk0, ntk0_norm=float(np.linalg.norm(ntk0)),
                theta0_norm=4.0, eig0=sp.eigen(ntk0), eta_crit=1.0, infinite=None, ntk_predict=None,
                run_spectra=None, backend="cpu", precision="float64", eps=2.2e-16)
    base.update(changes)
    return RunContext(**base)


def _observation(**changes) -> Observation:
    base = dict(step=20, wall_time=1.5, f_net=RNG.standard_normal(N + M + G), f_lin=RNG.standard_normal(N + M + G),
                loss=0.3, last_loss=0.31, param_dist=2.0, feature_change=np.array([0.1, 0.2]),
                weight_change=np.array([0.01, 0.02, 0.03]))
    base.update(changes)
    return Observation(**base)


def test_progress():
    assert measure_progress(_context(), _observation()) == dict(step=20, steps_total=100, time=10.0, wall_time=1.5)


def test_fit_splits_outputs_into_train_test_grid():
    ctx, obs = _context(), _observation()
    out = measure_fit(ctx, obs)
    d = ctx.data
    assert out["mse_train_net"] == pytest.approx(sum((obs.f_net[i] - d.y_train[i]) ** 2 for i in range(N)) / N)
    assert out["mse_test_lin"] == pytest.approx(sum((obs.f_lin[N + i] - d.y_test[i]) ** 2 for i in range(M)) / M)
    np.testing.assert_array_equal(out["f_grid_net"], obs.f_net[N + M:])
    assert out["lin_gap"] == pytest.approx(math.sqrt(sum((obs.f_net[N + M + i] - obs.f_lin[N + M + i]) ** 2
                                                         for i in range(G)) / G))


def test_fit_after_the_linearization_diverged():
    out = measure_fit(_context(), _observation(f_lin=None))
    assert math.isnan(out["mse_train_lin"]) and np.all(np.isnan(out["f_grid_lin"])) and math.isnan(out["lin_gap"])
    assert np.isfinite(out["mse_train_net"])


def test_ntk_inf_uses_the_prediction_at_the_step():
    seen = []

    def predict(step):
        seen.append(step)
        return np.arange(N + M + G, dtype=float)

    ctx = _context(ntk_predict=predict)
    out = measure_ntk_inf(ctx, _observation(step=7))
    assert seen == [7]
    assert out["mse_train_ntk"] == pytest.approx(np.mean((np.arange(N) - ctx.data.y_train) ** 2))
    np.testing.assert_array_equal(out["f_grid_ntk"], np.arange(N + M, N + M + G))
    gone = measure_ntk_inf(ctx, _observation(ntk_diverged_step=3))
    assert gone["f_grid_ntk"] is None and math.isnan(gone["mse_test_ntk"])


def test_motion():
    ctx = _context()
    ntk_t = ctx.ntk0 * 1.1
    out = measure_motion(ctx, _observation(ntk_t=ntk_t))
    assert out["param_change"] == pytest.approx(0.5)
    assert out["kernel_change"] == pytest.approx(0.1)
    assert math.isnan(measure_motion(ctx, _observation())["kernel_change"])
    np.testing.assert_array_equal(out["weight_change"], [0.01, 0.02, 0.03])


def test_spectra_fields_and_the_rounding_floor(x64):
    from ntklab.session.measures import RunSpectra

    ctx = _context()
    run = RunSpectra(eig_ntk0=ctx.eig0.values, energy_ntk0=np.ones(N), alignment_ntk0=0.5, eig_ntk_inf=None,
                     eig_nngp_inf=None, energy_ntk_inf=None, alignment_ntk_inf=math.nan, eigenfunctions=None,
                     order=np.arange(N), eps=2.2e-16)
    ctx = _context(run_spectra=run)
    obs = _observation(ntk_t=ctx.ntk0)
    out = measure_spectra(ctx, obs)
    r = obs.f_net[:N] - ctx.y_train
    v = np.linalg.eigh(ctx.ntk0)[1][:, ::-1]
    np.testing.assert_allclose(np.abs(out["mode_residual"]), np.abs(v.T @ r), rtol=1e-10)
    assert out["loss_rate_measured"] == pytest.approx((0.31 - 0.3) / 0.5)
    assert out["loss_rate_predicted"] == pytest.approx(r @ ctx.ntk0 @ r / N**2)
    assert out["loss_rate_rounding"] == pytest.approx(loss_rate_rounding(0.3, N, 2.2e-16, 0.5)) and \
        out["loss_rate_rounding"] < 1e-13
    assert out["spectra"].kernel_image.shape == (N, N)
    between = measure_spectra(ctx, _observation())
    assert between["spectra"] is None and math.isnan(between["alignment"])


def test_accuracy_only_for_sign_targets():
    assert sign_accuracy([1.0, -2.0, 0.5, -0.1], [1, 1, 1, -1]) == pytest.approx(0.75)
    assert math.isnan(measure_accuracy(_context(), _observation())["accuracy_test_net"])


def test_measure_fills_every_snapshot_field():
    from dataclasses import fields

    from ntklab.session import Snapshot

    out = measure(_context(), _observation())
    run_fields = {"data", "infinite", "eta_crit", "backend", "run_spectra", "precision"}
    assert set(out) == {f.name for f in fields(Snapshot)} - run_fields
    assert len(MEASUREMENTS) >= 6 and out["lin_diverged_step"] == NOT_DIVERGED


def test_nngp_errors_on_train_and_test_points():
    from ntklab.session.measures import measure_nngp

    assert all(math.isnan(v) for v in measure_nngp(_context(), _observation()).values())
    fit = RNG.standard_normal(N + M)
    ctx = _context(nngp_fit=fit)
    out = measure_nngp(ctx, _observation())
    d = ctx.data
    assert out["mse_train_nngp"] == pytest.approx(sum((fit[i] - d.y_train[i]) ** 2 for i in range(N)) / N)
    assert out["mse_test_nngp"] == pytest.approx(sum((fit[N + i] - d.y_test[i]) ** 2 for i in range(M)) / M)


def test_gaps_on_the_test_points():
    from ntklab.session.measures import measure_test_gaps

    obs = _observation()
    ntk = RNG.standard_normal(N + M + G)
    out = measure_test_gaps(_context(ntk_predict=lambda step: ntk), obs)
    assert out["lin_gap_test"] == pytest.approx(math.sqrt(sum((obs.f_net[N + i] - obs.f_lin[N + i]) ** 2
                                                              for i in range(M)) / M))
    assert out["ntk_gap_test"] == pytest.approx(math.sqrt(sum((obs.f_net[N + i] - ntk[N + i]) ** 2
                                                              for i in range(M)) / M))
    gone = measure_test_gaps(_context(), _observation(f_lin=None))
    assert math.isnan(gone["lin_gap_test"]) and math.isnan(gone["ntk_gap_test"])


def test_kernel_at_init_extremes_and_eta_crit():
    from ntklab.session.measures import measure_kernel0

    ctx = _context(eta_crit=0.25)
    out = measure_kernel0(ctx, _observation())
    assert out["eta_crit"] == 0.25 and out["lambda_max"] == pytest.approx(2 * N / 0.25)
    assert out["lambda_min"] == pytest.approx(min(np.linalg.eigvalsh(ctx.ntk0)), rel=1e-12)
    assert out["lambda_min"] >= N  # ntk0 = AAᵀ + N·I


def test_sweep_measurements_fill_the_sweep_fields():
    from ntklab.session.measures import SWEEP_MEASUREMENTS
    from ntklab.session.sweep import MEASURES

    out = measure(_context(), _observation(ntk_t=_context().ntk0), SWEEP_MEASUREMENTS)
    assert set(MEASURES) <= set(out) and {"feature_change", "weight_change", "notes"} <= set(out)
