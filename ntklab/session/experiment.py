"""A headless run: an :class:`ExperimentSpec` in, a generator of :class:`Snapshot` s out.

The run is a short loop: set up the fixed things (:func:`prepare`), then step the training state in
compiled chunks of bounded duration, and at each snapshot make an :class:`Observation` and ask the
measurement functions of :mod:`ntklab.session.measures` for the snapshot's fields.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import jax
import jax.numpy as jnp
import numpy as np

from ntklab.core import (
    Dataset,
    Elementwise,
    analytic_kernels,
    dense_weights,
    empirical_ntk,
    float_dtype,
    KernelSolveError,
    gp_posterior,
    gradient_descent_mse,
    hidden_preactivations,
    init_params,
    kernel_limit,
    learning_rate_scale,
    make_apply_fn,
    make_mlp,
    trainable_mask,
)
from ntklab.core import spectra as sp
from ntklab.core.stability import eta_crit as kernel_eta_crit
from ntklab.core.stability import kernel_in_blocks
from ntklab.core.training import (GDConsts, GDState, combine, dense_factors, half_mse, lin_outputs, make_gd_chunk,
                                  partition)
from ntklab.session.datasets import build_dataset
from ntklab.session.measures import (
    NOT_DIVERGED,
    InfiniteWidth,
    KernelSpectra,
    Observation,
    RunContext,
    RunSpectra,
    measure,
)
from ntklab.session.spec import ExperimentSpec, SpecError

CHUNK_SECONDS = 0.15  # a compiled chunk of training steps lasts about this long: Stop is seen between chunks
MAX_CHUNK = 1 << 20
LIN_LIMIT = 1e3  # a linearization whose loss grows 10³-fold has diverged (core/training.py: GDConsts)
REPLAY_SNAPSHOTS = 10  # snapshots drawn between the last snapshot and a divergence
REPLAY_SECONDS = 2.0  # a divergence is replayed from the last snapshot when that takes at most this long
SAVE_SECONDS = 1.0  # the chunks reuse the training state's buffers: a copy to replay from is kept this often

__all__ = ["Experiment", "InfiniteWidth", "KernelSpectra", "Progress", "RunSpectra", "Snapshot",
           "TrainingDiverged", "critical_rate", "snapshot_schedule"]


class TrainingDiverged(RuntimeError):
    """The network's loss became NaN or inf; the message names the likely cause and the fix."""


@dataclass(frozen=True)
class Progress:
    """Where a run is between compiled chunks: ``phase`` is "preparing", "compiling" or "training"."""

    step: int
    steps_total: int
    phase: str
    wall_time: float


Checkpoint = Callable[[Progress], bool]  # asked between chunks (≤ ~0.2 s apart); True stops the run


