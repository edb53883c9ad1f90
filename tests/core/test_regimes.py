"""Parameterizations (ntk, standard, μP, mean-field), trainable subsets, and the new MLPSpec fields.

Independent answers: Yang & Hu's abc table (TP4) through its consequences — width exponents of the NTK and
of f0, the symmetry that makes mean-field and μP one parameterization, the coordinate check — Monte Carlo
against the analytic kernels, and the Jacobian contraction.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ntklab.core import (
    MLPSpec,
    analytic_kernels,
    empirical_ntk,
    hidden_preactivations,
    init_params,
    kernel_limit,
    learning_rate_scale,
    make_apply_fn,
    make_kernel_fn,
    make_mlp,
    trainable_mask,
)

WIDTHS = [64, 128, 256, 512, 1024, 2048]


def _slope(widths, values) -> float:
    return float(np.polyfit(np.log(widths), np.log(values), 1)[0])


# --- bad values: every new field's message names it and says what to use --------------------------------


@pytest.mark.parametrize("field,value,expect", [
    ("parameterization", "muP",
     "parameterization: 'muP' is not valid; use one of 'ntk', 'standard', 'mup', 'mean_field'"),
    ("architecture", "cnn", "architecture: 'cnn' is not valid; use one of 'mlp', 'resnet'"),
    ("branch_scale", 0.0, "branch_scale: 0.0 is not valid; use a finite number > 0"),
    ("branch_scale", -1.0, "branch_scale: -1.0 is not valid"),
    ("branch_scale", math.inf, "branch_scale: inf is not valid"),
    ("branch_scale", "1", "branch_scale: '1' is not valid"),
    ("output_scale", 0, "output_scale: 0 is not valid; use a finite number > 0"),
    ("output_scale", math.nan, "output_scale: nan is not valid"),
    ("output_scale", True, "output_scale: True is not valid"),
    ("centered", 1, "centered: 1 is not valid; use true or false"),
    ("centered", "yes", "centered: 'yes' is not valid"),
])
def test_bad_values_name_the_field(field, value, expect):
    with pytest.raises(ValueError) as info:
        MLPSpec(**{field: value})
    assert str(info.value).startswith(expect), str(info.value)


@pytest.mark.parametrize("kwargs", [dict(depth=2), dict(depth=0), dict(depth=1, architecture="resnet")])
def test_mean_field_is_one_hidden_layer(kwargs):
    with pytest.raises(ValueError, match=r"^parameterization: 'mean_field' .*use 'mup'"):
        MLPSpec(parameterization="mean_field", **kwargs)


def test_mup_needs_a_hidden_layer():
    with pytest.raises(ValueError, match=r"^parameterization: 'mup' .*depth 0"):
        MLPSpec(depth=0, parameterization="mup")
    MLPSpec(depth=0, parameterization="mup", architecture="resnet")  # the input Dense has a width


def test_new_fields_defaults_and_apply_is_raw_f():
    spec = MLPSpec()
    assert (spec.architecture, spec.branch_scale, spec.output_scale, spec.centered) == ("mlp", 1.0, 1.0, False)
    x = jnp.ones((3, 2))
    params = init_params(spec, 2, key=jax.random.key(0))
    scaled = MLPSpec(output_scale=100.0, centered=True)
    np.testing.assert_array_equal(make_apply_fn(scaled)(params, x), make_apply_fn(spec)(params, x))


# --- kernel limits and learning-rate scale -------------------------------------------------------------


@pytest.mark.parametrize("parameterization", ["mup", "mean_field"])
def test_no_kernel_limit_is_said_and_refused(parameterization):
    spec = MLPSpec(depth=1, parameterization=parameterization)
    reason = kernel_limit(spec)
    assert isinstance(reason, str) and "feature" in reason and "\n" not in reason
    with pytest.raises(ValueError, match=rf"^parameterization: '{parameterization}' has no infinite-width"):
        analytic_kernels(spec, np.ones((2, 1)))
    with pytest.raises(ValueError, match="^parameterization"):
        make_kernel_fn(spec)


@pytest.mark.parametrize("architecture", ["mlp", "resnet"])
def test_kernel_limit_exists_for_ntk_and_standard(architecture):
    for p in ("ntk", "standard"):
        assert kernel_limit(MLPSpec(parameterization=p, architecture=architecture)) is None


def test_learning_rate_scale_is_n_to_minus_c():
    assert learning_rate_scale(MLPSpec(width=300)) == 1.0
    assert learning_rate_scale(MLPSpec(width=300, parameterization="standard")) == 1.0
    assert learning_rate_scale(MLPSpec(width=300, parameterization="mup")) == 1.0
    assert learning_rate_scale(MLPSpec(depth=1, width=300, parameterization="mean_field")) == 300.0


# --- consequences of the abc table, exact at finite width ------------------------------------------------


@pytest.mark.parametrize("architecture,depth", [("mlp", 1), ("mlp", 3), ("resnet", 2)])
def test_mup_at_init_is_ntk_with_a_readout_sqrt_n_smaller(x64, architecture, depth):
    """From the table, with the same normal draws: μP's features equal NTP's (input a+b = 0, hidden a+b = ½),
    its readout is n^(−½) smaller (a+b = 1 vs ½) and starts without bias, so f_μP = (f_NTP − b_readout)/√n;
    every layer's NTK term has the same size (n^(−2a)·‖δ‖² is unchanged), so Θ̂_μP = Θ̂_NTP exactly."""
    kw = dict(depth=depth, width=96, activation="erf", b_std=0.3, architecture=architecture)
    ntk, mup = MLPSpec(parameterization="ntk", **kw), MLPSpec(parameterization="mup", **kw)
    key = jax.random.key(3)
    p_ntk, p_mup = init_params(ntk, 3, key=key), init_params(mup, 3, key=key)
    x = jax.random.normal(jax.random.key(1), (5, 3))
    readout_bias = 0.3 * p_ntk[-1][1][0]
    f_ntk = make_apply_fn(ntk)(p_ntk, x)
    np.testing.assert_allclose(make_apply_fn(mup)(p_mup, x), (f_ntk - readout_bias) / math.sqrt(96), rtol=1e-12,
                               atol=1e-15)
    for trainable in ("all", "readout", "hidden"):
        np.testing.assert_allclose(empirical_ntk(mup, p_mup, x, trainable=trainable),
                                   empirical_ntk(ntk, p_ntk, x, trainable=trainable), rtol=1e-12)


