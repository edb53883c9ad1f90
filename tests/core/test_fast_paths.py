"""The speed paths equal the plain ones: the float32 arctan polynomial against NumPy's float64 arctan, the
analytic kernel in blocks of rows against one block, a point paired with itself at angle 0 exactly."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ntklab.core import MLPSpec, make_mlp
from ntklab.core.activations import _atan, _atan_unit
from ntklab.core.analytic import _kernel_in_row_blocks, make_kernel_fn


def _ulps(got, x):
    ref = np.arctan(np.asarray(x, np.float64))
    ulp = np.spacing(np.abs(ref).astype(np.float32)).astype(np.float64)
    return np.abs(np.asarray(got, np.float64) - ref) / ulp


def test_atan_unit_float32_within_ulps():
    """Q's fit is 1.7e-8 relative (0.3 ulp); Horner's rounding adds under an ulp: bench/fit_atan.py
    measures 1.12 ulp on 10⁷ points. The bound 1.5 ulp fails for a fit one degree lower (2.4 ulp). Normal
    floats only: XLA's CPU code flushes subnormals to 0."""
    t = np.concatenate([np.linspace(0, 1, 1_000_001), np.geomspace(1e-37, 1, 10_001)]).astype(np.float32)
    got = jax.jit(_atan_unit)(jnp.asarray(t))
    assert got.dtype == jnp.float32
    assert _ulps(got, t).max() <= 1.5


def test_atan_float32_whole_line_and_edges():
    """1/x, π/2 − p and the sign add one rounding each: within 2.5 ulp (measured 1.93); ±0 keeps its
    sign, ±inf gives ±π/2, NaN stays NaN."""
    mags = np.geomspace(1e-37, 1e37, 400_001)
    x = np.concatenate([-mags, mags, [1.0, -1.0, np.nextafter(1, 2), np.nextafter(1, 0)]]).astype(np.float32)
    assert _ulps(jax.jit(_atan)(jnp.asarray(x)), x).max() <= 2.5
    edge = np.asarray(jax.jit(_atan)(jnp.asarray(np.array([0.0, -0.0, np.inf, -np.inf, np.nan], np.float32))))
    assert edge[0] == 0 and not np.signbit(edge[0]) and edge[1] == 0 and np.signbit(edge[1])
    np.testing.assert_array_equal(edge[2:4], np.float32([math.pi / 2, -math.pi / 2]))
    assert np.isnan(edge[4])


def test_atan_float64_is_numpy(x64):
    x = np.geomspace(1e-300, 1e300, 10_001)
    np.testing.assert_allclose(np.asarray(_atan(jnp.asarray(np.concatenate([-x, x])))),
                               np.arctan(np.concatenate([-x, x])), rtol=2e-16, atol=0)


@pytest.mark.parametrize("activation", ["relu", "erf", "tanh"])
@pytest.mark.parametrize("symmetric", [True, False])
def test_row_blocks_equal_one_block(x64, activation, symmetric):
    """29 rows in blocks of 8 (the last block overlaps the one before) = one block of 29, to float64
    rounding: the elementwise chain is the same per element; only the matrix product's blocking may
    round differently (a few ε of |x|²), which the kernel passes on with condition O(1) off the diagonal."""
    rng = np.random.default_rng(5)
    x1, x2 = rng.normal(size=(29, 3)), rng.normal(size=(11, 3))
    net = make_mlp(MLPSpec(depth=3, activation=activation, b_std=0.1))
    other = x1 if symmetric else x2
    whole = jax.jit(lambda a, b: _kernel_in_row_blocks(net, a, b, symmetric))(x1, other)
    blocks = jax.jit(lambda a, b: _kernel_in_row_blocks(net, a, b, symmetric, rows=8))(x1, other)
    for name in ("nngp", "ntk", "cov1", "cov2"):
        ref = np.asarray(getattr(whole, name))
        np.testing.assert_allclose(getattr(blocks, name), ref, rtol=0, atol=1e-13 * np.abs(ref).max(), err_msg=name)