@dataclass(frozen=True)
class Snapshot:
    """The state of a run at one step; host NumPy arrays only.

    mse_* are mean squared errors mean((f − y)²) of f_α (the training loss C is half of mse_train);
    *_ntk is the infinite-width NTK gradient-flow prediction from the same f_α(θ0), at t = step·lr.
    f_grid_*: (G,) predictions on ``data.x_grid``. kernel_change = ‖Θ̂_t − Θ̂_0‖_F/‖Θ̂_0‖_F on the
    training set (NaN between kernel updates); lin_gap = RMS of f − f_lin on the grid;
    feature_change (hidden layers) = ‖h_l(t) − h_l(0)‖/‖h_l(0)‖ of the pre-activations on the training
    inputs, weight_change (Dense layers, readout last) = ‖W_l(t) − W_l(0)‖/‖W_l(0)‖.

    After the linearization diverges (lin_diverged_step ≥ 0) its fields are NaN; likewise the NTK ∞
    fields after ntk_diverged_step. notes: one-line remarks on the run (a diverged curve, an absent
    answer and why).

    Spectral fields (NaN / empty when ``spec.spectra.enabled`` is false): mode_residual (n,) = V₀ᵀ(f − y),
    the network's training residual in the eigenbasis of Θ̂₀ (largest λ first); loss_rate_measured =
    −ΔC/Δt of the network's loss C = ‖f − y‖²/(2n) over the last step (t = step·η), loss_rate_rounding:
    the rate that float rounding alone can show; at kernel updates only (NaN between):
    loss_rate_predicted = ‖∂C/∂f‖²_Θ̂ = rᵀΘ̂_t r/n², alignment = kernel-target alignment of Θ̂_t,
    kernel_velocity = 1 − cos(Θ̂ of the previous update, Θ̂_t), and ``spectra``. accuracy_test_*: sign
    agreement on the test points for ±1 targets (NaN otherwise).
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
    feature_change: np.ndarray
    weight_change: np.ndarray
    data: Dataset
    infinite: InfiniteWidth | None
    eta_crit: float
    backend: str
    mode_residual: np.ndarray
    loss_rate_measured: float
    loss_rate_rounding: float
    loss_rate_predicted: float
    alignment: float
    kernel_velocity: float
    spectra: KernelSpectra | None
    run_spectra: RunSpectra | None
    accuracy_test_net: float
    accuracy_test_lin: float
    accuracy_test_ntk: float
    lin_diverged_step: int
    ntk_diverged_step: int
    notes: tuple[str, ...]
    precision: str


def snapshot_schedule(steps: int, snapshots: int) -> list[int]:
    """Lengths between snapshots: ``snapshots`` equal ones (as far as they divide ``steps``), then the rest."""
    chunk = max(1, steps // snapshots)
    lengths = [chunk] * (steps // chunk)
    if steps % chunk:
        lengths.append(steps % chunk)
    return lengths


# --- the model of a run -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Model:
    """Network, data and θ0 of a run, on the device, in the run's precision."""

    data: Dataset
    apply_fn: Callable
    theta0: list
    mask: list
    x_train: jax.Array
    y_train: jax.Array
    x_all: jax.Array  # [train | test | grid], or [train | test] when the grid is the test set
    grid_is_test: bool
    ntk_rows: Callable  # (start, stop) -> Θ̂₀(X[start:stop], X)


def _check_data(data: Dataset, dtype, source: str) -> None:
    """Non-finite data is a data problem (named so), not a learning-rate one."""
    where = {"expression": "data.expression", "csv": "data.csv_path"}.get(source, "data.noise, the target")
    for name, value in (("inputs", data.x_train), ("training targets", data.y_train), ("test inputs", data.x_test),
                        ("test targets", data.y_test), ("grid", data.x_grid)):
        if not np.all(np.isfinite(value)):
            big = np.abs(np.asarray(value, np.float64))
            largest = np.nanmax(big) if not np.all(np.isnan(big)) else math.nan
            raise SpecError(f"data: the {name} are not finite in {np.dtype(dtype).name} (largest magnitude "
                            f"{largest:.3g}); check "
                            f"{where} and the input range, or use train.precision = float64.")


def draw_theta0(model, in_dim: int, seed: int, dtype) -> list:
    """θ0 of ``seed``, drawn in float32 and cast to ``dtype``: both precisions start from the same network."""
    theta0 = init_params(model, in_dim, key=jax.random.key(seed), dtype=jnp.float32)
    return jax.tree_util.tree_map(lambda a: a.astype(dtype), theta0)


def run_dataset(spec: ExperimentSpec) -> Dataset:
    """The run's data in the run's precision (call inside its ``jax.enable_x64``); a :class:`SpecError`
    names the setting when the data is not finite."""
    dtype = float_dtype()
    with np.errstate(all="ignore"):  # overflow is reported by _check_data, by name
        data = build_dataset(spec.data, dtype)
    _check_data(data, dtype, spec.data.source)
    return data


def grid_is_test_set(data: Dataset) -> bool:
    """'points' views plot predicted vs true on the test points: the grid is the test set, evaluated once."""
    return data.x_grid.shape == data.x_test.shape and np.array_equal(data.x_grid, data.x_test)