def test_mean_field_is_mup_by_the_abc_symmetry(x64):
    """TP4: (a, b, c) → (a + θ, b − θ, c − 2θ) leaves SGD's function trajectory unchanged. Mean-field is
    one-hidden-layer μP shifted by θ = ½, so with the same draws the two train to the same f."""
    kw = dict(depth=1, width=128, activation="tanh", b_std=0.5)
    mf, mup = MLPSpec(parameterization="mean_field", **kw), MLPSpec(parameterization="mup", **kw)
    x = jnp.linspace(-2, 2, 10).reshape(-1, 1)
    y = jnp.sin(2 * x[:, 0])

    def train(spec, steps=30, eta=0.5):
        f = make_apply_fn(spec)
        lr = eta * learning_rate_scale(spec)
        params = init_params(spec, 1, key=jax.random.key(4))
        grad = jax.jit(jax.grad(lambda p: jnp.mean((f(p, x) - y) ** 2) / 2))
        outputs = [f(params, x)]
        for _ in range(steps):
            params = jax.tree_util.tree_map(lambda p, g: p - lr * g, params, grad(params))
            outputs.append(f(params, x))
        return np.stack(outputs), params

    f_mf, p_mf = train(mf)
    f_mup, p_mup = train(mup)
    assert np.abs(f_mf[-1] - f_mf[0]).max() > 0.1  # it trained
    np.testing.assert_allclose(f_mf, f_mup, rtol=0, atol=1e-11)
    for h_mf, h_mup in zip(hidden_preactivations(mf, p_mf, x), hidden_preactivations(mup, p_mup, x)):
        np.testing.assert_allclose(h_mf, h_mup, rtol=1e-11, atol=1e-12)


