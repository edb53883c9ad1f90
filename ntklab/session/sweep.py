"""Sweeps: one experiment run at each value of a setting × init seeds (× data seeds), headless.

``for point in Sweep(spec).run(): ...`` yields finished :class:`SweepPoint` s, one per run, with the
run's final values (the snapshot's measurement functions of :mod:`ntklab.session.measures` applied to
its last observation). The seeds of one value run together: their networks are one batch under
``jax.vmap``, stepped by one compiled chunk (one compile per shape; the learning rate is an
argument, so a learning-rate sweep compiles once). :class:`SweepFolder` writes the points as they
finish (``points.csv``, append-only) and, at the end or on a stop, ``sweep.npz``, ``summary.json``
(fitted power laws) and the PNG the caller renders. A restarted sweep skips the points already in
``points.csv``. :meth:`Sweep.run_ray` sends each value's batch to a Ray cluster instead (optional
extra ``ntklab[cluster]``; Ray is imported there and nowhere else).
"""

from __future__ import annotations

import contextlib
import csv
import functools
import io
import json
import logging
import math
import os
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ntklab import __version__
from ntklab.core import (
    analytic_kernels,
    dense_weights,
    empirical_ntk,
    float_dtype,
    hidden_preactivations,
    init_params,
    kernel_limit,
    learning_rate_scale,
    make_apply_fn,
    trainable_mask,
)
from ntklab.core.learning_curve import learning_curve, sample_spectrum
from ntklab.core.stability import eta_crit as kernel_eta_crit
from ntklab.core.training import GDConsts, GDState, combine, half_mse, make_gd_steps, partition
from ntklab.session.atomic import atomic_write_bytes, atomic_write_text
from ntklab.session.experiment import (
    CHUNK_SECONDS,
    LIN_LIMIT,
    MAX_CHUNK,
    draw_theta0,
    evaluated_points,
    infinite_answers,
    make_evaluate,
    run_dataset,
)
from ntklab.session.measures import NOT_DIVERGED, SWEEP_MEASUREMENTS, Observation, RunContext, measure
from ntklab.session.resources import MEMORY_SHARE, check_resources, estimate, physical_memory
from ntklab.session.spec import (
    ExperimentSpec,
    SpecError,
    dump_spec,
    load_spec,
    short,
    spec_hash,
    sweep_kind,
    sweep_point_spec,
    sweep_values,
)

# The scalar measures of a point, in the order of points.csv (per-layer columns follow them).
MEASURES = (
    "mse_train_net", "mse_test_net", "mse_train_lin", "mse_test_lin", "mse_train_ntk", "mse_test_ntk",
    "mse_train_nngp", "mse_test_nngp", "lin_gap", "lin_gap_test", "ntk_gap_test", "param_change", "kernel_change",
    "lambda_max", "lambda_min", "eta_crit", "accuracy_test_net", "accuracy_test_lin", "accuracy_test_ntk",
)
LAYER_MEASURES = ("feature_change", "weight_change")
TAIL_COLUMNS = ("diverged_step", "lin_diverged_step", "wall_time", "batch_size", "notes")
SWEEP_FILES = ("points.csv", "sweep.json", "summary.json", "sweep.npz", "sweep.png", "experiment.toml", "README.txt")
THEORY_SAMPLES = (1024, 3000)  # inputs sampled for the NTK ∞ spectrum: 8 × the largest n_train, within these
THEORY_MAX_N = 2048  # no learning curve for n_train beyond this (the sample could not resolve it)

__all__ = ["MEASURES", "Sweep", "SweepFolder", "SweepPoint", "SweepProgress", "fit_power_law", "fit_slopes",
           "load_sweep", "predicted_learning_curve", "ray_fork_warning_silenced", "ray_runtime_env", "run_batch", "value_key"]


# --- points --------------------------------------------------------------------------------------


def value_key(value) -> str:
    """A swept value as points.csv writes it (and reads it back): repr for floats, exact both ways."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


@dataclass(frozen=True)
class SweepPoint:
    """One finished run: the swept ``value``, its ``seed`` (train.seed) and ``data_seed`` (data.seed),
    and ``fields``: every scalar measure (:data:`MEASURES`, ``feature_change[l]``, ``weight_change[l]``
    with l = 1 the first hidden layer, ``diverged_step``, ``lin_diverged_step``, ``wall_time``: the
    seconds of the batch that computed it, ``batch_size``: how many seeds ran in that batch).
    ``spec``: the point's own experiment (no [sweep]): the run it summarizes."""

    field: str
    value: Any
    seed: int
    data_seed: int
    fields: dict[str, float]
    notes: tuple[str, ...] = ()
    spec: ExperimentSpec | None = None

    @property
    def key(self) -> tuple[str, int, int]:
        return value_key(self.value), self.seed, self.data_seed

    def row(self) -> dict[str, Any]:
        return {self.field: value_key(self.value), "seed": self.seed, "data_seed": self.data_seed,
                **self.fields, "notes": " | ".join(self.notes)}