def evaluated_points(data: Dataset) -> tuple[jax.Array, bool]:
    """(x_all, grid_is_test): the inputs every evaluation runs on, [train | test | grid], or [train |
    test] when the grid is the test set."""
    grid_is_test = grid_is_test_set(data)
    parts = [jnp.asarray(data.x_train), jnp.asarray(data.x_test)] + ([] if grid_is_test else [jnp.asarray(data.x_grid)])
    return jnp.concatenate(parts), grid_is_test


def _model(spec: ExperimentSpec) -> _Model:
    """Builds the run's data and θ0. θ0 is drawn in float32 and cast, so both precisions start alike."""
    dtype = float_dtype()
    data = run_dataset(spec)
    m = spec.model
    theta0 = draw_theta0(m, data.x_train.shape[1], spec.train.seed, dtype)
    x_train = jnp.asarray(data.x_train)
    x_all, grid_is_test = evaluated_points(data)
    trainable = spec.train.trainable

    @jax.jit
    def rows(params, x):
        return empirical_ntk(m, params, x, x_train, trainable=trainable)

    return _Model(data=data, apply_fn=make_apply_fn(m), theta0=theta0,
                  mask=trainable_mask(m, theta0, trainable), x_train=x_train,
                  y_train=jnp.asarray(data.y_train), x_all=x_all, grid_is_test=grid_is_test,
                  ntk_rows=lambda start, stop: rows(theta0, x_train[start:stop]))


def critical_rate(spec: ExperimentSpec, should_stop: Callable[[], bool] | None = None) -> tuple[float, float]:
    """(η_crit, λ_max) of the run ``spec`` would start: η_crit = 2n/λ_max(Θ̂₀) for the loss ‖f − y‖²/(2n).

    Gradient descent on the linearized network diverges along the top eigenvector of Θ̂₀ when
    η > η_crit (|1 − ηλ_max/n| > 1). Costs one empirical NTK at init (in row blocks, between which
    ``should_stop()`` may end it: then (nan, nan)) and a Lanczos λ_max, no training. The run computes
    its own η_crit with the same functions, on the same kernel.
    """
    with jax.enable_x64(spec.train.precision == "float64"):
        model = _model(spec)
        ntk0 = kernel_in_blocks(model.ntk_rows, len(model.data.x_train), should_stop=should_stop)
        if ntk0 is None:
            return math.nan, math.nan
        return kernel_eta_crit(ntk0)


def make_evaluate(model, apply_fn, *, alpha: float, linearization: str):
    """``evaluate(params, lin, fixed) -> (f_all, f_lin_all, loss, ‖θ − θ0‖, feature_change, weight_change)``,
    not jitted (a sweep ``vmap`` s it over seeds). ``fixed`` = (consts, x_all, offset_all, fa0_all,
    ntk0_all, theta0, W_l(θ0) of every Dense layer).

    Its cost is in reading the weight matrices: θ's are read by the forward on all points and by one
    forward on the training points (the loss as the training step computes it and the hidden
    pre-activations together), θ0's by its forward on the training points, and the two side by side
    once for the squared differences that give both ‖θ − θ0‖ and each ‖W − W0‖.
    """
    lin_at = lin_outputs(apply_fn, alpha=alpha, linearization=linearization)
    net = make_mlp(model)

    def forward(theta, x):
        """f(θ, x) and the hidden pre-activations (as ``core.hidden_preactivations``) in one pass."""
        h, pre = x, []
        for layer, p in zip(net.layers[:-1], theta[:-1]):
            h = layer.apply(p, h)
            if not isinstance(layer, Elementwise):
                pre.append(h)
        return net.layers[-1].apply(theta[-1], h)[:, 0], pre

    def rel(a, b):
        norm = jnp.linalg.norm(b)
        return jnp.linalg.norm(a - b) / jnp.where(norm > 0, norm, 1.0)

    def evaluate(params, lin, fixed):
        consts, x_all, offset_all, fa0_all, ntk0_all, theta0, w0 = fixed
        theta = combine(params, consts.frozen)
        f_all = alpha * (apply_fn(theta, x_all) - offset_all)
        f_lin_all = lin_at(lin, consts, x_all, fa0_all, ntk0_all)
        f_train, pre = forward(theta, consts.x)
        loss = half_mse(alpha * (f_train - consts.offset), consts.y)
        # h(θ0) in the same graph as h(θ): exactly 0 at θ0, whatever XLA's fusion does to rounding
        _, pre0 = forward(theta0, consts.x)
        leaves = jax.tree_util.tree_leaves(theta)
        squares = [jnp.sum((a - b) ** 2) for a, b in zip(leaves, jax.tree_util.tree_leaves(theta0))]
        dist = jnp.sqrt(sum(squares))
        features = [rel(h, h0) for h, h0 in zip(pre, pre0)]
        weights = []
        for w, w_0 in zip(dense_weights(model, theta), w0):
            k = next(i for i, leaf in enumerate(leaves) if leaf is w)
            norm0 = jnp.linalg.norm(w_0)
            weights.append(jnp.sqrt(squares[k]) / jnp.where(norm0 > 0, norm0, 1.0))
        return f_all, f_lin_all, loss, dist, jnp.stack(features or [jnp.zeros(())]), jnp.stack(weights)

    return evaluate