# --- width exponents: the NTK's and f0's scale over widths 64…2048 --------------------------------------
#
# With x^l = O(1) coordinates at init (true in all four rows), f0 has variance n·n^(−2(a+b)_readout),
# and the backward signal δ^l below the readout has ‖δ^l‖² ~ n·n^(−2(a+b)_readout) (hidden a+b = ½ keep
# its size). Layer l's NTK term is n^(−c)·n^(−2a_l)·‖x^(l−1)‖²·‖δ^l‖², ‖x‖² ~ n (d for the input):
#   exponent of f0²: 1 − 2(a+b)_readout          ntk, standard: 0    mup, mean_field: −1
#   readout term: −c − 2a_readout + 1             ntk 0, standard 1, mup 0, mean_field 1 − 2 + 1 = 0
#   hidden term:  −c − 2a + 1 + 1 − 2(a+b)_ro     ntk 0, standard 1, mup 0
#   input term:   −c − 2a_1 + 1 − 2(a+b)_ro       ntk 0, standard 0, mup 0, mean_field 0
# so trace Θ̂ ∝ n^0 for ntk, mup, mean_field and → n^1 for standard (its O(1) input term lowers the fitted
# slope a little at small widths).
SCALING_WIDTHS = [64, 256, 1024, 2048]  # four widths: each one is a compile of the vmapped init + NTK
SCALING = [("ntk", 2, 0.0, 0.0), ("standard", 2, 1.0, 0.0), ("mup", 2, 0.0, -1.0), ("mean_field", 1, 0.0, -1.0)]


@pytest.mark.slow
@pytest.mark.parametrize("parameterization,depth,ntk_slope,f0_slope", SCALING, ids=[s[0] for s in SCALING])
def test_ntk_and_output_scale_with_width_follow_the_table(parameterization, depth, ntk_slope, f0_slope):
    x = jax.random.normal(jax.random.key(1), (32, 2))  # the trace on the first 8, f0² on all 32
    parts = ("all",) if parameterization in ("ntk", "standard") else ("all", "readout", "hidden")
    traces, f0_squared = {t: [] for t in parts}, []
    for width in SCALING_WIDTHS:
        spec = MLPSpec(depth=depth, width=width, activation="erf", b_std=0.3, parameterization=parameterization)

        def one(key):
            params = init_params(spec, 2, key=key)
            return ([jnp.trace(empirical_ntk(spec, params, x[:8], trainable=t)) for t in parts],
                    jnp.mean(make_apply_fn(spec)(params, x) ** 2))

        tr, f2 = jax.jit(jax.vmap(one))(jax.random.split(jax.random.key(0), 16))
        for t, values in zip(parts, tr):
            traces[t].append(float(values.mean()))
        f0_squared.append(float(f2.mean()))
    # Seed noise of the fitted slopes (16 seeds, 3 base keys, six widths): trace ±0.01, f0² ±0.05.
    for t in parts:  # each part of μP's / mean-field's NTK is O(1) on its own
        slope = _slope(SCALING_WIDTHS, traces[t])
        assert abs(slope - ntk_slope) < (0.05 if ntk_slope == 0 else 0.15), (t, slope, traces[t])
    slope = _slope(SCALING_WIDTHS, f0_squared)
    assert abs(slope - f0_slope) < 0.15, (slope, f0_squared)


# --- Yang & Hu's coordinate check ------------------------------------------------------------------------


def _feature_movement(spec, steps=5, eta=0.5, seeds=2):
    """‖h_l(t) − h_l(0)‖/‖h_l(0)‖ per hidden layer after ``steps`` of GD at η·n^(−c) on ‖f − y‖²/(2n)."""
    x = jnp.linspace(-2, 2, 16).reshape(-1, 1)
    x = jnp.concatenate([x, jnp.cos(x)], axis=1)
    y = jnp.sin(2 * x[:, 0])
    f = make_apply_fn(spec)
    lr = eta * learning_rate_scale(spec)
    loss = lambda p: jnp.mean((f(p, x) - y) ** 2) / 2  # noqa: E731

    @jax.jit
    def run(params):
        def step(p, _):
            return jax.tree_util.tree_map(lambda a, g: a - lr * g, p, jax.grad(loss)(p)), None

        return jax.lax.scan(step, params, None, steps)[0]

    moves = []
    for seed in range(seeds):
        theta0 = init_params(spec, 2, key=jax.random.key(seed))
        theta = run(theta0)
        assert float(loss(theta)) < float(loss(theta0))
        moves.append([float(jnp.linalg.norm(b - a) / jnp.linalg.norm(a)) for a, b in
                      zip(hidden_preactivations(spec, theta0, x), hidden_preactivations(spec, theta, x))])
    return np.mean(moves, axis=0)


