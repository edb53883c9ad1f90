"""The per-snapshot evaluation (session/experiment.py ``make_evaluate``) against the plain formulas it
replaces: f on all points, the loss, ‖θ − θ0‖, each hidden layer's relative pre-activation change and each
Dense layer's relative weight change, recomputed here from ``apply_fn``, ``hidden_preactivations`` and
``dense_weights`` in NumPy float64."""

import jax
import numpy as np
import pytest

from ntklab.core import MLPSpec, dense_weights, hidden_preactivations, init_params, make_apply_fn, trainable_mask
from ntklab.core.training import GDConsts, combine, partition
from ntklab.session.experiment import make_evaluate


def _rel(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return np.linalg.norm(a - b) / (np.linalg.norm(b) or 1.0)


@pytest.mark.parametrize("spec,trainable", [
    (MLPSpec(depth=2, width=16), "all"),
    pytest.param(MLPSpec(depth=2, width=12, architecture="resnet", activation="tanh"), "all", marks=pytest.mark.slow),
    pytest.param(MLPSpec(depth=3, width=10, parameterization="mup"), "hidden", marks=pytest.mark.slow),
])
def test_evaluate_equals_plain_formulas(x64, spec, trainable):
    rng = np.random.default_rng(3)
    x, y, x_all = rng.normal(size=(6, 2)), rng.normal(size=6), rng.normal(size=(15, 2))  # NumPy: no eager op
    theta0 = jax.jit(lambda key: init_params(spec, 2, key=key))(jax.random.key(2))  # one compile, not one per op
    apply_fn = make_apply_fn(spec)
    train0, frozen = partition(theta0, trainable_mask(spec, theta0, trainable))
    params = jax.tree_util.tree_map(lambda p: None if p is None else np.asarray(p) + 0.1 * rng.normal(size=p.shape),
                                    train0, is_leaf=lambda p: p is None)
    alpha, n = 2.0, 6
    offset, offset_all = jax.jit(lambda t: (apply_fn(t, x), apply_fn(t, x_all)))(theta0)
    consts = GDConsts(frozen=frozen, theta0=train0, x=x, y=y, offset=offset, fa0=np.zeros(n), ntk0=np.eye(n),
                      lin_limit=np.inf)
    fa0_all, ntk0_all = np.zeros(15), np.ones((15, n))
    lin = rng.normal(size=n)
    fixed = (consts, x_all, offset_all, fa0_all, ntk0_all, theta0, dense_weights(spec, theta0))
    evaluate = jax.jit(make_evaluate(spec, apply_fn, alpha=alpha, linearization="function"))
    f_all, f_lin, loss, dist, features, weights = jax.device_get(evaluate(params, lin, fixed))

    @jax.jit
    def plain(params):  # the network's own functions, one compiled call (eager ops compile one by one)
        theta = combine(params, frozen)
        return (apply_fn(theta, x_all), apply_fn(theta, x), theta, hidden_preactivations(spec, theta, x),
                hidden_preactivations(spec, theta0, x), dense_weights(spec, theta))

    f_x_all, f_x, theta, pre, pre0, w = jax.device_get(plain(params))
    eps = np.finfo(np.float64).eps
    np.testing.assert_allclose(f_all, alpha * (f_x_all - np.asarray(offset_all)), rtol=0, atol=1e3 * eps)
    np.testing.assert_allclose(f_lin, np.asarray(ntk0_all) @ np.asarray(lin), rtol=1e3 * eps)
    f = alpha * (f_x - np.asarray(offset))
    assert loss == pytest.approx(0.5 * np.mean((f - np.asarray(y)) ** 2), rel=1e3 * eps)
    diffs = [np.asarray(a, np.float64) - np.asarray(b, np.float64)
             for a, b in zip(jax.tree_util.tree_leaves(theta), jax.tree_util.tree_leaves(theta0))]
    assert dist == pytest.approx(np.sqrt(sum(np.sum(d ** 2) for d in diffs)), rel=1e3 * eps)
    assert dist > 0.1  # it moved
    np.testing.assert_allclose(features, [_rel(h, h0) for h, h0 in zip(pre, pre0)], rtol=1e3 * eps)
    w0 = dense_weights(spec, theta0)
    np.testing.assert_allclose(weights, [_rel(a, b) for a, b in zip(w, w0)], rtol=1e3 * eps, atol=1e3 * eps)
    assert (np.asarray(weights) == 0).any() == (trainable != "all")  # frozen layers did not move
