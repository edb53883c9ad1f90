"""Full-batch gradient descent of the network and of its linearization, side by side.

Both start from the same θ0 and use plain gradient descent; many steps run inside one compiled
call, so Python dispatch does not hold the GIL between steps.

The trained model is f_α(θ, x) = α·(f(θ, x) − f(θ0, x)) when centered, else α·f(θ, x), on the loss
‖f_α − y‖²/(2n·α²) (Chizat, Oyallon & Bach 2019; α = 1 uncentered is the plain network). Only the
leaves of θ that ``mask`` marks trainable move; the learning rate is η·n^(−c) of the
parameterization. Then f_α moves by −η·Θ̂(f_α − y)/n with Θ̂ = n^(−c)·J Jᵀ over the trainable leaves
(``empirical_ntk``): α cancels, so η_crit = 2n/λ_max(Θ̂) holds for every α.

The linearization f_α,lin(θ) = f_α(θ0) + α·J(θ0)(θ − θ0) is trained either

* in **function space** (default): gradient descent keeps θ − θ0 in the row space of J(θ0) on the
  training set, θ_k − θ0 = Jᵀc_k, so f_α,lin(x) = f_α(θ0, x) + Θ̂₀(x, X)·b_k with
  b_{k+1} = b_k − η·(f_α,lin(X) − y)/n: O(n²) per step instead of a JVP and its transpose, exactly;
* in **parameter space**: the path any other optimizer would need, and the oracle. Given the network's
  layers (``net``) its output J(θ0)Δθ and gradient J(θ0)ᵀr come from per-layer factors fixed at θ0
  (:func:`dense_factors`: each Dense layer's input and ∂f/∂z), one matrix product per layer each; without
  them a JVP and its transpose per step (about four). The same linear model either way.

A run steps the network with its gradient in factored form (``make_gd_chunk(..., net=...)``): per
Dense layer the input h and ∂C/∂z, the update hᵀ(∂C/∂z) formed block by block in place.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import jax
import jax.numpy as jnp

if TYPE_CHECKING:  # optax is imported where it is used: it costs ~0.1 s of the app's start-up
    import optax

Array = jax.Array
LINEARIZATIONS = ("function", "parameter")


class TrainState(NamedTuple):
    """Parameters and optimizer states of the network and of its linearization."""

    params: list
    lin_params: list
    opt_state: optax.OptState
    lin_opt_state: optax.OptState


def half_mse(f: Array, y: Array) -> Array:
    """The training loss ‖f − y‖²/(2n): the convention of the closed-form dynamics."""
    return 0.5 * jnp.mean((f - y) ** 2)


def make_optimizer(learning_rate: float) -> optax.GradientTransformation:
    """Plain full-batch gradient descent."""
    import optax

    return optax.sgd(learning_rate)


def init_train_state(theta0, optimizer: optax.GradientTransformation) -> TrainState:
    return TrainState(theta0, theta0, optimizer.init(theta0), optimizer.init(theta0))


def make_train_chunk(apply_fn, optimizer: optax.GradientTransformation, n_steps: int, *, net=None):
    """Jitted ``chunk(state, theta0, x, y) -> (state, (loss, lin_loss))``: ``n_steps`` GD steps.

    ``loss`` and ``lin_loss`` (n_steps,) are the training losses ‖f − y‖²/(2n) before each step.
    The plain network (α = 1, every leaf trained) with its parameter-space linearization, a step's
    losses kept: the reference that tests compare :func:`make_gd_chunk` with.

    ``net``: the :class:`~ntklab.core.stax.Serial` that ``apply_fn`` applies (default: ``apply_fn.net``
    where :func:`~ntklab.core.network.make_apply_fn` made it). With it the linearization's output and
    gradient are taken from per-layer factors at θ0 (:func:`dense_factors`): one matrix product per
    Dense layer each, where a JVP and its transpose take about four; the same linear model, exactly.
    """

    import optax

    net = getattr(apply_fn, "net", None) if net is None else net

    @jax.jit
    def chunk(state: TrainState, theta0, x, y):
        if net is None:
            f0, jvp = jax.linearize(lambda p: apply_fn(p, x), theta0)

            def lin_loss_and_grad(p):
                return jax.value_and_grad(
                    lambda p: half_mse(f0 + jvp(jax.tree_util.tree_map(jnp.subtract, p, theta0)), y))(p)
        else:
            f0, factors = dense_factors(net, theta0, x)

            def lin_loss_and_grad(p):
                r = f0 + linear_change(factors, p, theta0) - y
                return half_mse(r, 0.0), linear_gradient(factors, r / r.shape[0], p)

        def loss_fn(p):
            return half_mse(apply_fn(p, x), y)

        def step(s: TrainState, _):
            loss, grads = jax.value_and_grad(loss_fn)(s.params)
            lin_loss, lin_grads = lin_loss_and_grad(s.lin_params)
            updates, opt_state = optimizer.update(grads, s.opt_state, s.params)
            lin_updates, lin_opt_state = optimizer.update(lin_grads, s.lin_opt_state, s.lin_params)
            new = TrainState(
                optax.apply_updates(s.params, updates),
                optax.apply_updates(s.lin_params, lin_updates),
                opt_state,
                lin_opt_state,
            )
            return new, (loss, lin_loss)

        return jax.lax.scan(step, state, None, length=n_steps)

    return chunk


# --- the linearization from per-layer factors ----------------------------------------------------


class DenseFactor(NamedTuple):
    """One Dense layer z = c_w·hW + c_b·b of the network at θ0 on n points.

    h: its input (n, in); dfdz: row i is ∂f_i/∂z_i (n, out), the backward signal of output i.
    c_w, c_b: the layer's multipliers (static).
    """

    h: Array
    dfdz: Array
    c_w: float
    c_b: float


jax.tree_util.register_pytree_node(
    DenseFactor, lambda d: ((d.h, d.dfdz), (d.c_w, d.c_b)), lambda aux, ch: DenseFactor(*ch, *aux))


def dense_factors(net, theta, x: Array) -> tuple[Array, list[DenseFactor]]:
    """f(θ, x) (n,) and, per Dense layer in forward order, its input and ∂f/∂z: one forward and one backward pass.

    f_i depends on point i only, so the cotangent of Σ_i f_i at a layer's output z is, row by row,
    ∂f_i/∂z_i. Then ∂f_i/∂W = c_w·h_iᵀ ∂f_i/∂z_i and ∂f_i/∂b = c_b·∂f_i/∂z_i: the Jacobian J(θ) in factors.
    """
    dense = net.dense_layers(theta)
    eps = [jnp.zeros((x.shape[0], layer.out_dim), x.dtype) for layer, _ in dense]

    def total(eps):
        inputs, taps = [], iter(eps)

        def tap(layer, h, z):
            inputs.append(h)
            return z + next(taps)

        f = net.apply(theta, x, tap)[:, 0]
        return jnp.sum(f), (f, inputs)

    grads, (f, inputs) = jax.grad(total, has_aux=True)(eps)
    return f, [DenseFactor(h, g, *layer.scales(h.shape[-1])) for (layer, _), h, g in zip(dense, inputs, grads)]


def _weight_pairs(params, n_layers: int) -> tuple[list, object]:
    """The leaves of ``params`` (None for a frozen one) as [(W, b)] per Dense layer, and the tree's structure."""
    leaves, treedef = jax.tree_util.tree_flatten(params, is_leaf=lambda v: v is None)
    if len(leaves) != 2 * n_layers:
        raise ValueError(f"net: {n_layers} Dense layers do not fit {len(leaves)} parameter arrays.")
    return list(zip(leaves[::2], leaves[1::2])), treedef