@pytest.mark.slow
@pytest.mark.parametrize("parameterization,expected", [("ntk", -0.5), ("mup", 0.0)])
def test_coordinate_check(parameterization, expected):
    """NTK: features move by O(n^(−½)) (lazy); μP: by O(1) (they learn), at a fixed η and number of steps."""
    moves = np.array([_feature_movement(MLPSpec(depth=2, width=n, activation="relu", b_std=0.5,
                                                parameterization=parameterization)) for n in WIDTHS])
    for layer in range(moves.shape[1]):
        slope = _slope(WIDTHS, moves[:, layer])
        assert abs(slope - expected) < 0.15, (layer, slope, moves[:, layer])


# --- which layers train -------------------------------------------------------------------------------


@pytest.mark.parametrize("architecture", ["mlp", "resnet"])
def test_trainable_mask_readout_is_the_last_dense(architecture):
    spec = MLPSpec(depth=2, width=8, architecture=architecture)
    params = init_params(spec, 3, key=jax.random.key(0))
    flat = {t: jax.tree_util.tree_leaves(trainable_mask(spec, params, t)) for t in ("all", "readout", "hidden")}
    assert all(flat["all"]) and flat["readout"] == [False] * (len(flat["all"]) - 2) + [True, True]
    assert flat["hidden"] == [not on for on in flat["readout"]]
    with pytest.raises(ValueError, match="^trainable: 'some'"):
        trainable_mask(spec, params, "some")


def test_hidden_training_of_a_depth0_mlp_is_refused():
    with pytest.raises(ValueError, match="^trainable: 'hidden' trains nothing"):
        make_mlp(MLPSpec(depth=0), "hidden")


@pytest.mark.parametrize("architecture", ["mlp", "resnet"])
@pytest.mark.parametrize("parameterization", ["ntk", "standard"])
def test_analytic_subsets_add_up(x64, architecture, parameterization):
    spec = MLPSpec(depth=3, activation="gelu", b_std=0.2, architecture=architecture, parameterization=parameterization)
    x = np.random.default_rng(0).normal(size=(6, 2))
    k = {t: analytic_kernels(spec, x, trainable=t) for t in ("all", "readout", "hidden")}
    np.testing.assert_allclose(k["readout"].ntk + k["hidden"].ntk, k["all"].ntk, rtol=1e-13)
    np.testing.assert_array_equal(k["readout"].nngp, k["all"].nngp)
    if parameterization == "ntk":  # the readout's own term is the network's NNGP (Arora et al. 2019)
        np.testing.assert_allclose(k["readout"].ntk, k["all"].nngp, rtol=1e-14)
    else:  # standard: N_in·q_L + 1, with q_L the readout's input kernel: NNGP = W_std²·q_L + b_std²
        q_last = (k["all"].nngp - spec.b_std**2) / spec.w_std**2
        np.testing.assert_allclose(k["readout"].ntk, spec.width * q_last + 1.0, rtol=1e-12)


@pytest.mark.slow
@pytest.mark.parametrize("parameterization", ["ntk", "standard"])
def test_trainable_subsets_match_monte_carlo(x64, parameterization):
    width, seeds = 2048, 8
    spec = MLPSpec(depth=2, width=width, activation="relu", w_std=1.3, b_std=0.4, parameterization=parameterization)
    x = np.random.default_rng(1).normal(size=(4, 3))
    for trainable in ("readout", "hidden"):
        ref = analytic_kernels(spec, x, trainable=trainable).ntk
        samples = np.stack([np.asarray(empirical_ntk(spec, init_params(spec, 3, key=jax.random.key(s)),
                                                     jnp.asarray(x), trainable=trainable)) for s in range(seeds)])
        mean, se = samples.mean(0), samples.std(0, ddof=1) / np.sqrt(seeds)
        assert np.all(np.abs(mean - ref) <= 5 * se + 4 * np.abs(ref).max() / width), (trainable, mean, ref, se)
