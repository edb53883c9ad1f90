"""Seconds per training step of the default network at width 4096 (depth 2, n = 16, d = 1, float32), and the
cost of a snapshot's evaluation in such steps.

Steps: the run's chunk (network + function-space linearization) with the gradient by autodiff, applied at
once (``make_gd_chunk(apply_fn, ...)``: the step before issue 15), against the factored step a run uses
(``net=...``, the update formed in row blocks a step late, the state's buffers donated), at chunks of 1, 4
and 10 steps; alternating, medians of 5. Evaluation: a headless default run at width 4096 (300 steps, a
snapshot every 10), the median time of ``_Run._observe`` (the jitted evaluation and its host copies)
divided by the median step time of the factored chunk of 10 steps measured here. Target (issue 15):
a snapshot's evaluation costs at most 5 training steps.
Usage: ``python bench/bench_step.py``.
"""

import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as the app sets it (ntklab/cli.py), before NumPy loads

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from ntklab.core import MLPSpec, empirical_ntk, init_params, make_apply_fn, make_mlp, trainable_mask  # noqa: E402
from ntklab.core.training import GDConsts, GDState, make_gd_chunk, partition  # noqa: E402

WIDTH, N = 4096, 16


def step_seconds(repeats: int = 5) -> dict[tuple[str, int], list[float]]:
    spec = MLPSpec(depth=2, width=WIDTH)
    x = jnp.asarray(np.linspace(-2, 2, N, dtype=np.float32)[:, None])
    y = jnp.sin(2 * x[:, 0])
    theta0 = init_params(spec, 1, key=jax.random.key(0))
    apply_fn = make_apply_fn(spec)
    train0, frozen = partition(theta0, trainable_mask(spec, theta0))
    f0 = jax.jit(apply_fn)(theta0, x)
    ntk0 = jax.jit(lambda p, x: empirical_ntk(spec, p, x))(theta0, x)
    consts = GDConsts(frozen=frozen, theta0=train0, x=x, y=y, offset=jnp.zeros_like(f0), fa0=f0, ntk0=ntk0,
                      lin_limit=jnp.float32(jnp.inf))
    kw = dict(alpha=1.0, learning_rate=0.1, linearization="function")
    chunks = {"autodiff": make_gd_chunk(apply_fn, **kw),
              "factored": make_gd_chunk(apply_fn, **kw, net=make_mlp(spec), donate=True)}
    states = {k: jax.tree_util.tree_map(jnp.copy, GDState(train0, jnp.zeros(N, f0.dtype))) for k in chunks}
    for k, chunk in chunks.items():  # compile
        states[k], _ = chunk(states[k], consts, 1)
        jax.block_until_ready(states[k])
    times = {}
    for n_steps in (1, 4, 10):
        for _ in range(repeats):
            for k, chunk in chunks.items():
                t0 = time.perf_counter()
                states[k], stats = chunk(states[k], consts, n_steps)
                jax.device_get(stats)  # as a run waits for each chunk
                times.setdefault((k, n_steps), []).append((time.perf_counter() - t0) / n_steps)
    return times


def evaluation_seconds() -> list[float]:
    from ntklab.session import Experiment, ExperimentSpec
    from ntklab.session import experiment

    spec = ExperimentSpec().with_changes(model={"width": WIDTH}, train={"steps": 300, "snapshots": 30})
    observe, seconds = experiment._Run._observe, []

    def timed(self, *args, **kwargs):
        t0 = time.perf_counter()
        out = observe(self, *args, **kwargs)
        seconds.append(time.perf_counter() - t0)
        return out

    experiment._Run._observe = timed
    try:
        list(Experiment(spec).run())
    finally:
        experiment._Run._observe = observe
    return seconds[2:]  # after the first calls (compilation)


def run() -> list[str]:
    times = step_seconds()
    evaluation = float(np.median(evaluation_seconds()))
    step10 = float(np.median(times[("factored", 10)]))
    rows = [f"Width {WIDTH}, depth 2, n = {N}, d = 1, float32; ms per step (network + function-space linearization), "
            "alternating, medians of 5.", "",
            "| chunk length | autodiff step (ms) | factored step (ms) | factored / autodiff |", "|---|---|---|---|"]
    for n_steps in (1, 4, 10):
        a, f = (float(np.median(times[(k, n_steps)])) for k in ("autodiff", "factored"))
        rows.append(f"| {n_steps} | {1e3 * a:.1f} | {1e3 * f:.1f} | {f / a:.2f} |")
    rows += ["", "| measure | value | target | met |", "|---|---|---|---|",
             f"| evaluation of a snapshot, default run at width {WIDTH} (ms) | {1e3 * evaluation:.1f} | | |",
             f"| the same in factored steps of a 10-step chunk | {evaluation / step10:.1f} | ≤ 5 | "
             f"{'yes' if evaluation <= 5 * step10 else 'NO'} |"]
    return rows


if __name__ == "__main__":
    print("\n".join(run()))