@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "erf", "gelu"])
def test_a_point_with_itself_is_at_angle_zero_in_float32(activation):
    """The symmetric kernel's diagonal in float32, 1000 points in blocks of 32 rows, against float64: a
    few ε per layer. Left to the matrix product, q12 of a point with itself differs from k(x, x) by the
    rounding of another order of summation (up to 2.6ε here with d = 200, beyond _gram's 2ε), the angle
    becomes ≈ √(2·rounding) instead of 0, and the ReLU NTK's diagonal is off by ~1e-4 relative."""
    rng = np.random.default_rng(6)
    x = rng.normal(size=(1000, 200)) * rng.uniform(0.3, 3, size=(1000, 1))
    spec = MLPSpec(depth=3, activation=activation, b_std=0.0)
    net = make_mlp(spec)
    k32 = jax.jit(lambda a: _kernel_in_row_blocks(net, a, a, True, rows=32))(jnp.asarray(x, jnp.float32))
    with jax.enable_x64(True):
        k64 = make_kernel_fn(spec)(jnp.asarray(x, jnp.float64))
        diag64 = {name: np.diag(np.asarray(getattr(k64, name))) for name in ("nngp", "ntk")}
    eps = float(np.finfo(np.float32).eps)
    for name, ref in diag64.items():
        got = np.diag(np.asarray(getattr(k32, name), np.float64))
        assert np.max(np.abs(got - ref) / np.abs(ref)) <= 64 * eps, name


# --- the factored training step ---------------------------------------------------------------------

_STEP_CASES = [
    (MLPSpec(depth=2, width=64), "all", 1.0, "function"),
    (MLPSpec(depth=3, width=32, architecture="resnet", activation="tanh"), "all", 2.0, "parameter"),
    (MLPSpec(depth=2, width=48, parameterization="mup"), "hidden", 1.0, "function"),
    (MLPSpec(depth=1, width=40, parameterization="mean_field"), "readout", 0.5, "function"),
    (MLPSpec(depth=2, width=64, parameterization="standard", activation="erf"), "all", 1.0, "parameter"),
    (MLPSpec(depth=2, width=32, b_std=0.5), "hidden", 1.5, "parameter"),  # frozen readout, linearization in factors
]


@pytest.mark.parametrize("spec,trainable,alpha,linearization", _STEP_CASES)
def test_factored_steps_equal_autodiff_steps(x64, monkeypatch, spec, trainable, alpha, linearization):
    """7 steps with the gradient as per-layer factors, applied a step late in row blocks of 5 (the last
    block shorter), against autodiff's gradient applied at once: the same iterates to float64 rounding
    (a few ε of the largest parameter; different orders of summation), the same losses, the same
    linearization. The centered, scaled f_α and frozen layers included."""
    from ntklab.core import empirical_ntk, init_params, make_apply_fn, trainable_mask
    from ntklab.core import training
    from ntklab.core.network import learning_rate_scale

    monkeypatch.setattr(training, "UPDATE_BLOCK_ELEMENTS", 5 * spec.width)  # blocks of 5 rows
    rng = np.random.default_rng(7)
    x, y = jnp.asarray(rng.normal(size=(12, 3))), jnp.asarray(np.sin(rng.normal(size=12)))
    theta0 = init_params(spec, 3, key=jax.random.key(1))
    apply_fn = make_apply_fn(spec)
    train0, frozen = training.partition(theta0, trainable_mask(spec, theta0, trainable))
    f0 = apply_fn(theta0, x)
    consts = training.GDConsts(frozen=frozen, theta0=train0, x=x, y=y, offset=f0, fa0=jnp.zeros_like(f0),
                               ntk0=empirical_ntk(spec, theta0, x, trainable=trainable), lin_limit=jnp.inf)
    kw = dict(alpha=alpha, learning_rate=0.05, lr_scale=learning_rate_scale(spec), linearization=linearization)
    lin0 = jnp.zeros(12) if linearization == "function" else train0
    plain = training.make_gd_chunk(apply_fn, **kw)(training.GDState(train0, lin0), consts, 7)
    state = jax.tree_util.tree_map(jnp.copy, training.GDState(train0, lin0))  # donated: a copy
    factored = training.make_gd_chunk(apply_fn, **kw, net=make_mlp(spec), donate=True)(state, consts, 7)
    for a, b in zip(jax.tree_util.tree_leaves(plain), jax.tree_util.tree_leaves(factored)):
        scale = float(jnp.max(jnp.abs(a)))
        np.testing.assert_allclose(b, a, rtol=0, atol=32 * np.finfo(np.float64).eps * max(scale, 1e-300))
    moved = [float(jnp.max(jnp.abs(a - b))) for a, b in zip(jax.tree_util.tree_leaves(plain[0].params),
                                                              jax.tree_util.tree_leaves(train0))]
    assert max(moved) > 1e-3  # it trained


