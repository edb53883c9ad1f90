"""The multilayer perceptron of the lab: its spec, and the one definition of network and kernel."""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp

from ntklab.core.activations import ACTIVATIONS, get_activation
from ntklab.core.stax import PARAMETERIZATIONS, Dense, Elementwise, Serial

Array = jax.Array


@dataclass(frozen=True)
class MLPSpec:
    """A fully connected network: ``depth`` hidden layers of ``width`` units, then a Dense(1) readout.

    Matches nt's ``serial(*[Dense(width, w_std, b_std, p), Act()] * depth, Dense(1, w_std, b_std, p))``.
    ``activation_params`` may be given as a dict; it is stored as a sorted tuple of pairs so that a
    spec is hashable (``spec.activation_kwargs`` gives the dict back).
    """

    depth: int = 2
    width: int = 512
    activation: str = "relu"
    activation_params: Any = field(default=())
    w_std: float = math.sqrt(2.0)
    b_std: float = 1.0
    parameterization: str = "ntk"

    def __post_init__(self):
        params = self.activation_params
        if isinstance(params, Mapping):
            params = tuple(sorted(params.items()))
        object.__setattr__(self, "activation_params", tuple(tuple(p) for p in params))
        if not isinstance(self.depth, int) or isinstance(self.depth, bool) or self.depth < 0:
            raise ValueError(f"depth: {self.depth!r} is not valid; use an integer ≥ 0 (hidden layers).")
        if not isinstance(self.width, int) or isinstance(self.width, bool) or self.width < 1:
            raise ValueError(f"width: {self.width!r} is not valid; use an integer ≥ 1.")
        if self.activation not in ACTIVATIONS:
            get_activation(self.activation)  # raises with the list of names
        get_activation(self.activation).resolve(dict(self.activation_params))
        if self.parameterization not in PARAMETERIZATIONS:
            raise ValueError(
                f"parameterization: {self.parameterization!r} is not valid; use 'ntk' or 'standard'."
            )
        for name in ("w_std", "b_std"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise ValueError(f"{name}: {value!r} is not valid; use a finite number ≥ 0.")

    @property
    def activation_kwargs(self) -> dict[str, Any]:
        """Activation parameters with their defaults filled in."""
        return get_activation(self.activation).resolve(dict(self.activation_params))


def make_mlp(spec: MLPSpec) -> Serial:
    """The network of ``spec`` as a :class:`Serial` of layers (init, apply and kernel maps)."""
    act = Elementwise(spec.activation, tuple(sorted(spec.activation_kwargs.items())))
    hidden = [Dense(spec.width, spec.w_std, spec.b_std, spec.parameterization), act] * spec.depth
    readout = Dense(1, spec.w_std, spec.b_std, spec.parameterization)
    return Serial(tuple(hidden) + (readout,))


def init_params(spec: MLPSpec, in_dim: int, *, key: Array, dtype=None) -> list:
    """θ0: a list with one entry per layer ((W, b) for Dense, () for activations)."""
    return _jitted_init(spec, in_dim, jnp.dtype(dtype or jnp.zeros(()).dtype))(key)


@functools.lru_cache(maxsize=64)
def _jitted_init(spec: MLPSpec, in_dim: int, dtype):
    net = make_mlp(spec)
    return jax.jit(lambda key: net.init(key, in_dim, dtype)[1])


def make_apply_fn(spec: MLPSpec):
    """``f(params, x) -> (n,)``: the scalar network output on a batch x of shape (n, d)."""
    net = make_mlp(spec)

    def apply_fn(params, x):
        return net.apply(params, x)[:, 0]

    return apply_fn


TRAINABLE = ("all", "readout", "hidden")


def _check_trainable(trainable: str) -> None:
    if trainable not in TRAINABLE:
        raise ValueError(f"trainable: {trainable!r} is not valid; use one of {', '.join(TRAINABLE)}.")


def trainable_mask(spec: MLPSpec, params, trainable: str = "all") -> list:
    """A pytree of bools shaped like ``params``: which leaves gradient descent trains.

    'all': every weight and bias; 'readout': the last Dense layer only (random features, Arora et al.
    2019's "weakly trained" net); 'hidden': every layer but the readout.
    """
    _check_trainable(trainable)
    net = make_mlp(spec)
    dense = [i for i, layer in enumerate(net.layers) if isinstance(layer, Dense)]
    readout = dense[-1]
    mask = []
    for i, p in enumerate(params):
        on = trainable == "all" or (i == readout) == (trainable == "readout")
        mask.append(jax.tree_util.tree_map(lambda _: on, p))
    return mask


def learning_rate_scale(spec: MLPSpec) -> float:
    """n^(−c): the factor the parameterization puts on the learning rate (1 for 'ntk' and 'standard')."""
    del spec
    return 1.0


def kernel_limit(spec: MLPSpec) -> str | None:
    """None when the network has an infinite-width NTK/NNGP; else one line saying why not."""
    del spec
    return None


def hidden_preactivations(spec: MLPSpec, params, x: Array) -> list[Array]:
    """Each hidden layer's pre-activations on x: a list of (n, width), first hidden layer first."""
    net = make_mlp(spec)
    out, h = [], x
    for layer, p in zip(net.layers[:-1], params[:-1]):
        h = layer.apply(p, h)
        if isinstance(layer, Dense):
            out.append(h)
    return out


def dense_weights(spec: MLPSpec, params) -> list[Array]:
    """The weight matrix W of every Dense layer, the readout last."""
    net = make_mlp(spec)
    return [p[0] for layer, p in zip(net.layers, params) if isinstance(layer, Dense)]


def count_params(params) -> int:
    return sum(int(jnp.size(p)) for p in jax.tree_util.tree_leaves(params))