# --- the run -------------------------------------------------------------------------------------


class Experiment:
    """Runs ``spec``: ``for snap in Experiment(spec).run(): ...``. Constructing it is cheap."""

    def __init__(self, spec: ExperimentSpec):
        self.spec = spec

    def run(self, checkpoint: Checkpoint | None = None) -> Iterator[Snapshot]:
        """Yields the snapshot at step 0, then one at each scheduled step.

        ``checkpoint(progress)`` is asked between compiled chunks (each lasts ~0.15 s): it may block
        (pause) and returns True to stop; the run then yields a last snapshot at the step reached
        and ends. Raises :class:`TrainingDiverged` when the network's loss becomes non-finite, after
        yielding snapshots up to the last finite step. Closing the generator stops the run too. The
        run computes in ``spec.train.precision`` (JAX's x64 switch, thread-local, is on while the
        generator runs in float64).
        """
        with jax.enable_x64(self.spec.train.precision == "float64"):
            yield from _Run(self.spec, checkpoint).snapshots()


class _Run:
    """One run's state machine; :meth:`snapshots` is the generator behind :meth:`Experiment.run`."""

    def __init__(self, spec: ExperimentSpec, checkpoint: Checkpoint | None):
        self.spec, self.checkpoint = spec, checkpoint
        self.t_start = time.perf_counter()
        self.step = 0

    def _ask(self, phase: str) -> bool:
        if self.checkpoint is None:
            return False
        return bool(self.checkpoint(Progress(self.step, self.spec.train.steps, phase,
                                             time.perf_counter() - self.t_start)))

    def snapshots(self) -> Iterator[Snapshot]:
        tr = self.spec.train
        if self._ask("preparing"):
            return
        self._prepare()
        state = self.state0
        self.step_seconds = math.inf
        self._save(state)
        yield self._snapshot(self._observe(state, self.ntk0))
        self.last_yielded, prev_ntk = 0, self.ntk0
        chunk_len, compiled = 1, set()
        targets = np.cumsum(snapshot_schedule(tr.steps, tr.snapshots))
        for index, target in enumerate(targets):
            while self.step < target:
                with_lin = self.lin_diverged == NOT_DIVERGED
                if self._ask("training" if with_lin in compiled else "compiling"):
                    if self.step > self.last_yielded:  # what was computed since the last snapshot
                        yield self._snapshot(self._observe(state))
                    return
                if time.perf_counter() - self.saved[2] >= SAVE_SECONDS:
                    self._save(state)
                start_step = self.step
                n = int(min(chunk_len, target - self.step))
                started = time.perf_counter()
                state, stats = self.chunks[with_lin](state, self.consts, n)
                stats = jax.device_get(stats)
                if with_lin in compiled:  # the first call of a chunk function includes compiling it
                    elapsed = time.perf_counter() - started
                    chunk_len = int(np.clip(n * CHUNK_SECONDS / max(elapsed, 1e-6), 1, MAX_CHUNK))
                    self.step_seconds = elapsed / n
                compiled.add(with_lin)
                self.step += n
                self.last_loss = float(stats.loss)
                if stats.net_bad >= 0:
                    yield from self._diverged(start_step, start_step + int(stats.net_bad))
                if with_lin and stats.lin_bad >= 0:
                    self._lin_diverged(start_step + int(stats.lin_bad))
            ntk_t = None
            if (index + 1) % tr.kernel_every == 0 or index == len(targets) - 1:
                ntk_t = np.asarray(self.ntk_fn(combine(state.params, self.consts.frozen), self.model.x_train),
                                   np.float64)
            obs = self._observe(state, ntk_t, prev_ntk)
            if not np.all(np.isfinite(obs.f_net)):  # the chunk's last update overflowed
                yield from self._diverged(start_step, self.step)
            yield self._snapshot(obs)
            self.last_yielded = self.step
            if ntk_t is not None:
                prev_ntk = ntk_t

    # --- set-up ------------------------------------------------------------------------------

    def _prepare(self) -> None:
        spec, tr, m = self.spec, self.spec.train, self.spec.model
        model = _model(spec)
        self.model, data = model, model.data
        n, n_te = len(data.x_train), len(data.x_test)
        self.split = (n, n + n_te)
        apply_fn = model.apply_fn
        alpha, centered = float(getattr(m, "output_scale", 1.0)), bool(getattr(m, "centered", False))
        self.alpha = alpha
        train0, frozen = partition(model.theta0, model.mask)
        f0_all = jax.jit(apply_fn)(model.theta0, model.x_all)
        offset_all = f0_all if centered else jnp.zeros_like(f0_all)
        fa0_all = alpha * (f0_all - offset_all)
        self.fa0_all = fa0_all
        trainable = tr.trainable
        self.ntk_fn = jax.jit(lambda p, x: empirical_ntk(m, p, x, trainable=trainable))
        ntk0_dev = self.ntk_fn(model.theta0, model.x_train)
        self.ntk0 = ntk0 = np.asarray(ntk0_dev, np.float64)
        eta_crit, _ = kernel_eta_crit(ntk0)
        self.eta_crit = eta_crit
        function_space = tr.linearization == "function"
        ntk0_all = (jax.jit(lambda p, x1, x2: empirical_ntk(m, p, x1, x2, trainable=trainable))(
                        model.theta0, model.x_all, model.x_train) if function_space else jnp.zeros((0, 0), fa0_all.dtype))
        self.ntk0_all = ntk0_all
        loss0 = half_mse(fa0_all[:n], model.y_train)
        net = make_mlp(m)
        lin_factors = () if function_space else jax.jit(lambda p, x: dense_factors(net, p, x)[1])(
            model.theta0, model.x_train)  # the parameter-space linearization's J(θ0) in factors, once per run
        self.consts = GDConsts(frozen=frozen, theta0=train0, x=model.x_train, y=model.y_train,
                               offset=offset_all[:n], fa0=fa0_all[:n],
                               ntk0=ntk0_all[:n] if function_space else ntk0_all,
                               lin_limit=LIN_LIMIT * loss0 + jnp.finfo(loss0.dtype).tiny, lin_factors=lin_factors)
        lin0 = jnp.zeros(n, fa0_all.dtype) if function_space else train0
        # a copy: the chunks consume their state's buffers, and θ0's stay in consts and the evaluation
        self.state0 = jax.tree_util.tree_map(jnp.copy, GDState(train0, lin0))
        kw = dict(alpha=alpha, learning_rate=tr.learning_rate, lr_scale=learning_rate_scale(m),
                  linearization=tr.linearization)
        kw.update(net=net, donate=True)  # the factored step (core/training.py), in place
        self.chunks = {True: make_gd_chunk(apply_fn, **kw, with_lin=True),
                       False: make_gd_chunk(apply_fn, **kw, with_lin=False)}
        self.last_loss = math.nan
        self.lin_diverged = self.ntk_diverged = NOT_DIVERGED
        self.notes: tuple[str, ...] = ()
        self.evaluate = self._make_evaluate(offset_all)

        infinite = ntk_predict = grid_ntk = None
        fixed_notes = []
        limit = kernel_limit(m)
        if spec.infinite.enabled and limit is not None:
            fixed_notes.append(f"NTK ∞ and NNGP not drawn: {limit}")
        elif spec.infinite.enabled:
            infinite, ntk_predict, grid_ntk, more = self._infinite(np.asarray(fa0_all))
            fixed_notes += more
        y = np.asarray(data.y_train, np.float64)
        eig0 = run_spectra = None
        if spec.spectra.enabled:
            eig0 = sp.eigen(ntk0)
            run_spectra = _run_spectra(spec, eig0, ntk0, y, infinite, grid_ntk, data)
        self.ctx = RunContext(
            steps_total=tr.steps, learning_rate=tr.learning_rate, data=data, split=self.split, y_train=y,
            ntk0=ntk0, ntk0_norm=float(np.linalg.norm(ntk0)) or 1.0,
            theta0_norm=_tree_norm(model.theta0) or 1.0, eig0=eig0, eta_crit=eta_crit, infinite=infinite,
            ntk_predict=ntk_predict, run_spectra=run_spectra, backend=jax.default_backend(),
            precision=tr.precision, eps=float(np.finfo(float_dtype()).eps), notes=tuple(fixed_notes),
            grid_is_test=model.grid_is_test)

    def _make_evaluate(self, offset_all):
        """The jitted per-snapshot evaluation; large fixed arrays are its arguments, not constants."""
        m, model = self.spec.model, self.model
        self._n_hidden = len(hidden_preactivations(m, model.theta0, model.x_train))
        fixed = (self.consts, model.x_all, offset_all, self.fa0_all, self.ntk0_all, model.theta0,
                 dense_weights(m, model.theta0))
        evaluate = jax.jit(make_evaluate(m, model.apply_fn, alpha=self.alpha,
                                         linearization=self.spec.train.linearization))
        return lambda params, lin: evaluate(params, lin, fixed)

    def _infinite(self, fa0_all: np.ndarray):
        """Analytic kernels once: the NNGP posterior, ``predict(step) -> f on [train, test, grid]`` and
        the analytic NTK between grid and training points (G, n); plus notes on what failed."""
        infinite, flow, grid_ntk, notes, _ = infinite_answers(self.spec, self.model.data)
        predict = None if flow is None else (lambda step: flow(step, fa0_all))
        return infinite, predict, grid_ntk, notes

    # --- observations and snapshots ----------------------------------------------------------

    def _observe(self, state: GDState, ntk_t=None, prev_ntk=None, last_loss=math.nan) -> Observation:
        f_all, f_lin_all, loss, dist, features, weights = jax.device_get(self.evaluate(state.params, state.lin))
        lin_ok = self.lin_diverged == NOT_DIVERGED and np.all(np.isfinite(f_lin_all))
        if not lin_ok and self.lin_diverged == NOT_DIVERGED:
            self._lin_diverged(self.step)
        return Observation(
            step=self.step, wall_time=time.perf_counter() - self.t_start, f_net=np.asarray(f_all),
            f_lin=np.asarray(f_lin_all) if lin_ok else None, loss=float(loss),
            last_loss=self.last_loss if self.step else math.nan,
            param_dist=float(dist), feature_change=np.asarray(features)[: self._n_hidden],
            weight_change=np.asarray(weights), ntk_t=ntk_t, prev_ntk=prev_ntk,
            lin_diverged_step=self.lin_diverged, ntk_diverged_step=self.ntk_diverged, notes=self.notes)

    def _snapshot(self, obs: Observation) -> Snapshot:
        ctx = self.ctx
        fields = measure(ctx, obs)
        if fields["f_grid_ntk"] is not None and not np.all(np.isfinite(fields["f_grid_ntk"])):
            self.ntk_diverged = obs.step
            self.notes += (f"The NTK ∞ answer became non-finite at step {obs.step}; it is not drawn after it.",)
            fields = measure(ctx, replace(obs, ntk_diverged_step=obs.step, notes=self.notes))
        return Snapshot(**fields, data=ctx.data, infinite=ctx.infinite, eta_crit=ctx.eta_crit,
                        backend=ctx.backend, run_spectra=ctx.run_spectra, precision=ctx.precision)

    # --- divergence ----------------------------------------------------------------------------

    def _lin_diverged(self, step: int) -> None:
        self.lin_diverged = step
        tr, n = self.spec.train, len(self.model.data.x_train)
        lam = 2 * n / self.eta_crit
        why = (f"with its kernel fixed at Θ̂₀ its top mode grows by |1 − ηλ_max/n| = "
               f"{abs(1 - tr.learning_rate * lam / n):.3g} per step (η = {tr.learning_rate:g} > η_crit = "
               f"{self.eta_crit:.4g}); the network trains on: its kernel can move (the catapult phase, "
               f"Lewkowycz et al. 2020)" if tr.learning_rate > self.eta_crit else
               "its loss grew a thousandfold or became inf or NaN")
        self.notes += (f"The linearization diverged at step {step}: {why}.",)

    def _save(self, state: GDState) -> None:
        """Keeps a copy of ``state`` (the chunks consume the buffers they are given) to replay from."""
        self.saved = (self.step, jax.tree_util.tree_map(jnp.copy, state), time.perf_counter())

    def _diverged(self, start_step: int, bad_step: int) -> Iterator[Snapshot]:
        """Replays from the last saved state to the last finite step before ``bad_step``, yields
        snapshots on the way from the last snapshot (or, when that is far back, from the failed chunk's
        start ``start_step``), then raises :class:`TrainingDiverged`."""
        from_step = self.last_yielded
        if (start_step - from_step) * self.step_seconds > REPLAY_SECONDS:
            from_step = start_step
        saved_step, state, _ = self.saved
        last_ok, from_step = bad_step - 1, max(from_step, saved_step)
        self.step = saved_step
        chunk = self.chunks[self.lin_diverged == NOT_DIVERGED]
        if last_ok > from_step:
            marks = np.unique(np.linspace(from_step, last_ok, REPLAY_SNAPSHOTS + 1).round().astype(int))[1:]
            for mark in marks:
                state, _ = chunk(state, self.consts, int(mark - self.step))
                self.step = int(mark)
                obs = self._observe(state)
                if not np.all(np.isfinite(obs.f_net)):
                    break
                yield self._snapshot(obs)
        tr, n = self.spec.train, len(self.model.data.x_train)
        if tr.learning_rate > self.eta_crit:
            why = (f"The learning rate {tr.learning_rate:g} is likely above the stability limit η_crit = "
                   f"2n/λ_max(Θ̂₀) = {self.eta_crit:.3g} (n = {n}); set train.learning_rate below it and start again.")
        else:
            why = (f"The learning rate {tr.learning_rate:g} is below η_crit = {self.eta_crit:.3g} at initialization, "
                   f"so the kernel grew during training or the values overflowed {self.spec.train.precision}; "
                   f"lower train.learning_rate, or set train.precision = float64.")
        raise TrainingDiverged(f"Training diverged at step {bad_step}: the network's loss became NaN or inf. {why}")