@dataclass(frozen=True)
class SweepProgress:
    """Where a sweep is: points ``done`` of ``total``; the batch in flight (its value, step of
    steps_total, phase "preparing", "compiling" or "training"); seconds since the sweep started."""

    done: int
    total: int
    value: Any
    step: int
    steps_total: int
    phase: str
    wall_time: float


SweepCheckpoint = Callable[[SweepProgress], bool]  # True stops the sweep (finished points are kept)


@dataclass(frozen=True)
class _Batch:
    value: Any
    data_seed: int
    seeds: tuple[int, ...]


# --- one batch: the seeds of one value, vmapped --------------------------------------------------


def layer_counts(model) -> tuple[int, int]:
    """(hidden layers L, Dense layers D) of a network, from shapes alone (nothing is allocated)."""
    def shapes(key):
        params = init_params(model, 1, key=key, dtype=jnp.float32)
        return hidden_preactivations(model, params, jnp.zeros((1, 1), jnp.float32)), dense_weights(model, params)

    hidden, weights = jax.eval_shape(shapes, jax.random.key(0))
    return len(hidden), len(weights)


@functools.lru_cache(maxsize=32)
def _compiled(model, trainable: str, linearization: str, alpha: float, lr_scale: float, precision: str):
    """The jitted, seed-vmapped functions of a batch; cached by what they depend on (the arrays, the
    learning rate and the chunk length are arguments: a new value of those reuses the compile)."""
    del precision  # part of the key: the functions trace differently in float64
    apply_fn = make_apply_fn(model)
    function_space = linearization == "function"

    def setup(theta0, x_all, x_train):
        f0_all = apply_fn(theta0, x_all)
        ntk0 = empirical_ntk(model, theta0, x_train, trainable=trainable)
        ntk0_all = (empirical_ntk(model, theta0, x_all, x_train, trainable=trainable) if function_space
                    else jnp.zeros((0, 0), f0_all.dtype))
        return f0_all, ntk0, ntk0_all

    consts_axes = GDConsts(frozen=0, theta0=0, x=None, y=None, offset=0, fa0=0, ntk0=0, lin_limit=0)
    steps = make_gd_steps(apply_fn, alpha=alpha, lr_scale=lr_scale, linearization=linearization, with_lin=True)
    evaluate = make_evaluate(model, apply_fn, alpha=alpha, linearization=linearization)
    fixed_axes = (consts_axes, None, 0, 0, 0, 0, 0)

    def kernel(params, frozen, x_train):
        return empirical_ntk(model, combine(params, frozen), x_train, trainable=trainable)

    return dict(
        setup=jax.jit(jax.vmap(setup, in_axes=(0, None, None))),
        chunk=jax.jit(jax.vmap(steps, in_axes=(0, consts_axes, None, None))),
        evaluate=jax.jit(jax.vmap(evaluate, in_axes=(0, 0, fixed_axes))),
        kernel=jax.jit(jax.vmap(kernel, in_axes=(0, 0, None))),
    )


def _memo(fn):
    """``fn(step)`` computed once per step (the measurements ask for the same step several times)."""
    cache: dict = {}
    return lambda step: cache[step] if step in cache else cache.setdefault(step, fn(step))


def _stack(trees: list):
    return jax.tree_util.tree_map(lambda *a: jnp.stack(a), *trees)


def _tree_norm(tree) -> float:
    return float(np.sqrt(sum(np.sum(np.square(np.asarray(x, np.float64))) for x in jax.tree_util.tree_leaves(tree))))


def run_batch(spec: ExperimentSpec, value, data_seed: int | None, seeds: Iterable[int],
              checkpoint: Callable[[int, int, str], bool] | None = None) -> list[SweepPoint] | None:
    """Runs the seeds of one value of ``spec``'s sweep as one vmapped batch; returns their points, or
    None when ``checkpoint(step, steps_total, phase)`` (asked between compiled chunks) said stop.

    Each seed's run is the one ``Experiment`` would make of the point's spec (same data, θ0 drawn in
    float32 and cast, the same steps of gradient descent and of the linearization, the same
    infinite-width answers), measured once, at its last step. A network whose loss becomes NaN or
    inf gives a point with ``diverged_step`` set and non-finite fields, and the others go on.
    """
    seeds = tuple(seeds)
    point = sweep_point_spec(spec, value, seeds[0], data_seed)
    with jax.enable_x64(point.train.precision == "float64"):
        return _BatchRun(spec, point, value, seeds, checkpoint).run()