def linear_change(factors: list[DenseFactor], params, theta0) -> Array:
    """J(θ0)(θ − θ0) (n,) from the factors: Σ_l c_w·rowdot(∂f/∂z_l, h_l ΔW_l) + c_b·∂f/∂z_l Δb_l, over the
    leaves of ``params`` that are not None (frozen leaves do not move)."""
    pairs, _ = _weight_pairs(params, len(factors))
    pairs0, _ = _weight_pairs(theta0, len(factors))
    out = jnp.zeros(factors[0].h.shape[0], factors[0].h.dtype)
    for fac, (w, b), (w0, b0) in zip(factors, pairs, pairs0):
        if w is not None:
            out = out + fac.c_w * jnp.sum(fac.dfdz * (fac.h @ (w - w0)), axis=1)
        if b is not None:
            out = out + fac.c_b * (fac.dfdz @ (b - b0))
    return out


def linear_gradient(factors: list[DenseFactor], r: Array, params):
    """J(θ0)ᵀr shaped like ``params`` (None where it is None): per Dense layer c_w·hᵀ(r·∂f/∂z) and c_b·rᵀ∂f/∂z.

    With r = (f_lin − y)/n this is the gradient of ‖f_lin − y‖²/(2n), the linear model's own, for any optimizer.
    """
    pairs, treedef = _weight_pairs(params, len(factors))
    new = []
    for fac, (w, b) in zip(factors, pairs):
        g = r[:, None] * fac.dfdz
        new.append(None if w is None else fac.c_w * (fac.h.T @ g))
        new.append(None if b is None else fac.c_b * jnp.sum(g, axis=0))
    return jax.tree_util.tree_unflatten(treedef, new)