# --- the parameter-space linearization in factors ---------------------------------------------------

_LIN_CASES = [
    MLPSpec(depth=1, width=24, activation="relu", b_std=0.5),
    MLPSpec(depth=3, width=16, activation="relu", b_std=0.5, parameterization="standard"),
    MLPSpec(depth=3, width=16, activation="erf", b_std=0.5),
    MLPSpec(depth=1, width=24, activation="tanh", b_std=0.5, parameterization="standard"),
    MLPSpec(depth=2, width=16, activation="tanh", b_std=0.5, architecture="resnet"),
]


def _lin_both(spec, theta0, dtype):
    """(factored, autodiff): f(θ0), J(θ0)Δθ and J(θ0)ᵀr on 8 points, each a list of arrays; and the
    magnitudes |J||Δθ| and |J|ᵀ|r| (the sums of absolute terms that bound their rounding)."""
    from ntklab.core import make_apply_fn
    from ntklab.core.training import dense_factors, linear_change, linear_gradient

    rng = np.random.default_rng(8)
    x, r = jnp.asarray(rng.normal(size=(8, 3)), dtype), jnp.asarray(rng.normal(size=8), dtype)
    theta0 = jax.tree_util.tree_map(lambda p: jnp.asarray(p, dtype), theta0)
    leaves, treedef = jax.tree_util.tree_flatten(theta0)
    delta = jax.tree_util.tree_unflatten(treedef, [jnp.asarray(0.1 * rng.normal(size=p.shape), dtype) for p in leaves])
    theta = jax.tree_util.tree_map(jnp.add, theta0, delta)
    apply_fn, net = make_apply_fn(spec), make_mlp(spec)

    def factored(theta0, theta, x, r):
        f0, factors = dense_factors(net, theta0, x)
        absf = [f._replace(h=jnp.abs(f.h), dfdz=jnp.abs(f.dfdz)) for f in factors]
        zero = jax.tree_util.tree_map(jnp.zeros_like, theta0)
        size = (linear_change(absf, jax.tree_util.tree_map(jnp.abs, delta), zero),
                linear_gradient(absf, jnp.abs(r), theta0))
        return (f0, linear_change(factors, theta, theta0), linear_gradient(factors, r, theta)), size

    def autodiff(theta0, theta, x, r):
        f0, vjp = jax.vjp(lambda p: apply_fn(p, x), theta0)
        _, df = jax.jvp(lambda p: apply_fn(p, x), (theta0,), (jax.tree_util.tree_map(jnp.subtract, theta, theta0),))
        return f0, df, vjp(r)[0]

    (got, size), ref = jax.jit(lambda *a: (factored(*a), autodiff(*a)))(theta0, theta, x, r)
    return [jax.tree_util.tree_leaves(t) for t in (got, ref, size)]