class _BatchRun:
    """One batch's run: set-up, the vmapped steps, the final measurements (see :func:`run_batch`)."""

    def __init__(self, spec, point, value, seeds, checkpoint):
        self.spec, self.point, self.value, self.seeds, self.checkpoint = spec, point, value, seeds, checkpoint
        self.t_start = time.perf_counter()

    def _ask(self, step: int, phase: str) -> bool:
        return self.checkpoint is not None and bool(self.checkpoint(step, self.point.train.steps, phase))

    def run(self) -> list[SweepPoint] | None:
        point, seeds = self.point, self.seeds
        m, tr = point.model, point.train
        if self._ask(0, "preparing"):
            return None
        dtype = float_dtype()
        data = run_dataset(point)
        x_train = jnp.asarray(data.x_train)
        x_all, grid_is_test = evaluated_points(data)
        n, n_te = len(data.x_train), len(data.x_test)
        alpha, centered = float(getattr(m, "output_scale", 1.0)), bool(getattr(m, "centered", False))
        fn = _compiled(m, tr.trainable, tr.linearization, alpha, float(learning_rate_scale(m)), tr.precision)
        function_space = tr.linearization == "function"

        theta0s = [draw_theta0(m, data.x_train.shape[1], seed, dtype) for seed in seeds]
        theta0_b = _stack(theta0s)
        mask = trainable_mask(m, theta0s[0], tr.trainable)
        train0_b, frozen_b = partition(theta0_b, mask)
        f0_b, ntk0_b, ntk0_all_b = fn["setup"](theta0_b, x_all, x_train)
        offset_b = f0_b if centered else jnp.zeros_like(f0_b)
        fa0_b = alpha * (f0_b - offset_b)
        y_train = jnp.asarray(data.y_train)
        loss0_b = jax.vmap(half_mse, in_axes=(0, None))(fa0_b[:, :n], y_train)
        consts = GDConsts(frozen=frozen_b, theta0=train0_b, x=x_train, y=y_train,
                          offset=offset_b[:, :n], fa0=fa0_b[:, :n], ntk0=ntk0_all_b[:, :n],
                          lin_limit=LIN_LIMIT * loss0_b + jnp.finfo(loss0_b.dtype).tiny)
        lin0 = jnp.zeros((len(seeds), n), dtype) if function_space else train0_b
        state = GDState(train0_b, lin0)

        # the fixed, seed-independent answers: the infinite-width kernels (once per batch)
        notes: list[str] = []
        flow = nngp_fit = None
        limit = kernel_limit(m)
        if point.infinite.enabled and limit is not None:
            notes.append(f"NTK ∞ and NNGP not drawn: {limit}")
        elif point.infinite.enabled:
            _, flow, _, more, nngp_fit = infinite_answers(point, data, nngp_points=True)
            notes += more

        state, bad, lin_bad = self._train(fn["chunk"], state, consts, jnp.asarray(tr.learning_rate, dtype))
        if state is None:
            return None
        w0_b = _stack([dense_weights(m, t) for t in theta0s])
        fixed = (consts, x_all, offset_b, fa0_b, ntk0_all_b, theta0_b, w0_b)
        outputs = jax.device_get(fn["evaluate"](state.params, state.lin, fixed))
        ntk_t_b = np.asarray(fn["kernel"](state.params, frozen_b, x_train), np.float64)
        ntk0_np = np.asarray(ntk0_b, np.float64)
        fa0_np = np.asarray(fa0_b, np.float64)
        n_hidden = len(hidden_preactivations(m, theta0s[0], x_train[:1]))
        wall = time.perf_counter() - self.t_start
        points = []
        for i, seed in enumerate(seeds):
            f_all, f_lin_all, loss, dist, features, weights = (np.asarray(o[i]) for o in outputs)
            eta_crit, _ = kernel_eta_crit(ntk0_np[i])
            seed_notes = list(notes)
            lin_ok = lin_bad[i] < 0 and bool(np.all(np.isfinite(f_lin_all)))
            lin_step = NOT_DIVERGED if lin_ok else int(lin_bad[i]) if lin_bad[i] >= 0 else tr.steps
            if not lin_ok:
                why = "η > η_crit" if tr.learning_rate > eta_crit else "its loss became inf or NaN"
                seed_notes.append(f"The linearization diverged ({why}).")
            predict = None
            ntk_bad = NOT_DIVERGED
            if flow is not None:
                predict = _memo(functools.partial(flow, fa0_all=fa0_np[i]))
                if not np.all(np.isfinite(predict(tr.steps))):
                    ntk_bad = tr.steps
                    seed_notes.append("The NTK ∞ answer is not finite at the last step.")
            diverged = int(bad[i])
            if diverged >= 0:
                seed_notes.append(f"The network's loss became NaN or inf at step {diverged}.")
            ctx = RunContext(
                steps_total=tr.steps, learning_rate=tr.learning_rate, data=data, split=(n, n + n_te),
                y_train=np.asarray(data.y_train, np.float64), ntk0=ntk0_np[i],
                ntk0_norm=float(np.linalg.norm(ntk0_np[i])) or 1.0, theta0_norm=_tree_norm(theta0s[i]) or 1.0,
                eig0=None, eta_crit=eta_crit, infinite=None, ntk_predict=predict, run_spectra=None,
                backend=jax.default_backend(), precision=tr.precision, eps=float(np.finfo(dtype).eps),
                notes=tuple(seed_notes), grid_is_test=grid_is_test, nngp_fit=nngp_fit)
            obs = Observation(
                step=tr.steps, wall_time=wall, f_net=f_all, f_lin=f_lin_all if lin_ok else None, loss=float(loss),
                last_loss=math.nan, param_dist=float(dist), feature_change=features[:n_hidden],
                weight_change=weights, ntk_t=ntk_t_b[i], lin_diverged_step=lin_step,
                ntk_diverged_step=ntk_bad)
            values = measure(ctx, obs, SWEEP_MEASUREMENTS)
            fields = {name: float(values[name]) for name in MEASURES}
            for name in LAYER_MEASURES:
                fields.update({f"{name}[{l + 1}]": float(v) for l, v in enumerate(values[name])})
            fields.update(diverged_step=diverged, lin_diverged_step=int(values["lin_diverged_step"]),
                          wall_time=wall, batch_size=len(seeds))
            points.append(SweepPoint(field=self.spec.sweep.field, value=self.value, seed=seed,
                                     data_seed=point.data.seed, fields=fields, notes=tuple(values["notes"]),
                                     spec=replace(point, train=replace(point.train, seed=seed))))
        return points

    def _train(self, chunk, state, consts, learning_rate):
        """All steps in compiled chunks of ~CHUNK_SECONDS; (state, the first step per seed whose network
        loss was not finite, the first whose linearization diverged (−1: none)), or (None, None, None)."""
        total = self.point.train.steps
        step, chunk_len, compiled = 0, 1, False
        bad = lin_bad = np.full(len(self.seeds), -1)
        while step < total:
            if self._ask(step, "training" if compiled else "compiling"):
                return None, None, None
            n = int(min(chunk_len, total - step))
            started = time.perf_counter()
            state, stats = chunk(state, consts, n, learning_rate)
            net_bad, lin_now = (np.asarray(a) for a in jax.device_get((stats.net_bad, stats.lin_bad)))
            if compiled:
                elapsed = time.perf_counter() - started
                chunk_len = int(np.clip(n * CHUNK_SECONDS / max(elapsed, 1e-6), 1, MAX_CHUNK))
            compiled = True
            bad = np.where((bad < 0) & (net_bad >= 0), step + net_bad, bad)
            lin_bad = np.where((lin_bad < 0) & (lin_now >= 0), step + lin_now, lin_bad)
            step += n
        return state, bad, lin_bad