# --- trainable subsets ------------------------------------------------------------------------


def partition(tree, mask):
    """(trainable, frozen): two trees shaped like ``tree`` with None where the other one holds the leaf."""
    trainable = jax.tree_util.tree_map(lambda x, m: x if m else None, tree, mask)
    frozen = jax.tree_util.tree_map(lambda x, m: None if m else x, tree, mask)
    return trainable, frozen


def combine(trainable, frozen):
    """The inverse of :func:`partition`."""
    return jax.tree_util.tree_map(lambda a, b: b if a is None else a, trainable, frozen,
                                  is_leaf=lambda x: x is None)


# --- the run's trainer --------------------------------------------------------------------------


class GDState(NamedTuple):
    """The trainable leaves of the network, and the linearization's state.

    lin: (n,) coefficients b of f_α,lin = f_α(θ0) + Θ̂₀(·, X) b in function space; the trainable
    leaves of its parameters in parameter space.
    """

    params: list
    lin: Array | list


class GDConsts(NamedTuple):
    """What the steps read and never change: frozen leaves, θ0's trainable leaves, the data.

    offset: f(θ0, X) when centered, else 0 (n,); fa0: f_α(θ0, X) (n,); ntk0: Θ̂₀(X, X) (n, n) in
    function space (unused, (0, 0), in parameter space); lin_limit: a linearization loss above it has
    diverged (its dynamics are linear: below η_crit its loss never grows, above it the unstable modes
    grow geometrically, so 10³× the initial loss means divergence, long before an overflow).
    lin_factors: :func:`dense_factors` of θ0 on X, for the factored parameter-space linearization of a
    chunk given ``net``; () (the default): each chunk computes them (one forward and backward pass).
    """

    frozen: list
    theta0: list
    x: Array
    y: Array
    offset: Array
    fa0: Array
    ntk0: Array
    lin_limit: Array
    lin_factors: list | tuple = ()


class ChunkStats(NamedTuple):
    """Per chunk: the losses C = ‖f_α − y‖²/(2n) before its last step, and the index (within the chunk,
    −1 for none) of the first step whose loss was not finite, for the network and the linearization."""

    loss: Array
    lin_loss: Array
    net_bad: Array
    lin_bad: Array


# Elements of a weight matrix updated per block by the factored step: hᵀg of a block stays in cache.
UPDATE_BLOCK_ELEMENTS = 1 << 20


