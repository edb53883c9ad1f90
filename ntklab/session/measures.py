"""What a snapshot measures: small named functions ``(context, observation) -> fields``.

A run is a short loop (``experiment.py``): it steps the training state, makes an
:class:`Observation` of it (host arrays: the outputs of the network and of its linearization on
every evaluated point, the kernel when due), and asks each function of :data:`MEASUREMENTS` for its
fields. The functions are pure, know nothing of each other, and a sweep reuses them on a run's last
observation. The fixed things of a run (data, Θ̂₀, the infinite-width answers, its spectra) are in
the :class:`RunContext`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ntklab.core import Dataset, Eigen
from ntklab.core import spectra as sp

NOT_DIVERGED = -1  # *_diverged_step of a curve that has not diverged


@dataclass(frozen=True)
class InfiniteWidth:
    """Time-independent infinite-width answers on the grid: NNGP posterior mean and std (G,).

    nngp_mean/nngp_std are None when the posterior could not be computed (``notes`` says why).
    """

    nngp_mean: np.ndarray | None
    nngp_std: np.ndarray | None
    ntk_train_train: np.ndarray  # analytic NTK on the training set, (n, n)
    nngp_train_train: np.ndarray  # analytic NNGP on the training set, (n, n)


@dataclass(frozen=True)
class RunSpectra:
    """What the spectral views need that is fixed for a run (n training points, k eigenfunctions).

    eig_*: eigenvalues, largest first, of the empirical NTK at init Θ̂₀ and (None when the
    infinite-width part is off) of the analytic NTK and NNGP; energy_*: cumulative fraction of ‖y‖² in
    their top-k eigenvectors (n,); alignment_*: kernel-target alignment; eigenfunctions (k, G): the
    top analytic-NTK eigenfunctions on ``data.x_grid``; order: training points sorted by their first
    coordinate (heatmaps); eps: the rounding unit of the kernels' dtype: eigenvalues below n·eps·λ_max
    are not resolved.
    """

    eig_ntk0: np.ndarray
    energy_ntk0: np.ndarray
    alignment_ntk0: float
    eig_ntk_inf: np.ndarray | None
    eig_nngp_inf: np.ndarray | None
    energy_ntk_inf: np.ndarray | None
    alignment_ntk_inf: float
    eigenfunctions: np.ndarray | None
    order: np.ndarray
    eps: float


@dataclass(frozen=True)
class KernelSpectra:
    """The empirical NTK Θ̂_t on the training set at a kernel update (n points, m = min(n, 256)).

    eigvals (n,) largest first; energy (n,) cumulative fraction of ‖y‖² in its top-k eigenvectors;
    kernel_image, kernel_change_image (m, m): Θ̂_t and Θ̂_t − Θ̂₀ with points sorted by their first
    coordinate, block means when n > 256.
    """

    eigvals: np.ndarray
    energy: np.ndarray
    kernel_image: np.ndarray
    kernel_change_image: np.ndarray


@dataclass(frozen=True)
class RunContext:
    """The fixed part of a run, host arrays. Outputs on the evaluated points come as one vector
    [train (n) | test (m) | grid (G)]; ``split`` = (n, n + m) cuts it.

    y_train: float64 training targets; ntk0: Θ̂₀ on the training set (float64 copy of the run's
    precision); eig0: its eigendecomposition (None when spectra are off); ntk_predict(step): the NTK ∞
    gradient-flow outputs on all evaluated points at t = step·η (None when off or without a limit);
    eps: the run precision's rounding unit; notes: fixed one-line remarks (why a curve is absent).
    When ``grid_is_test`` (views of points: d > 2, CSV, digits) outputs are [train | test] only.
    """

    steps_total: int
    learning_rate: float
    data: Dataset
    split: tuple[int, int]
    y_train: np.ndarray
    ntk0: np.ndarray
    ntk0_norm: float
    theta0_norm: float
    eig0: Eigen | None
    eta_crit: float
    infinite: InfiniteWidth | None
    ntk_predict: Callable[[int], np.ndarray] | None
    run_spectra: RunSpectra | None
    backend: str
    precision: str
    eps: float
    notes: tuple[str, ...] = ()
    grid_is_test: bool = False  # outputs are [train | test] and the grid is the test set
    nngp_fit: np.ndarray | None = None  # NNGP posterior mean on [train | test] (sweeps; None when absent)


@dataclass(frozen=True)
class Observation:
    """The training state at one step, as host arrays.

    f_net, f_lin: f_α and f_α,lin on every evaluated point (f_lin None once it diverged); loss: the
    training loss C = ‖f_α − y‖²/(2n) now and last_loss: C before the last step (NaN at step 0), both
    as the training step computes them; param_dist = ‖θ − θ₀‖; feature_change (hidden layers),
    weight_change (Dense layers, readout last): relative changes; ntk_t: Θ̂_t at a kernel update (else
    None) and prev_ntk the previous update's; *_diverged_step: the step a curve diverged at, or −1.
    """

    step: int
    wall_time: float
    f_net: np.ndarray
    f_lin: np.ndarray | None
    loss: float
    last_loss: float
    param_dist: float
    feature_change: np.ndarray
    weight_change: np.ndarray
    ntk_t: np.ndarray | None = None
    prev_ntk: np.ndarray | None = None
    lin_diverged_step: int = NOT_DIVERGED
    ntk_diverged_step: int = NOT_DIVERGED
    notes: tuple[str, ...] = field(default=())


def _mse(f, y) -> float:
    return float(np.mean((np.asarray(f, np.float64) - np.asarray(y, np.float64)) ** 2))


def _parts(ctx: RunContext, f):
    """(train, test, grid) parts of an output vector on every evaluated point."""
    if ctx.grid_is_test:
        train, test = np.split(np.asarray(f), [ctx.split[0]])
        return train, test, test
    return np.split(np.asarray(f), ctx.split)


def measure_progress(ctx: RunContext, obs: Observation) -> dict[str, Any]:
    """step, steps_total, time t = step·η, wall_time."""
    return dict(step=obs.step, steps_total=ctx.steps_total, time=obs.step * ctx.learning_rate,
                wall_time=obs.wall_time)


def measure_fit(ctx: RunContext, obs: Observation) -> dict[str, Any]:
    """Mean squared errors of the network and its linearization (train: the noisy targets, test: the
    clean target), their outputs on the grid, and lin_gap = RMS of f − f_lin on the grid."""
    data = ctx.data
    f_tr, f_te, f_gr = _parts(ctx, obs.f_net)
    out = dict(mse_train_net=_mse(f_tr, data.y_train), mse_test_net=_mse(f_te, data.y_test), f_grid_net=f_gr)
    if obs.f_lin is None:
        return out | dict(mse_train_lin=math.nan, mse_test_lin=math.nan, f_grid_lin=np.full_like(f_gr, np.nan),
                          lin_gap=math.nan)
    l_tr, l_te, l_gr = _parts(ctx, obs.f_lin)
    gap = float(np.sqrt(np.mean((np.asarray(f_gr, np.float64) - l_gr) ** 2))) if len(f_gr) else math.nan
    return out | dict(mse_train_lin=_mse(l_tr, data.y_train), mse_test_lin=_mse(l_te, data.y_test),
                      f_grid_lin=l_gr, lin_gap=gap)


def measure_ntk_inf(ctx: RunContext, obs: Observation) -> dict[str, Any]:
    """The NTK ∞ gradient-flow answer at t = step·η: its errors and its outputs on the grid."""
    if ctx.ntk_predict is None or obs.ntk_diverged_step != NOT_DIVERGED:
        return dict(mse_train_ntk=math.nan, mse_test_ntk=math.nan, f_grid_ntk=None)
    n_tr, n_te, n_gr = _parts(ctx, ctx.ntk_predict(obs.step))
    return dict(mse_train_ntk=_mse(n_tr, ctx.data.y_train), mse_test_ntk=_mse(n_te, ctx.data.y_test),
                f_grid_ntk=n_gr)


def measure_motion(ctx: RunContext, obs: Observation) -> dict[str, Any]:
    """How far the run moved from initialization: param_change = ‖θ − θ₀‖/‖θ₀‖, kernel_change =
    ‖Θ̂_t − Θ̂₀‖_F/‖Θ̂₀‖_F (NaN between kernel updates), feature_change[l] and weight_change[l]."""
    kernel_change = math.nan if obs.ntk_t is None else float(np.linalg.norm(obs.ntk_t - ctx.ntk0)) / ctx.ntk0_norm
    return dict(param_change=obs.param_dist / ctx.theta0_norm, kernel_change=kernel_change,
                feature_change=np.asarray(obs.feature_change, np.float64),
                weight_change=np.asarray(obs.weight_change, np.float64))


def loss_rate_rounding(loss: float, n: int, eps: float, learning_rate: float) -> float:
    """The loss rate that rounding alone can show: two losses C of n terms each carry an error up to
    ~n·ε·C (summation), so a measured −ΔC/η below 2n·ε·C/η is not resolved."""
    return 2.0 * n * eps * abs(loss) / learning_rate


def measure_spectra(ctx: RunContext, obs: Observation) -> dict[str, Any]:
    """The residual per eigenmode of Θ̂₀, the measured loss rate −ΔC/Δt over the last step (and the
    rate rounding can produce), and at kernel updates the predicted rate ‖∂C/∂f‖²_Θ̂ = rᵀΘ̂_t r/n²,
    the kernel-target alignment, the kernel velocity and the kernel spectra."""
    n = len(ctx.y_train)
    empty = dict(mode_residual=np.zeros(0), loss_rate_measured=math.nan, loss_rate_rounding=math.nan,
                 loss_rate_predicted=math.nan, alignment=math.nan, kernel_velocity=math.nan, spectra=None)
    if ctx.run_spectra is None or ctx.eig0 is None:
        return empty
    residual = np.asarray(_parts(ctx, obs.f_net)[0], np.float64) - ctx.y_train
    # both losses as the training step computes them, in the run's precision
    out = empty | dict(mode_residual=sp.mode_residuals(ctx.eig0, residual),
                       loss_rate_measured=(obs.last_loss - obs.loss) / ctx.learning_rate,
                       loss_rate_rounding=loss_rate_rounding(obs.loss, n, ctx.eps, ctx.learning_rate))
    if obs.ntk_t is None:
        return out
    eig_t = ctx.eig0 if obs.ntk_t is ctx.ntk0 else sp.eigen(obs.ntk_t)
    order = ctx.run_spectra.order
    return out | dict(
        loss_rate_predicted=sp.loss_rate(obs.ntk_t, residual),
        alignment=sp.kernel_target_alignment(obs.ntk_t, ctx.y_train),
        kernel_velocity=math.nan if obs.prev_ntk is None else sp.kernel_velocity(obs.prev_ntk, obs.ntk_t),
        spectra=KernelSpectra(eigvals=eig_t.values, energy=sp.target_energy(eig_t, ctx.y_train),
                              kernel_image=sp.block_average(obs.ntk_t, order),
                              kernel_change_image=sp.block_average(obs.ntk_t - ctx.ntk0, order)),
    )


def sign_accuracy(f, y) -> float:
    """Fraction of points where sign f = sign y (for ±1 targets; a 0 output counts as wrong)."""
    f, y = np.asarray(f, np.float64), np.asarray(y, np.float64)
    return float(np.mean(np.sign(f) == np.sign(y))) if len(y) else math.nan


def measure_accuracy(ctx: RunContext, obs: Observation) -> dict[str, Any]:
    """For ±1 targets, test accuracy (sign agreement) of the network, linearization and NTK ∞."""
    out = dict(accuracy_test_net=math.nan, accuracy_test_lin=math.nan, accuracy_test_ntk=math.nan)
    if not getattr(ctx.data, "classification", False):
        return out
    y = ctx.data.y_test
    out["accuracy_test_net"] = sign_accuracy(_parts(ctx, obs.f_net)[1], y)
    if obs.f_lin is not None:
        out["accuracy_test_lin"] = sign_accuracy(_parts(ctx, obs.f_lin)[1], y)
    if ctx.ntk_predict is not None and obs.ntk_diverged_step == NOT_DIVERGED:
        out["accuracy_test_ntk"] = sign_accuracy(_parts(ctx, ctx.ntk_predict(obs.step))[1], y)
    return out


def measure_status(ctx: RunContext, obs: Observation) -> dict[str, Any]:
    """Which curves diverged and when, and the run's remarks (one line each)."""
    return dict(lin_diverged_step=obs.lin_diverged_step, ntk_diverged_step=obs.ntk_diverged_step,
                notes=ctx.notes + obs.notes)