# --- the sweep -----------------------------------------------------------------------------------


class Sweep:
    """A sweep of ``spec`` (an experiment with a [sweep] section): ``for p in Sweep(spec).run(): ...``.

    Constructing it checks every value (SpecError naming the key) and this machine's memory for each
    point (``check_resources``; the warnings are in ``warnings``); nothing runs until :meth:`run`.
    """

    def __init__(self, spec: ExperimentSpec, *, memory: int | None = None):
        if spec.sweep is None:
            raise SpecError("sweep: this experiment has no [sweep] section; add one (see the README, Sweeps).")
        self.spec = spec
        self.kind = sweep_kind(spec)
        self.values = sweep_values(spec)
        sw = spec.sweep
        self.seeds = tuple(range(sw.seeds))
        self.data_seeds = (spec.data.seed,) if sw.data_seeds is None else tuple(range(sw.data_seeds))
        self.warnings: list[str] = []
        budget = MEMORY_SHARE * (physical_memory() if memory is None else memory)
        self._batch_size = {}
        for value in self.values:
            point = sweep_point_spec(spec, value)
            try:
                for w in check_resources(point, memory):
                    self.warnings.append(f"{sw.field} = {value_key(value)}: {w}")
            except SpecError as exc:
                raise SpecError(f"sweep (value {value!r}): {exc}") from None
            self._batch_size[value_key(value)] = max(1, min(len(self.seeds), int(budget // max(estimate(point).memory, 1))))
        self.columns = self._columns()
        self._learning: dict | None = None

    @property
    def numeric(self) -> bool:
        return self.kind in (int, float)

    @property
    def total(self) -> int:
        return len(self.values) * len(self.seeds) * len(self.data_seeds)

    def keys(self) -> list[tuple[str, int, int]]:
        """Every point's key (value as written, seed, data seed) in the sweep's order."""
        return [(value_key(v), s, d) for v in self.values for d in self._data_seeds_of(v) for s in self.seeds]

    def _data_seeds_of(self, value) -> tuple[int, ...]:
        """The data seeds the points of ``value`` use (the swept value itself when it is data.seed)."""
        if self.spec.sweep.data_seeds is not None:
            return self.data_seeds
        return (sweep_point_spec(self.spec, value).data.seed,) if self.spec.sweep.field == "data.seed" \
            else self.data_seeds

    def learning_curve(self) -> dict | None:
        """For a data.n_train sweep, the NTK ∞ learning curve of :func:`predicted_learning_curve`
        ({"n_train", "mse_test_theory", "note"}), computed once; None for other sweeps."""
        if self.spec.sweep.field != "data.n_train":
            return None
        if self._learning is None:
            curve, why = predicted_learning_curve(self.spec, [float(v) for v in self.values])
            self._learning = {"n_train": list(self.values), "mse_test_theory": [float(c) for c in curve], "note": why}
        return self._learning

    def _columns(self) -> list[str]:
        hidden = dense = 0
        for value in self.values:
            l_count, d_count = layer_counts(sweep_point_spec(self.spec, value).model)
            hidden, dense = max(hidden, l_count), max(dense, d_count)
        return ([self.spec.sweep.field, "seed", "data_seed", *MEASURES]
                + [f"feature_change[{i + 1}]" for i in range(hidden)]
                + [f"weight_change[{i + 1}]" for i in range(dense)] + list(TAIL_COLUMNS))

    def batches(self, skip: Iterable[tuple[str, int, int]] = ()) -> list[_Batch]:
        """The batches still to run: per value and data seed, its seeds not in ``skip``, cut to what
        this machine's memory holds at once (the resource estimate of one point × the batch)."""
        skip = set(skip)
        out = []
        for value in self.values:
            size = self._batch_size[value_key(value)]
            for data_seed in self._data_seeds_of(value):
                todo = [s for s in self.seeds if (value_key(value), s, data_seed) not in skip]
                for start in range(0, len(todo), size):
                    out.append(_Batch(value, data_seed, tuple(todo[start:start + size])))
        return out

    def _data_seed(self, data_seed: int) -> int | None:
        return None if self.spec.sweep.data_seeds is None else data_seed

    def run(self, checkpoint: SweepCheckpoint | None = None,
            skip: Iterable[tuple[str, int, int]] = ()) -> Iterator[SweepPoint]:
        """Yields the points as their batches finish (value by value, in order), skipping the keys in
        ``skip`` (a resumed sweep). ``checkpoint(progress)`` is asked between compiled chunks
        (~0.15 s apart) and returns True to stop: the batch in flight is dropped, the finished points
        stay yielded."""
        skip = set(skip)
        done = len(skip & set(self.keys()))
        t0 = time.perf_counter()
        for batch in self.batches(skip):
            def ask(step, steps_total, phase, batch=batch):
                return checkpoint is not None and bool(checkpoint(SweepProgress(
                    done, self.total, batch.value, step, steps_total, phase, time.perf_counter() - t0)))

            points = run_batch(self.spec, batch.value, self._data_seed(batch.data_seed), batch.seeds, ask)
            if points is None:
                return
            for p in points:
                done += 1
                yield p

    def run_ray(self, address: str | None = None, checkpoint: SweepCheckpoint | None = None,
                skip: Iterable[tuple[str, int, int]] = (), ship_code: bool = True) -> Iterator[SweepPoint]:
        """As :meth:`run`, with each batch (one value's seeds) a Ray task; points come in the order
        their tasks finish. Connects to ``address`` ('auto', 'ray://host:10001', or None for a local
        instance) unless Ray is already initialized. A task asks for one GPU when the cluster has GPUs
        (one point batch per GPU), else one CPU. ``ship_code``: when this call starts Ray, it sends this
        ntklab package with the job (:func:`ray_runtime_env`), so the workers run the same code as this
        process (a caller that starts Ray itself passes ``runtime_env=ray_runtime_env()`` to ``ray.init``).
        ``checkpoint`` is asked every ~0.2 s: True cancels the tasks still running."""
        try:
            import ray
        except ImportError:
            raise SpecError("--ray: Ray is not installed; pip install 'ntklab[cluster]' (or run without --ray).") from None
        if not ray.is_initialized():
            try:
                with ray_fork_warning_silenced():
                    ray.init(address=address, log_to_driver=False, include_dashboard=False,
                             logging_level=logging.WARNING, runtime_env=ray_runtime_env() if ship_code else None)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise SpecError(f"--ray {address}: no Ray cluster could be reached ({short(str(exc), 200)[1:-1]}); "
                                f"start one (ray start --head), or use --ray local for one on this machine.") from None
        gpus = ray.cluster_resources().get("GPU", 0)
        options: dict[str, Any] = dict(num_gpus=1, num_cpus=1) if gpus else dict(num_cpus=1)
        task = ray.remote(_ray_batch).options(**options)
        skip = set(skip)
        done = len(skip & set(self.keys()))
        t0 = time.perf_counter()
        pending = {task.remote(self.spec, b.value, self._data_seed(b.data_seed), b.seeds): b
                   for b in self.batches(skip)}
        try:
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1, timeout=0.2)
                for ref in ready:
                    pending.pop(ref)
                    for p in ray.get(ref):
                        done += 1
                        yield p
                if checkpoint is not None and pending and checkpoint(SweepProgress(
                        done, self.total, None, 0, self.spec.train.steps, "training", time.perf_counter() - t0)):
                    return
        finally:
            for ref in pending:
                ray.cancel(ref, force=True)


@contextlib.contextmanager
def ray_fork_warning_silenced():
    """Ray starts its local processes with a ``preexec_fn``, so CPython runs the at-fork hooks and JAX
    warns that forking a multithreaded process may deadlock; the child execs at once (no Python runs
    in it), so the warning does not apply there and is silenced for that call only."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"os\.fork\(\) was called", category=RuntimeWarning)
        yield


def ray_runtime_env() -> dict[str, Any]:
    """Ray's runtime environment for sweep tasks: this ntklab package as a ``py_modules`` entry, uploaded
    with the job, so every worker runs the driver's code (the nodes need ntklab's dependencies)."""
    import ntklab

    return {"py_modules": [str(Path(ntklab.__file__).parent)]}


def _ray_batch(spec, value, data_seed, seeds):
    """A Ray task: one batch, run to the end in the worker."""
    return run_batch(spec, value, data_seed, seeds)


# --- fitted power laws and the learning curve ----------------------------------------------------


def fit_power_law(x, y) -> dict[str, float]:
    """Least squares of log y on log x over the points where both are finite and > 0:
    {"slope", "stderr" (from the residuals, NaN below 3 points), "n" (points used)}."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    ok = np.isfinite(x) & np.isfinite(y) & (x > 0) & (y > 0)
    lx, ly = np.log(x[ok]), np.log(y[ok])
    n = int(ok.sum())
    if n < 2 or np.ptp(lx) == 0:
        return {"slope": math.nan, "stderr": math.nan, "n": n}
    dx = lx - lx.mean()
    sxx = float(dx @ dx)
    slope = float(dx @ (ly - ly.mean())) / sxx
    if n < 3:
        return {"slope": slope, "stderr": math.nan, "n": n}
    resid = ly - ly.mean() - slope * dx
    return {"slope": slope, "stderr": float(np.sqrt(resid @ resid / (n - 2) / sxx)), "n": n}


def fit_slopes(points: list[SweepPoint], columns: Iterable[str] | None = None) -> dict[str, dict[str, float]]:
    """The power law of every scalar measure against the swept value, fitted over every seed's point
    (not over seed means: the spread between seeds enters the standard error). Measures with fewer
    than 2 usable points are left out; a choice setting has none."""
    if not points or any(isinstance(p.value, (str, bool)) for p in points):
        return {}  # a choice setting: no power law
    names = [c for c in (columns or points[0].fields)
             if c in MEASURES or c == "wall_time" or c.split("[")[0] in LAYER_MEASURES]
    x = [float(p.value) for p in points]
    out = {}
    for name in names:
        fit = fit_power_law(x, [p.fields.get(name, math.nan) for p in points])
        if fit["n"] >= 2 and math.isfinite(fit["slope"]):
            out[name] = fit
    return out


def predicted_learning_curve(spec: ExperimentSpec, n_train) -> tuple[np.ndarray, str | None]:
    """The test MSE that gradient flow with the NTK ∞ reaches (t → ∞) from n training points, averaged
    over training sets, for each n in ``n_train``: Bordelon, Canatar & Pehlevan (2020) from the
    analytic NTK's spectrum on a sample of the inputs (:mod:`ntklab.core.learning_curve`).

    The regressed function is the target minus the network's output at init, f(θ0) ~ GP(0, α²·NNGP)
    (absent when centered), plus label noise of variance data.noise²; the test targets are clean.
    Returns (E_g per n, None) or (NaNs, one line saying why there is no curve).
    """
    n_train = np.asarray(n_train, np.float64)
    nan = np.full(n_train.shape, np.nan)
    m, d = spec.model, spec.data
    limit = kernel_limit(m)
    if limit is not None:
        return nan, f"No learning curve: {limit}."
    if d.random_labels:
        return nan, "No learning curve: random labels are not a function of the input."
    if n_train.max() > THEORY_MAX_N:
        return nan, f"No learning curve beyond n_train = {THEORY_MAX_N} (the spectrum's sample would not resolve it)."
    samples = int(np.clip(8 * n_train.max(), *THEORY_SAMPLES))
    with jax.enable_x64(True):
        try:
            sample = run_dataset(replace(spec, data=replace(d, n_train=1, n_test=samples, seed=d.seed + 7919,
                                                            noise=0.0), sweep=None))
        except SpecError as exc:
            return nan, f"No learning curve: the inputs could not be sampled ({exc})."
        kw = {} if spec.train.trainable == "all" else {"trainable": spec.train.trainable}
        k = analytic_kernels(m, sample.x_test, **kw)
    alpha = float(getattr(m, "output_scale", 1.0))
    init_cov = None if getattr(m, "centered", False) else alpha**2 * np.asarray(k.nngp, np.float64)
    eigvals, power = sample_spectrum(np.asarray(k.ntk, np.float64), sample.y_test, init_cov)
    return learning_curve(eigvals, power, n_train, noise_var=float(d.noise) ** 2), None


# --- files ---------------------------------------------------------------------------------------


class SweepFolder:
    """The output folder of a sweep: ``points.csv`` grows one row per finished point (written and
    flushed to disk at once), ``sweep.json`` holds the spec's hash; :meth:`finish` writes
    ``sweep.npz``, ``summary.json`` and ``README.txt`` from every point (atomically, each file).

    Opening a folder that holds points of the same sweep resumes it (``done`` says which); points
    of another sweep are refused unless ``overwrite``, which clears them."""

    def __init__(self, out: str | Path, sweep: Sweep, overwrite: bool = False):
        self.out, self.sweep = Path(out), sweep
        self.hash = spec_hash(sweep.spec)
        self.points: list[SweepPoint] = []
        out = self.out
        if out.exists() and not out.is_dir():
            raise _out_error(f"--out {out}: a file of that name exists; choose a folder name.")
        if out.is_dir():
            others = sorted(p.name for p in out.iterdir() if p.name not in SWEEP_FILES)
            if others:
                raise _out_error(f"--out {out}: the folder holds other files ({', '.join(others[:3])}"
                                 f"{', …' if len(others) > 3 else ''}); choose a new or empty folder.")
            if overwrite:
                for name in SWEEP_FILES:
                    (out / name).unlink(missing_ok=True)
            elif (out / "points.csv").exists():
                self._check_same_sweep()
                self.points = self._read_points()
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _out_error(f"--out {out}: cannot create the folder ({exc.strerror or exc}).") from None
        atomic_write_text(out / "sweep.json", json.dumps({"ntklab": __version__, "spec_sha256": self.hash,
                                                          "field": sweep.spec.sweep.field,
                                                          "values": [value_key(v) for v in sweep.values],
                                                          "total": sweep.total}, indent=2))
        atomic_write_text(out / "experiment.toml", dump_spec(sweep.spec))

    @property
    def done(self) -> set[tuple[str, int, int]]:
        return {p.key for p in self.points}

    def _check_same_sweep(self) -> None:
        try:
            stored = json.loads((self.out / "sweep.json").read_text(encoding="utf-8")).get("spec_sha256")
        except (OSError, ValueError):
            stored = None
        if stored != self.hash:
            raise _out_error(f"--out {self.out}: it holds the points of a different sweep (its experiment file "
                             f"differs from this one); choose a new folder, or add --overwrite to replace them.")

    def _read_points(self) -> list[SweepPoint]:
        """The finished points in points.csv; a last line cut short by a kill is dropped (and cut off)."""
        path = self.out / "points.csv"
        raw = path.read_bytes()
        if raw and not raw.endswith(b"\n"):  # a row being written when the process died
            raw = raw[: raw.rfind(b"\n") + 1]
            atomic_write_bytes(path, raw)
        rows = list(csv.reader(io.StringIO(raw.decode("utf-8"))))
        if not rows:
            return []
        header, columns = rows[0], self.sweep.columns
        if header != columns:
            raise _out_error(f"--out {self.out}: points.csv has other columns than this sweep writes; choose a new "
                             f"folder, or add --overwrite to replace it.")
        field = self.sweep.spec.sweep.field
        by_key = {value_key(v): v for v in self.sweep.values}
        points = []
        for row in rows[1:]:
            if len(row) != len(header):
                continue
            entry = dict(zip(header, row))
            if entry[field] not in by_key:
                continue
            fields = {c: _parse(entry[c]) for c in header[3:-1]}
            value, seed, data_seed = by_key[entry[field]], int(entry["seed"]), int(entry["data_seed"])
            spec = sweep_point_spec(self.sweep.spec, value, seed,
                                    None if self.sweep.spec.sweep.data_seeds is None else data_seed)
            points.append(SweepPoint(field=field, value=value, seed=seed, data_seed=data_seed, fields=fields,
                                     notes=tuple(n for n in entry["notes"].split(" | ") if n), spec=spec))
        return points

    def append(self, point: SweepPoint) -> None:
        """Appends the point's row (the header first, for the first point), flushed to disk."""
        path = self.out / "points.csv"
        new = not path.exists() or path.stat().st_size == 0
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=self.sweep.columns, lineterminator="\n", extrasaction="ignore")
        if new:
            writer.writeheader()
        writer.writerow({k: _fmt(v) for k, v in point.row().items()})
        with open(path, "a", encoding="utf-8", newline="") as f:
            f.write(buffer.getvalue())  # one write: a kill leaves at most this row cut short
            f.flush()
            os.fsync(f.fileno())
        self.points.append(point)

    def summary(self) -> dict:
        return sweep_summary(self.sweep, self.points)

    def finish(self, png: bytes | None = None) -> None:
        """Writes sweep.npz, summary.json, README.txt (and sweep.png when given) from the points so far."""
        arrays = sweep_arrays(self.sweep, self.points)
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)
        atomic_write_bytes(self.out / "sweep.npz", buffer.getvalue())
        atomic_write_text(self.out / "summary.json", json.dumps(_json(self.summary()), indent=2, allow_nan=False))
        atomic_write_text(self.out / "README.txt", _readme(self.sweep))
        if png is not None:
            atomic_write_bytes(self.out / "sweep.png", png)


