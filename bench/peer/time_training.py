"""Seconds per full-batch GD step of a depth-3 ReLU net (width 1024, N=256, d=10, float32) AND of its
linearization, the pair together. nt: a jitted step of the network plus a jitted step of
nt.linearize(apply_fn, params0) (its documented way). ntklab: its training chunk as a run steps it (the
network step with its gradient in factored form, the state's buffers reused, and the linearization in
function space: f_lin = f(θ0) + Θ̂₀(x, X)·b, one n × n matvec per step, exact for gradient descent). Θ̂₀ is computed once when a run starts: the ntklab side prints that
set-up's seconds on a line of its own before the result (not in the per-step figure).
Usage: time_training.py nt|ntklab [function|parameter]  -> prints seconds per (network + linearization) step
(the second argument, ntklab only: the linearization a run trains, train.linearization; default function).
Copied from ../shared/peer/time_training.py: the nt side verbatim, the ntklab side adapted to a run's step."""
import sys, time
import numpy as np
import jax, jax.numpy as jnp
which = sys.argv[1]
linearization = sys.argv[2] if len(sys.argv) > 2 else "function"
n, width, lr, k = 256, 1024, 0.1, 20
x = jnp.asarray(np.random.RandomState(1).randn(n, 10).astype(np.float32))
y = jnp.asarray(np.sin(np.random.RandomState(2).randn(n)).astype(np.float32))
if which == "nt":
    import neural_tangents as nt
    from neural_tangents import stax
    init_fn, apply_fn, _ = stax.serial(*[stax.Dense(width, 1.5, 0.05), stax.Relu()] * 3, stax.Dense(1, 1.5, 0.05))
    _, p0 = init_fn(jax.random.PRNGKey(1), x.shape)
    def make_step(linear):
        def loss(p, p0, x, y):
            f = nt.linearize(apply_fn, p0) if linear else apply_fn
            return 0.5 * jnp.mean((f(p, x)[:, 0] - y) ** 2)
        @jax.jit
        def step(p, p0, x, y):
            g = jax.grad(loss)(p, p0, x, y)
            return jax.tree_util.tree_map(lambda a, b: a - lr * b, p, g)
        return step
    s_net, s_lin = make_step(False), make_step(True)
    def run():
        p, q = p0, p0
        for _ in range(k):
            p = s_net(p, p0, x, y); q = s_lin(q, p0, x, y)
        jax.block_until_ready((p, q))
else:
    from ntklab.core import MLPSpec, empirical_ntk, init_params, make_apply_fn, make_mlp, trainable_mask
    from ntklab.core.training import GDConsts, GDState, make_gd_chunk, partition
    spec = MLPSpec(depth=3, width=width, activation="relu", activation_params={}, w_std=1.5, b_std=0.05,
                   parameterization="ntk")
    p0 = init_params(spec, 10, key=jax.random.key(1))
    apply_fn = make_apply_fn(spec)
    train0, frozen = partition(p0, trainable_mask(spec, p0))
    f0 = jax.jit(apply_fn)(p0, x)
    if linearization == "function":
        ntk_fn = jax.jit(lambda p, x: empirical_ntk(spec, p, x))
        jax.block_until_ready(ntk_fn(p0, x))
        t0 = time.perf_counter(); ntk0 = jax.block_until_ready(ntk_fn(p0, x))
        print(f"set-up (Θ̂₀, compiled): {time.perf_counter() - t0:.6f} s")
        lin0 = jnp.zeros(n, f0.dtype)
    else:  # parameter space: no Θ̂₀, the linearization's own parameters
        ntk0, lin0 = jnp.zeros((0, 0), f0.dtype), train0
    consts = GDConsts(frozen=frozen, theta0=train0, x=x, y=y, offset=jnp.zeros_like(f0), fa0=f0, ntk0=ntk0,
                      lin_limit=jnp.float32(jnp.inf))
    chunk = make_gd_chunk(apply_fn, alpha=1.0, learning_rate=lr, linearization=linearization, net=make_mlp(spec),
                          donate=True)
    state = [jax.tree_util.tree_map(jnp.copy, GDState(train0, lin0))]  # donated: θ0 kept
    def run():  # k more steps, from where the last call left the state (as a run's chunks do)
        state[0], stats = chunk(state[0], consts, k)
        jax.device_get(stats)
for _ in range(2):
    run()
ts = []
for _ in range(5):
    t0 = time.perf_counter(); run(); ts.append(time.perf_counter() - t0)
print(f"{np.median(ts) / k:.6f}")