def _rms(a, b) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.sqrt(np.mean((a - b) ** 2))) if len(a) else math.nan


def measure_nngp(ctx: RunContext, obs: Observation) -> dict[str, Any]:
    """Errors of the NNGP posterior mean (time-independent; NaN when it is absent): the Bayesian
    answer of the infinitely wide network whose readout alone is trained (Lee et al. 2018)."""
    if ctx.nngp_fit is None:
        return dict(mse_train_nngp=math.nan, mse_test_nngp=math.nan)
    n, m = ctx.split
    return dict(mse_train_nngp=_mse(ctx.nngp_fit[:n], ctx.data.y_train),
                mse_test_nngp=_mse(ctx.nngp_fit[n:m], ctx.data.y_test))


def measure_test_gaps(ctx: RunContext, obs: Observation) -> dict[str, Any]:
    """On the test points: lin_gap_test = RMS(f − f_lin) and ntk_gap_test = RMS(f − f_NTK∞) at
    t = step·η; NaN for a curve that is absent or diverged."""
    f_te = _parts(ctx, obs.f_net)[1]
    lin = math.nan if obs.f_lin is None else _rms(f_te, _parts(ctx, obs.f_lin)[1])
    ntk = math.nan
    if ctx.ntk_predict is not None and obs.ntk_diverged_step == NOT_DIVERGED:
        ntk = _rms(f_te, _parts(ctx, ctx.ntk_predict(obs.step))[1])
    return dict(lin_gap_test=lin, ntk_gap_test=ntk)


