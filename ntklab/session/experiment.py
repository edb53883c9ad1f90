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
    analytic_kernels,
    critical_learning_rate,
    empirical_ntk,
    gradient_descent_mse,
    init_params,
    init_train_state,
    linearize,
    make_apply_fn,
    make_dataset,
    make_optimizer,
    make_train_chunk,
)
from ntklab.session.spec import ExperimentSpec


class TrainingDiverged(RuntimeError):
    """The loss became NaN or inf; the message names the likely cause and the fix."""


@dataclass(frozen=True)
class InfiniteWidth:
    """Time-independent infinite-width answers on the grid: NNGP posterior mean and std (G,)."""

    nngp_mean: np.ndarray
    nngp_std: np.ndarray
    ntk_train_train: np.ndarray  # analytic NTK on the training set, (n, n)


@dataclass(frozen=True)
class Snapshot:
    """The state of a run at one step; host NumPy arrays only.

    mse_* are mean squared errors mean((f − y)²) (the training loss is half of mse_train);
    *_ntk is the infinite-width NTK gradient-flow prediction from the same f(θ0), at t = step·lr.
    f_grid_*: (G,) predictions on ``data.x_grid``. kernel_change = ‖Θ̂_t − Θ̂_0‖_F/‖Θ̂_0‖_F on the
    training set (NaN between kernel updates); lin_gap = RMS of f − f_lin on the grid.
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
        d, m, tr = spec.data, spec.model, spec.train
        data = make_dataset(d.preset, d.n_train, d.n_test, d.noise, d.seed, d.x_min, d.x_max)
        x_train, y_train = jnp.asarray(data.x_train), jnp.asarray(data.y_train)
        x_test, x_grid = jnp.asarray(data.x_test), jnp.asarray(data.x_grid)
        apply_fn = make_apply_fn(m)
        theta0 = init_params(m, data.x_train.shape[1], key=jax.random.key(tr.seed))
        f_lin = linearize(apply_fn, theta0)

        @jax.jit
        def evaluate(params, lin_params):
            xs = jnp.concatenate([x_train, x_test, x_grid])
            return apply_fn(params, xs), f_lin(lin_params, xs), _tree_dist(params, theta0)

        ntk_fn = jax.jit(lambda p: empirical_ntk(m, p, x_train))
        ntk0 = np.asarray(ntk_fn(theta0), np.float64)
        lambda_max = float(np.linalg.eigvalsh(ntk0)[-1])
        eta_crit = critical_learning_rate(lambda_max, d.n_train)
        ntk0_norm = float(np.linalg.norm(ntk0))
        theta0_norm = _tree_norm(theta0)
        n_tr, n_te = len(data.x_train), len(data.x_test)

        f0_all = np.asarray(evaluate(theta0, theta0)[0])
        infinite, ntk_predict = None, None
        if spec.infinite.enabled:
            infinite, ntk_predict = self._infinite(data, f0_all[:n_tr], f0_all[n_tr:])

        backend = jax.default_backend()

        def snapshot(step, params, lin_params, kernel_change):
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
            return Snapshot(
                step=step, steps_total=tr.steps, time=t, wall_time=time.perf_counter() - t_start,
                mse_train_net=_mse(f_tr, data.y_train), mse_train_lin=_mse(l_tr, data.y_train),
                mse_test_net=_mse(f_te, data.y_test), mse_test_lin=_mse(l_te, data.y_test),
                mse_train_ntk=mse_ntk[0], mse_test_ntk=mse_ntk[1],
                param_change=float(dist) / theta0_norm, kernel_change=kernel_change,
                lin_gap=float(np.sqrt(np.mean((f_gr - l_gr) ** 2))),
                f_grid_net=f_gr, f_grid_lin=l_gr, f_grid_ntk=n_gr_pred, data=data,
                infinite=infinite, eta_crit=eta_crit, backend=backend,
            )

        optimizer = make_optimizer(tr.learning_rate)
        state = init_train_state(theta0, optimizer)
        yield snapshot(0, state.params, state.lin_params, 0.0)

        chunks = {}
        step = 0
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
            last = index == len(lengths) - 1
            kernel_change = math.nan
            if (index + 1) % tr.kernel_every == 0 or last:
                ntk_t = np.asarray(ntk_fn(state.params), np.float64)
                kernel_change = float(np.linalg.norm(ntk_t - ntk0)) / ntk0_norm
            yield snapshot(step, state.params, state.lin_params, kernel_change)

    def _infinite(self, data: Dataset, f0_train, f0_rest):
        """Analytic kernels once; returns the NNGP posterior and ``predict(step) -> f on [train, test, grid]``."""
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
            ntk_train_train=np.asarray(k_dd.ntk),
        )
        ntk = gradient_descent_mse(k_dd.ntk, data.y_train, learning_rate=spec.train.learning_rate)
        k_all = np.concatenate([k_dd.ntk, k_rd.ntk])
        f0_all = np.concatenate([f0_train, f0_rest])

        def predict(step):
            return np.asarray(ntk(step, k_all, fx_train_0=f0_train, fx_test_0=f0_all))

        return infinite, predict


def _tree_norm(tree) -> float:
    return float(np.sqrt(sum(np.sum(np.square(np.asarray(x, np.float64))) for x in jax.tree_util.tree_leaves(tree))))


def _tree_dist(a, b):
    return jnp.sqrt(sum(jnp.sum((x - y) ** 2) for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b))))