def _rank_update(w: Array, h: Array, g: Array, scale: float) -> Array:
    """w − scale·hᵀg (h: (n, rows), g: (n, cols), n small), in blocks of rows written in place.

    hᵀg has the size of w: formed whole it would be written to memory and read back; per block of rows it
    stays in cache, so a wide layer's update reads and writes w once.
    """
    rows, cols = w.shape
    block = max(1, UPDATE_BLOCK_ELEMENTS // max(cols, 1))
    if block * 2 > rows:
        return w - scale * (h.T @ g)

    def update(w, start, size):
        h_rows = jax.lax.dynamic_slice_in_dim(h, start, size, axis=1)
        w_rows = jax.lax.dynamic_slice_in_dim(w, start, size)
        return jax.lax.dynamic_update_slice_in_dim(w, w_rows - scale * (h_rows.T @ g), start, 0)

    w = jax.lax.fori_loop(0, rows // block, lambda i, w: update(w, i * block, block), w)
    return update(w, rows - rows % block, rows % block) if rows % block else w


def make_gd_chunk(apply_fn, *, alpha: float, learning_rate: float, lr_scale: float = 1.0,
                  linearization: str = "function", with_lin: bool = True, net=None, donate: bool = False):
    """Jitted ``chunk(state, consts, n_steps) -> (state, ChunkStats)``: ``n_steps`` ≥ 1 (traced, so one
    compile serves every chunk length) steps of gradient descent of f_α and of its linearization.

    ``apply_fn(params, x) -> (n,)`` is the raw network f; ``learning_rate`` is the base η, the
    parameters move with η·``lr_scale``. ``with_lin=False`` leaves the linearization where it is
    (after it diverged). Steps after a non-finite loss still run; ``net_bad``/``lin_bad`` say where.

    ``net``: the :class:`~ntklab.core.stax.Serial` that ``apply_fn`` applies (optional). With it the
    network's gradient is taken as factors, per Dense layer its input h and g = ∂C/∂z of its output
    (one backward pass, no weight gradient formed), and W −= η'·c_w·hᵀg is applied at the start of the
    next step, in row blocks (:func:`_rank_update`): the same steps, but each wide weight matrix is read
    by the forward and backward passes and rewritten once, where autodiff's step also copies it and
    writes and reads back its gradient (width 4096: bench/bench_step.py). With ``net`` the parameter-space
    linearization, too, takes its output and gradient from factors (J(θ0)'s, ``consts.lin_factors`` or
    computed once per chunk): one matrix product per layer each instead of a JVP and its transpose.
    ``donate``: the chunk reuses the buffers of the ``state`` it is given (no copy of the weights per
    call); the caller must not use that state afterwards.
    """
    steps = make_gd_steps(apply_fn, alpha=alpha, lr_scale=lr_scale, linearization=linearization, with_lin=with_lin,
                          net=net)
    return jax.jit(lambda state, consts, n_steps: steps(state, consts, n_steps, learning_rate),
                   donate_argnums=(0,) if donate else ())


def make_gd_steps(apply_fn, *, alpha: float, lr_scale: float = 1.0, linearization: str = "function",
                  with_lin: bool = True, net=None):
    """``steps(state, consts, n_steps, learning_rate) -> (state, ChunkStats)``, not jitted: the steps of
    :func:`make_gd_chunk` with η an argument, so that a caller may trace it (one compile for every η)
    or ``jax.vmap`` the steps over a batch of initializations. ``net``: as in :func:`make_gd_chunk`."""
    if linearization not in LINEARIZATIONS:
        raise ValueError(f"linearization: {linearization!r} is not valid; use one of {', '.join(LINEARIZATIONS)}.")
    inv_alpha2 = 1.0 / (alpha * alpha)

    def f_alpha(params, c: GDConsts):
        return alpha * (apply_fn(combine(params, c.frozen), c.x) - c.offset)

    def net_loss(params, c):
        return half_mse(f_alpha(params, c), c.y)

    def lin_f_param(lin, c):
        delta = jax.tree_util.tree_map(jnp.subtract, lin, c.theta0)
        _, df = jax.jvp(lambda p: apply_fn(combine(p, c.frozen), c.x), (c.theta0,), (delta,))
        return c.fa0 + alpha * df

    def lin_step(lin, stats: ChunkStats, c: GDConsts, i, learning_rate, factors=None):
        """The linearization's step i: (lin, its loss before the step, lin_bad). ``factors``: θ0's
        :func:`dense_factors` on X; with them the parameter-space gradient is J(θ0)ᵀr in factors."""
        lin_loss, lin_bad = stats.lin_loss, stats.lin_bad
        if with_lin:
            if linearization == "function":
                r = c.fa0 + c.ntk0 @ lin - c.y
                lin_loss = half_mse(r, 0.0)
                lin = lin - (learning_rate / r.shape[0]) * r
            else:
                rate = learning_rate * lr_scale * inv_alpha2
                if factors is None:
                    lin_loss, lin_grads = jax.value_and_grad(lambda p: half_mse(lin_f_param(p, c), c.y))(lin)
                else:
                    r = c.fa0 + alpha * linear_change(factors, lin, c.theta0) - c.y
                    lin_loss = half_mse(r, 0.0)
                    lin_grads = linear_gradient(factors, (alpha / r.shape[0]) * r, lin)
                lin = jax.tree_util.tree_map(lambda p, g: p - rate * g, lin, lin_grads)
            bad = ~jnp.isfinite(lin_loss) | (lin_loss > c.lin_limit)
            lin_bad = jnp.where((stats.lin_bad < 0) & bad, i, stats.lin_bad)
        return lin, lin_loss, lin_bad

    def stats0(consts):
        nan = jnp.array(jnp.nan, consts.y.dtype)
        return ChunkStats(nan, nan, jnp.int32(-1), jnp.int32(-1))

    def record(stats: ChunkStats, loss, lin_loss, lin_bad, i) -> ChunkStats:
        net_bad = jnp.where((stats.net_bad < 0) & ~jnp.isfinite(loss), i, stats.net_bad)
        return ChunkStats(loss, lin_loss, net_bad, lin_bad)

    if net is None:  # gradients by autodiff, applied at once

        def step(carry, c: GDConsts, learning_rate):
            state, stats, i = carry
            rate = learning_rate * lr_scale * inv_alpha2
            loss, grads = jax.value_and_grad(net_loss)(state.params, c)
            params = jax.tree_util.tree_map(lambda p, g: p - rate * g, state.params, grads)
            lin, lin_loss, lin_bad = lin_step(state.lin, stats, c, i, learning_rate)
            return GDState(params, lin), record(stats, loss, lin_loss, lin_bad, i), i + 1

        def steps(state: GDState, consts: GDConsts, n_steps, learning_rate):
            state, stats, _ = jax.lax.fori_loop(0, n_steps, lambda _, carry: step(carry, consts, learning_rate),
                                                (state, stats0(consts), jnp.int32(0)))
            return state, stats

        return steps

    def factors(params, c: GDConsts):
        """C(θ) and, per Dense layer in forward order, (h, ∂C/∂z): one forward and one backward pass."""
        theta = combine(params, c.frozen)
        dense = net.dense_layers(theta)
        eps = [jnp.zeros((c.x.shape[0], layer.out_dim), c.x.dtype) for layer, _ in dense]

        def loss(eps):
            inputs, taps = [], iter(eps)

            def tap(layer, h, z):
                inputs.append(h)
                return z + next(taps)

            f = net.apply(theta, c.x, tap)[:, 0]
            return half_mse(alpha * (f - c.offset), c.y), inputs

        (value, inputs), grads = jax.value_and_grad(loss, has_aux=True)(eps)
        return value, list(zip(inputs, grads))

    def apply_factors(params, pending, c: GDConsts, rate):
        """θ − η'·∇C from the factors: W −= η'·c_w·hᵀg, b −= η'·c_b·Σg, on the trainable leaves only."""
        layers = [layer for layer, _ in net.dense_layers(combine(params, c.frozen))]
        leaves, treedef = jax.tree_util.tree_flatten(params, is_leaf=lambda v: v is None)
        if len(leaves) != 2 * len(layers):
            raise ValueError(f"net: {len(layers)} Dense layers do not fit {len(leaves)} parameter arrays.")
        new = []
        for k, (layer, (h, g)) in enumerate(zip(layers, pending)):
            w, b = leaves[2 * k], leaves[2 * k + 1]
            c_w, c_b = layer.scales(h.shape[-1])
            new.append(None if w is None else _rank_update(w, h, g, rate * c_w))
            new.append(None if b is None else b - (rate * c_b) * jnp.sum(g, axis=0))
        return jax.tree_util.tree_unflatten(treedef, new)

    def steps_factored(state: GDState, consts: GDConsts, n_steps, learning_rate):
        # Step i computes C and the factors at θ_i; θ_{i+1} is formed at the start of step i + 1 (or after
        # the loop), so that each weight matrix's update is the only reader of its loop-carried buffer.
        rate = learning_rate * lr_scale * inv_alpha2
        lin_factors = None
        if with_lin and linearization == "parameter":
            lin_factors = consts.lin_factors or dense_factors(net, combine(consts.theta0, consts.frozen), consts.x)[1]

        def step(i, params, lin, stats):
            loss, pending = factors(params, consts)
            lin, lin_loss, lin_bad = lin_step(lin, stats, consts, i, learning_rate, lin_factors)
            return pending, lin, record(stats, loss, lin_loss, lin_bad, i)

        def body(i, carry):
            params, pending, lin, stats = carry
            params = apply_factors(params, pending, consts, rate)
            return (params,) + step(i, params, lin, stats)

        pending, lin, stats = step(jnp.int32(0), state.params, state.lin, stats0(consts))
        params, pending, lin, stats = jax.lax.fori_loop(jnp.int32(1), n_steps, body,
                                                        (state.params, pending, lin, stats))
        return GDState(apply_factors(params, pending, consts, rate), lin), stats

    return steps_factored


def lin_outputs(apply_fn, *, alpha: float, linearization: str = "function"):
    """``f(lin, consts, x, fa0_x, ntk0_x) -> (m,)``: the linearization f_α,lin at points x.

    fa0_x: f_α(θ0, x) (m,); ntk0_x: Θ̂₀(x, X) (m, n) in function space (ignored in parameter space).
    """

    def outputs(lin, consts: GDConsts, x, fa0_x, ntk0_x):
        if linearization == "function":
            return fa0_x + ntk0_x @ lin
        delta = jax.tree_util.tree_map(jnp.subtract, lin, consts.theta0)
        _, df = jax.jvp(lambda p: apply_fn(combine(p, consts.frozen), x), (consts.theta0,), (delta,))
        return fa0_x + alpha * df

    return outputs