def measure_kernel0(ctx: RunContext, obs: Observation) -> dict[str, Any]:
    """Θ̂₀'s extreme eigenvalues on the training set and η_crit = 2n/λ_max (λ_max from the same Lanczos
    routine as η_crit; λ_min from a float64 eigendecomposition of Θ̂₀, which itself carries the run's
    rounding: resolved down to about n·ε·λ_max)."""
    n = len(ctx.y_train)
    values = np.linalg.eigvalsh(np.asarray(ctx.ntk0, np.float64))
    lam_max = 2.0 * n / ctx.eta_crit if ctx.eta_crit > 0 and math.isfinite(ctx.eta_crit) else math.nan
    return dict(eta_crit=float(ctx.eta_crit), lambda_max=lam_max, lambda_min=float(np.min(values)))


MEASUREMENTS: tuple[Callable[[RunContext, Observation], dict[str, Any]], ...] = (
    measure_progress, measure_fit, measure_ntk_inf, measure_motion, measure_spectra, measure_accuracy,
    measure_status,
)


# A sweep point's fields: the final observation of a run, without the per-snapshot views.
SWEEP_MEASUREMENTS: tuple[Callable[[RunContext, Observation], dict[str, Any]], ...] = (
    measure_fit, measure_ntk_inf, measure_nngp, measure_test_gaps, measure_motion, measure_kernel0, measure_accuracy,
    measure_status,
)


def measure(ctx: RunContext, obs: Observation, measurements=MEASUREMENTS) -> dict[str, Any]:
    """Every field of a snapshot: the measurements' fields together."""
    fields: dict[str, Any] = {}
    for m in measurements:
        fields.update(m(ctx, obs))
    return fields