def _out_error(message: str):
    from ntklab.session.atomic import OutputError

    return OutputError(message)


def _fmt(v) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    return "" if not math.isfinite(v) else repr(float(v))


def _parse(text: str) -> float:
    return math.nan if text == "" else float(text)


def _json(v):
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: _json(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_json(x) for x in v]
    if isinstance(v, (np.floating, np.integer)):
        return _json(v.item())
    return v


def sweep_summary(sweep: Sweep, points: list[SweepPoint]) -> dict:
    """summary.json: the spec, counts, the fitted slopes (numeric fields), the NTK ∞ learning curve
    (data.n_train sweeps) and the notes seen."""
    notes = sorted({n for p in points for n in p.notes})
    slopes = fit_slopes(points, sweep.columns) if sweep.numeric else {}
    return {
        "ntklab": __version__,
        "field": sweep.spec.sweep.field,
        "values": list(sweep.values),
        "points": len(points),
        "total": sweep.total,
        "finished": len({p.key for p in points} & set(sweep.keys())) == sweep.total,
        "slopes": slopes,
        "slopes_over": "every point (each seed's run), least squares of log(measure) on log(value)",
        "learning_curve": sweep.learning_curve(),
        "spec_sha256": spec_hash(sweep.spec),
        "notes": notes,
    }


