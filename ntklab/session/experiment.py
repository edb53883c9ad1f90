"""A headless run: an :class:`ExperimentSpec` in, a generator of :class:`Snapshot` s out."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from ntklab.core import (
    Dataset,
    Eigen,
    analytic_kernels,
    critical_learning_rate,
    empirical_ntk,
    float_dtype,
    gradient_descent_mse,
    init_params,
    init_train_state,
    linearize,
    make_apply_fn,
    make_optimizer,
    make_train_chunk,
)
from ntklab.core import spectra as sp
from ntklab.session.datasets import build_dataset
from ntklab.session.spec import ExperimentSpec


class TrainingDiverged(RuntimeError):
    """The loss became NaN or inf; the message names the likely cause and the fix."""


@dataclass(frozen=True)
class InfiniteWidth:
    """Time-independent infinite-width answers on the grid: NNGP posterior mean and std (G,)."""

    nngp_mean: np.ndarray
    nngp_std: np.ndarray
    ntk_train_train: np.ndarray  # analytic NTK on the training set, (n, n)
    nngp_train_train: np.ndarray  # analytic NNGP on the training set, (n, n)


@dataclass(frozen=True)
class RunSpectra:
    """What the spectral views need that is fixed for a run (n training points, k eigenfunctions).

    eig_*: eigenvalues, largest first, of the empirical NTK at init Θ̂₀ and (None when the
    infinite-width part is off) of the analytic NTK and NNGP; energy_*: cumulative fraction of ‖y‖² in
    their top-k eigenvectors (n,); alignment_*: kernel-target alignment; eigenfunctions (k, G): the
    top analytic-NTK eigenfunctions on ``data.x_grid``; order: training points sorted by x (heatmaps);
    eps: the rounding unit of the kernels' dtype: eigenvalues below n·eps·λ_max are not resolved.
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
    kernel_image, kernel_change_image (m, m): Θ̂_t and Θ̂_t − Θ̂₀ with points sorted by x, block
    means when n > 256.
    """

    eigvals: np.ndarray
    energy: np.ndarray
    kernel_image: np.ndarray
    kernel_change_image: np.ndarray


@dataclass(frozen=True)
class Snapshot:
    """The state of a run at one step; host NumPy arrays only.

    mse_* are mean squared errors mean((f − y)²) (the training loss is half of mse_train);
    *_ntk is the infinite-width NTK gradient-flow prediction from the same f(θ0), at t = step·lr.
    f_grid_*: (G,) predictions on ``data.x_grid``. kernel_change = ‖Θ̂_t − Θ̂_0‖_F/‖Θ̂_0‖_F on the
    training set (NaN between kernel updates); lin_gap = RMS of f − f_lin on the grid.

    Spectral fields (NaN / empty when ``spec.spectra.enabled`` is false): mode_residual (n,) = V₀ᵀ(f − y),
    the network's training residual in the eigenbasis of Θ̂₀ (largest λ first); loss_rate_measured =
    −ΔC/Δt of the network's loss C = ‖f − y‖²/(2n) over the last step (t = step·η); at kernel updates
    only (NaN between): loss_rate_predicted = ‖∂C/∂f‖²_Θ̂ = rᵀΘ̂_t r/n², alignment = kernel-target
    alignment of Θ̂_t, kernel_velocity = 1 − cos(Θ̂ of the previous update, Θ̂_t), and ``spectra``.
    """

    step: int
    steps_total: int
    time: float
    wall_time: float
    mse_train_net: float
    mse_train_lin: float
    mse_test_net: float
    mse_test_lin: float
    mse_train_ntk: float
    mse_test_ntk: float
    param_change: float
    kernel_change: float
    lin_gap: float
    f_grid_net: np.ndarray
    f_grid_lin: np.ndarray
    f_grid_ntk: np.ndarray | None
    data: Dataset
    infinite: InfiniteWidth | None
    eta_crit: float
    backend: str
    mode_residual: np.ndarray
    loss_rate_measured: float
    loss_rate_predicted: float
    alignment: float
    kernel_velocity: float
    spectra: KernelSpectra | None
    run_spectra: RunSpectra | None


def _mse(f, y) -> float:
    return float(np.mean((np.asarray(f) - np.asarray(y)) ** 2))


def snapshot_schedule(steps: int, snapshots: int) -> list[int]:
    """Chunk lengths: ``snapshots`` equal chunks (as far as they divide ``steps``), then the rest."""
    chunk = max(1, steps // snapshots)
    lengths = [chunk] * (steps // chunk)
    if steps % chunk:
        lengths.append(steps % chunk)
    return lengths


class Experiment:
    """Runs ``spec``: ``for snap in Experiment(spec).run(): ...``. Constructing it is cheap."""

    def __init__(self, spec: ExperimentSpec):
        self.spec = spec

    def run(self) -> Iterator[Snapshot]:
        """Yields the snapshot at step 0, then one after each chunk of training steps.

        Raises :class:`TrainingDiverged` when the loss becomes non-finite. Closing the generator
        stops the run after the chunk in flight.
        """
        spec, t_start = self.spec, time.perf_counter()
        d, tr = spec.data, spec.train
        data, apply_fn, theta0, ntk_fn = _setup(spec)
        x_train, y_train = jnp.asarray(data.x_train), jnp.asarray(data.y_train)
        x_test, x_grid = jnp.asarray(data.x_test), jnp.asarray(data.x_grid)
        f_lin = linearize(apply_fn, theta0)

        @jax.jit
        def evaluate(params, lin_params):
            xs = jnp.concatenate([x_train, x_test, x_grid])
            return apply_fn(params, xs), f_lin(lin_params, xs), _tree_dist(params, theta0)

        ntk0 = np.asarray(ntk_fn(theta0), np.float64)
        eig0 = sp.eigen(ntk0)
        eta_crit = critical_learning_rate(float(eig0.values[0]), d.n_train)
        ntk0_norm = float(np.linalg.norm(ntk0))
        theta0_norm = _tree_norm(theta0)
        n_tr, n_te = len(data.x_train), len(data.x_test)
        y = np.asarray(data.y_train, np.float64)

        f0_all = np.asarray(evaluate(theta0, theta0)[0])
        infinite, ntk_predict, grid_ntk = None, None, None
        if spec.infinite.enabled:
            infinite, ntk_predict, grid_ntk = self._infinite(data, f0_all[:n_tr], f0_all[n_tr:])
        run_spectra = _run_spectra(spec, eig0, ntk0, y, infinite, grid_ntk, data) if spec.spectra.enabled else None
        order = run_spectra.order if run_spectra is not None else None

        backend = jax.default_backend()
        no_modes = np.zeros(0)

        def snapshot(step, params, lin_params, ntk_t=None, prev_ntk=None, last_loss=math.nan):
            f_all, f_lin_all, dist = evaluate(params, lin_params)
            f_all, f_lin_all = np.asarray(f_all), np.asarray(f_lin_all)
            split = [n_tr, n_tr + n_te]
            f_tr, f_te, f_gr = np.split(f_all, split)
            l_tr, l_te, l_gr = np.split(f_lin_all, split)
            t = step * tr.learning_rate
            if ntk_predict is not None:
                n_tr_pred, n_te_pred, n_gr_pred = np.split(ntk_predict(step), split)
                mse_ntk = _mse(n_tr_pred, data.y_train), _mse(n_te_pred, data.y_test)
            else:
                n_gr_pred, mse_ntk = None, (math.nan, math.nan)
            residual = np.asarray(f_tr, np.float64) - y
            kernel_change = math.nan if ntk_t is None else float(np.linalg.norm(ntk_t - ntk0)) / ntk0_norm
            spectral = dict(mode_residual=no_modes, loss_rate_measured=math.nan, loss_rate_predicted=math.nan,
                            alignment=math.nan, kernel_velocity=math.nan, spectra=None)
            if run_spectra is not None:
                spectral.update(mode_residual=sp.mode_residuals(eig0, residual),
                                loss_rate_measured=(last_loss - 0.5 * np.mean(residual**2)) / tr.learning_rate)
                if ntk_t is not None:
                    eig_t = eig0 if ntk_t is ntk0 else sp.eigen(ntk_t)
                    spectral.update(
                        loss_rate_predicted=sp.loss_rate(ntk_t, residual),
                        alignment=sp.kernel_target_alignment(ntk_t, y),
                        kernel_velocity=math.nan if prev_ntk is None else sp.kernel_velocity(prev_ntk, ntk_t),
                        spectra=KernelSpectra(
                            eigvals=eig_t.values, energy=sp.target_energy(eig_t, y),
                            kernel_image=sp.block_average(ntk_t, order),
                            kernel_change_image=sp.block_average(ntk_t - ntk0, order),
                        ),
                    )
            return Snapshot(
                step=step, steps_total=tr.steps, time=t, wall_time=time.perf_counter() - t_start,
                mse_train_net=_mse(f_tr, data.y_train), mse_train_lin=_mse(l_tr, data.y_train),
                mse_test_net=_mse(f_te, data.y_test), mse_test_lin=_mse(l_te, data.y_test),
                mse_train_ntk=mse_ntk[0], mse_test_ntk=mse_ntk[1],
                param_change=float(dist) / theta0_norm, kernel_change=kernel_change,
                lin_gap=float(np.sqrt(np.mean((f_gr - l_gr) ** 2))),
                f_grid_net=f_gr, f_grid_lin=l_gr, f_grid_ntk=n_gr_pred, data=data,
                infinite=infinite, eta_crit=eta_crit, backend=backend, run_spectra=run_spectra,
                **spectral,
            )

        optimizer = make_optimizer(tr.learning_rate)
        state = init_train_state(theta0, optimizer)
        yield snapshot(0, state.params, state.lin_params, ntk0)

        chunks = {}
        step = 0
        prev_ntk = ntk0
        lengths = snapshot_schedule(tr.steps, tr.snapshots)
        for index, length in enumerate(lengths):
            if length not in chunks:
                chunks[length] = make_train_chunk(apply_fn, optimizer, length)
            state, (losses, lin_losses) = chunks[length](state, theta0, x_train, y_train)
            step += length
            bad = [name for name, v in (("network", losses), ("linearization", lin_losses))
                   if not np.all(np.isfinite(np.asarray(v)))]
            if bad:
                raise TrainingDiverged(
                    f"Training diverged by step {step}: the loss of the {' and the '.join(bad)} became "
                    f"NaN or inf. The learning rate {tr.learning_rate:g} is likely above the stability "
                    f"limit η_crit = 2n/λ_max(Θ̂₀) = {eta_crit:.3g} (n = {d.n_train}); set "
                    f"train.learning_rate below it and start again."
                )
            ntk_t = None
            if (index + 1) % tr.kernel_every == 0 or index == len(lengths) - 1:
                ntk_t = np.asarray(ntk_fn(state.params), np.float64)
            # The loss before the chunk's last step: with the snapshot's loss, the last step's decrease.
            yield snapshot(step, state.params, state.lin_params, ntk_t, prev_ntk, float(losses[-1]))
            if ntk_t is not None:
                prev_ntk = ntk_t

    def _infinite(self, data: Dataset, f0_train, f0_rest):
        """Analytic kernels once; returns the NNGP posterior, ``predict(step) -> f on [train, test,
        grid]`` and the analytic NTK between grid and training points (G, n)."""
        spec = self.spec
        x_rest = np.concatenate([data.x_test, data.x_grid])
        k_dd = analytic_kernels(spec.model, data.x_train)
        k_rd = analytic_kernels(spec.model, x_rest, data.x_train)
        n_test = len(data.x_test)
        k_grid_diag = k_rd.cov1[n_test:]  # the NNGP k(x, x) of the grid rows
        nngp = gradient_descent_mse(k_dd.nngp, data.y_train, diag_reg=spec.infinite.nngp_diag_reg)
        mean, var = nngp(math.inf, k_rd.nngp[n_test:], k_grid_diag)
        infinite = InfiniteWidth(
            nngp_mean=np.asarray(mean), nngp_std=np.sqrt(np.maximum(np.asarray(var), 0.0)),
            ntk_train_train=np.asarray(k_dd.ntk), nngp_train_train=np.asarray(k_dd.nngp),
        )
        ntk = gradient_descent_mse(k_dd.ntk, data.y_train, learning_rate=spec.train.learning_rate)
        k_all = np.concatenate([k_dd.ntk, k_rd.ntk])
        f0_all = np.concatenate([f0_train, f0_rest])

        def predict(step):
            return np.asarray(ntk(step, k_all, fx_train_0=f0_train, fx_test_0=f0_all))

        return infinite, predict, np.asarray(k_rd.ntk[n_test:])


def _setup(spec: ExperimentSpec):
    """The run's data, network, θ0 and jitted empirical NTK on the training set."""
    d, m = spec.data, spec.model
    data = build_dataset(d, float_dtype())
    apply_fn = make_apply_fn(m)
    theta0 = init_params(m, data.x_train.shape[1], key=jax.random.key(spec.train.seed))
    x_train = jnp.asarray(data.x_train)
    ntk_fn = jax.jit(lambda p: empirical_ntk(m, p, x_train))
    return data, apply_fn, theta0, ntk_fn


