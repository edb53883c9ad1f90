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


def count_params(params) -> int:
    return sum(int(jnp.size(p)) for p in jax.tree_util.tree_leaves(params))