@pytest.mark.parametrize("spec", _LIN_CASES)
def test_linearization_in_factors_equals_jvp_and_vjp(spec):
    """f(θ0), J(θ0)Δθ and J(θ0)ᵀr from per-layer factors (one forward and one backward pass at θ0) against
    JAX's JVP and VJP, biases, both parameterizations, ReLU/erf/tanh, depth 1 and 3, a resnet. float64:
    to 1e-12 of each array's largest entry (different orders of summation). float32 against that float64
    answer, normwise: within Higham's γ_k = k·u per accumulated product, k = (2·depth + 3)·max(width, d) (the
    forward and backward passes that make the factors, then the product), times the largest sum of absolute
    terms |J||Δθ| or |J|ᵀ|r| — a worst case; an error in the maths is O(1) of it."""
    from ntklab.core import init_params

    with jax.enable_x64(True):
        theta0 = jax.device_get(init_params(spec, 3, key=jax.random.key(2), dtype=jnp.float64))
        got64, ref64, size = _lin_both(spec, theta0, jnp.float64)
        assert len(got64) == len(ref64) == 2 + 2 * (spec.depth + (2 if spec.architecture == "resnet" else 1))
        for g, a in zip(got64, ref64):
            a = np.asarray(a)
            np.testing.assert_allclose(np.asarray(g), a, rtol=0, atol=1e-12 * np.abs(a).max())
    got32, _, _ = _lin_both(spec, theta0, jnp.float32)
    k = (2 * spec.depth + 3) * max(spec.width, 3)
    u = float(np.finfo(np.float32).eps) / 2
    for i, (g, a) in enumerate(zip(got32, ref64)):
        assert g.dtype == jnp.float32
        bound = k * u * np.max(np.abs(np.asarray(a)) if i == 0 else np.asarray(size[i - 1]))
        assert np.max(np.abs(np.asarray(g, np.float64) - np.asarray(a))) <= bound, i


@pytest.mark.parametrize("spec", [_LIN_CASES[0], _LIN_CASES[1], _LIN_CASES[3]], ids=["relu1", "relu3std", "tanh1std"])
def test_train_chunk_in_factors_equals_autodiff_chunk(spec):
    """4 steps of ``make_train_chunk`` with momentum (an optimizer other than plain GD: the factored gradient
    is the linear model's own), its linearization from factors against autodiff's (``apply_fn`` without
    ``.net``): the same losses and iterates, float64 to 1e-12 of each array's largest entry; float32 against
    that float64 run normwise within (steps + 1)·γ_k, k as above (each step's rounding, carried on)."""
    import optax

    from ntklab.core import init_params, init_train_state, make_apply_fn, make_train_chunk

    rng = np.random.default_rng(9)
    x_np, y_np = rng.normal(size=(8, 3)), np.sin(rng.normal(size=8))
    opt = optax.sgd(0.05, momentum=0.9)
    apply_fn = make_apply_fn(spec)

    def run(chunk_fn, theta0, dtype):
        state = init_train_state(theta0, opt)
        return jax.tree_util.tree_leaves(chunk_fn(state, theta0, jnp.asarray(x_np, dtype), jnp.asarray(y_np, dtype)))

    with jax.enable_x64(True):
        theta0 = jax.device_get(init_params(spec, 3, key=jax.random.key(3), dtype=jnp.float64))
        ref = run(make_train_chunk(lambda p, x: apply_fn(p, x), opt, 4), theta0, jnp.float64)
        got = run(make_train_chunk(apply_fn, opt, 4), theta0, jnp.float64)
        for g, a in zip(got, ref):
            np.testing.assert_allclose(np.asarray(g), np.asarray(a), rtol=0, atol=1e-12 * np.abs(np.asarray(a)).max())
        ref = [np.asarray(a) for a in ref]
    leaves0 = jax.tree_util.tree_leaves(theta0)
    lin_params = ref[len(leaves0):2 * len(leaves0)]  # TrainState(params, lin_params, ...)
    assert max(float(np.max(np.abs(a - b))) for a, b in zip(lin_params, leaves0)) > 1e-3  # it trained
    theta0_32 = jax.tree_util.tree_map(lambda p: jnp.asarray(p, jnp.float32), theta0)
    got32 = run(make_train_chunk(apply_fn, opt, 4), theta0_32, jnp.float32)
    k = (2 * spec.depth + 3) * max(spec.width, 3)
    u = float(np.finfo(np.float32).eps) / 2
    for g, a in zip(got32, ref):
        assert g.dtype == jnp.float32
        assert np.max(np.abs(np.asarray(g, np.float64) - a)) <= 5 * k * u * np.abs(a).max()