def critical_rate(spec: ExperimentSpec) -> tuple[float, float]:
    """(η_crit, λ_max) of the run ``spec`` would start: η_crit = 2n/λ_max(Θ̂₀) for the loss ‖f − y‖²/(2n).

    Gradient descent on the linearized network diverges along the top eigenvector of Θ̂₀ when
    η > η_crit (|1 − ηλ_max/n| > 1). Costs one empirical NTK at init, no training.
    """
    _, _, theta0, ntk_fn = _setup(spec)
    lambda_max = float(np.linalg.eigvalsh(np.asarray(ntk_fn(theta0), np.float64))[-1])
    return critical_learning_rate(lambda_max, spec.data.n_train), lambda_max


def _run_spectra(spec, eig0: Eigen, ntk0, y, infinite, grid_ntk, data) -> RunSpectra:
    eig_ntk_inf = eig_nngp_inf = energy_inf = functions = None
    alignment_inf = math.nan
    if infinite is not None:
        eig_inf = sp.eigen(infinite.ntk_train_train)
        eig_ntk_inf, energy_inf = eig_inf.values, sp.target_energy(eig_inf, y)
        eig_nngp_inf = sp.eigen(infinite.nngp_train_train).values
        alignment_inf = sp.kernel_target_alignment(infinite.ntk_train_train, y)
        functions = sp.nystrom_eigenfunctions(eig_inf, grid_ntk, spec.spectra.eigenfunctions, y)
    return RunSpectra(
        eig_ntk0=eig0.values, energy_ntk0=sp.target_energy(eig0, y),
        alignment_ntk0=sp.kernel_target_alignment(ntk0, y), eig_ntk_inf=eig_ntk_inf,
        eig_nngp_inf=eig_nngp_inf, energy_ntk_inf=energy_inf, alignment_ntk_inf=alignment_inf,
        eigenfunctions=functions, order=np.argsort(data.x_train[:, 0], kind="stable"),
        eps=float(np.finfo(float_dtype()).eps),
    )


def _tree_norm(tree) -> float:
    return float(np.sqrt(sum(np.sum(np.square(np.asarray(x, np.float64))) for x in jax.tree_util.tree_leaves(tree))))


def _tree_dist(a, b):
    return jnp.sqrt(sum(jnp.sum((x - y) ** 2) for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b))))