def sweep_arrays(sweep: Sweep, points: list[SweepPoint]) -> dict[str, np.ndarray]:
    """sweep.npz: one array per column of points.csv (P points), the swept value as ``value``, the
    setting's name as ``field``, and for data.n_train the learning curve (V values)."""
    field = sweep.spec.sweep.field
    values = [p.value for p in points]
    arrays: dict[str, np.ndarray] = {
        "field": np.array(field),
        "value": np.array(values, dtype=np.float64) if sweep.numeric else np.array([value_key(v) for v in values]),
        "seed": np.array([p.seed for p in points], dtype=np.int64),
        "data_seed": np.array([p.data_seed for p in points], dtype=np.int64),
    }
    for column in sweep.columns[3:-1]:
        arrays[column] = np.array([p.fields.get(column, math.nan) for p in points], dtype=np.float64)
    learning = sweep.learning_curve()
    if learning is not None:
        arrays["theory_n_train"] = np.array(learning["n_train"], dtype=np.float64)
        arrays["mse_test_theory"] = np.array(learning["mse_test_theory"], dtype=np.float64)
    return arrays


def _readme(sweep: Sweep) -> str:
    from ntklab.session.fields import describe

    field = sweep.spec.sweep.field
    lines = [f"NTK Lab {__version__} sweep over {field}: {len(sweep.values)} values × {len(sweep.seeds)} seeds"
             f" × {len(sweep.data_seeds)} data seeds = {sweep.total} runs.", "",
             "points.csv     one row per finished run (appended as runs finish; empty cell = NaN).",
             "sweep.npz      the same columns as arrays (numpy.load), the swept value as 'value'.",
             "summary.json   fitted power laws {measure: {slope, stderr, n}} over every run, the learning curve "
             "(data.n_train sweeps), notes.",
             "sweep.png      the plots.", "experiment.toml  the sweep (ntklab sweep experiment.toml --out DIR "
             "resumes or repeats it).", "", "Columns:"]
    for column in sweep.columns:
        shape, unit, meaning = describe(column)
        meaning = meaning or {field: "the swept setting's value", "batch_size": "seeds run together in one batch",
                              "notes": "remarks on the run, separated by |"}.get(column, "")
        lines.append(f"  {column:<22} [{unit}] {meaning}")
    return "\n".join(lines) + "\n"


def load_sweep(out: str | Path) -> tuple[Sweep, list[SweepPoint]]:
    """The sweep and its finished points from an output folder (experiment.toml and points.csv)."""
    out = Path(out)
    spec = load_spec(out / "experiment.toml")
    sweep = Sweep(spec)
    folder = SweepFolder.__new__(SweepFolder)
    folder.out, folder.sweep = out, sweep
    return sweep, folder._read_points() if (out / "points.csv").exists() else []