def infinite_answers(spec: ExperimentSpec, data: Dataset, *, nngp_points: bool = False):
    """Analytic kernels once: (InfiniteWidth, ``flow(step, fa0_all) -> f on the evaluated points``
    ([train, test, grid], or [train, test] when the grid is the test set), the analytic NTK between
    grid and training points (G, n), notes on what failed, and with ``nngp_points`` the NNGP posterior
    mean on [train | test] (else None)).

    ``flow`` is the NTK ∞ gradient flow from the network's own outputs at init fa0_all (Lee et al.
    2019, eq. 9); it keeps one eigendecomposition for every step and every fa0_all (a sweep's seeds).
    """
    notes = []
    kw = {"trainable": spec.train.trainable}
    grid_is_test = grid_is_test_set(data)
    x_rest = data.x_test if grid_is_test else np.concatenate([data.x_test, data.x_grid])
    k_dd = analytic_kernels(spec.model, data.x_train, **kw)
    k_rd = analytic_kernels(spec.model, x_rest, data.x_train, **kw)
    n_test = 0 if grid_is_test else len(data.x_test)  # where the grid's rows start in k_rd
    if not all(np.all(np.isfinite(a)) for a in (k_dd.ntk, k_dd.nngp, k_rd.ntk, k_rd.nngp)):
        return None, None, None, ["NTK ∞ and NNGP not drawn: the analytic kernel is not finite at these "
                                  "settings (its variances overflow); lower model.w_std or model.depth."], None
    k_grid_diag = k_rd.cov1[n_test:]  # the NNGP k(x, x) of the grid rows
    nngp_mean = nngp_std = None
    reg = spec.infinite.nngp_diag_reg
    try:
        post = gp_posterior(k_dd.nngp, data.y_train, k_rd.nngp[n_test:], k_grid_diag, diag_reg=reg)
    except KernelSolveError as exc:
        notes.append(f"NNGP posterior not drawn: K + {reg:g}·tr(K)/n·I is not positive definite in "
                     f"{spec.train.precision} (λ_min {exc.lambda_min:.3g}); raise infinite.nngp_diag_reg "
                     f"(NNGP diag reg) to {exc.suggested_diag_reg:g} or more.")
    else:
        if np.any(post.negative):
            worst = int(np.argmin(post.variance))
            notes.append(f"NNGP posterior ±2σ not drawn: its variance is negative beyond rounding "
                         f"({post.variance[worst]:.3g} < −{post.variance_rounding[worst]:.2g}); raise "
                         f"infinite.nngp_diag_reg (NNGP diag reg) or use train.precision = float64.")
            nngp_mean = np.asarray(post.mean, np.float64)
        else:  # within rounding of 0: drawn as 0
            nngp_mean = np.asarray(post.mean, np.float64)
            nngp_std = np.sqrt(np.maximum(np.asarray(post.variance, np.float64), 0.0))
    infinite = InfiniteWidth(nngp_mean=nngp_mean, nngp_std=nngp_std, ntk_train_train=np.asarray(k_dd.ntk),
                             nngp_train_train=np.asarray(k_dd.nngp))
    ntk = gradient_descent_mse(k_dd.ntk, data.y_train, learning_rate=spec.train.learning_rate)
    k_all = np.concatenate([k_dd.ntk, k_rd.ntk])
    n = len(data.x_train)

    def flow(step, fa0_all):
        return np.asarray(ntk(step, k_all, fx_train_0=fa0_all[:n], fx_test_0=fa0_all))

    nngp_fit = None
    if nngp_points and nngp_mean is not None:
        m_test = len(data.x_test)  # the test rows come first in k_rd
        k_fit = np.concatenate([k_dd.nngp, k_rd.nngp[:m_test]])
        diag_fit = np.concatenate([k_dd.cov1, k_rd.cov1[:m_test]])
        fit = np.asarray(gp_posterior(k_dd.nngp, data.y_train, k_fit, diag_fit, diag_reg=reg).mean, np.float64)
        nngp_fit = fit if np.all(np.isfinite(fit)) else None
    return infinite, flow, np.asarray(k_rd.ntk[n_test:]), notes, nngp_fit


def _run_spectra(spec, eig0, ntk0, y, infinite, grid_ntk, data) -> RunSpectra:
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
        eigenfunctions=functions, order=_order(data),
        eps=float(np.finfo(float_dtype()).eps),
    )


def _order(data: Dataset) -> np.ndarray:
    """Training points in the order the kernel heatmaps show them: by angle on the circle, else by x₁."""
    x = np.asarray(data.x_train, np.float64)
    key = np.arctan2(x[:, 1], x[:, 0]) if getattr(data, "view", "line") == "circle" else x[:, 0]
    return np.argsort(key, kind="stable")


def _tree_norm(tree) -> float:
    return float(np.sqrt(sum(np.sum(np.square(np.asarray(x, np.float64))) for x in jax.tree_util.tree_leaves(tree))))
