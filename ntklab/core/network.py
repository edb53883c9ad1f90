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
from ntklab.core.stax import ABC, KERNEL_PARAMETERIZATIONS, PARAMETERIZATIONS, Dense, Elementwise, Residual, Serial

Array = jax.Array
ARCHITECTURES = ("mlp", "resnet")


@dataclass(frozen=True)
class MLPSpec:
    """A fully connected network of ``width`` units with a Dense(1) readout.

    'mlp': ``depth`` hidden layers; nt's ``serial(*[Dense(width, w_std, b_std, p), Act()] * depth,
    Dense(1, w_std, b_std, p))``. 'resnet': an input Dense to ``width``, then ``depth`` blocks
    h ← h + s·Dense(φ(h)) with s = branch_scale/√depth (see :func:`make_mlp`), then Dense(1) on h.
    ``parameterization``: 'ntk', 'standard', 'mup' (μP, Yang & Hu 2021) or 'mean_field' (one hidden
    layer; μP is its extension to depth), the ``stax.ABC`` table. ``output_scale`` (α) and ``centered``
    belong to training (f_α = α·(f(θ) − f(θ0)), Chizat et al. 2019); the network itself stays f.
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
    architecture: str = "mlp"
    branch_scale: float = 1.0
    output_scale: float = 1.0
    centered: bool = False

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
                f"parameterization: {self.parameterization!r} is not valid; use one of "
                f"{', '.join(repr(p) for p in PARAMETERIZATIONS)}."
            )
        for name in ("w_std", "b_std"):
            value = getattr(self, name)
            if not (_is_number(value) and math.isfinite(value) and value >= 0):
                raise ValueError(f"{name}: {value!r} is not valid; use a finite number ≥ 0.")
        if self.architecture not in ARCHITECTURES:
            raise ValueError(
                f"architecture: {self.architecture!r} is not valid; use one of {', '.join(map(repr, ARCHITECTURES))}."
            )
        for name in ("branch_scale", "output_scale"):
            value = getattr(self, name)
            if not (_is_number(value) and math.isfinite(value) and value > 0):
                raise ValueError(f"{name}: {value!r} is not valid; use a finite number > 0.")
        if not isinstance(self.centered, bool):
            raise ValueError(f"centered: {self.centered!r} is not valid; use true or false.")
        if self.parameterization == "mean_field" and (self.architecture != "mlp" or self.depth != 1):
            raise ValueError(
                f"parameterization: 'mean_field' is defined for one hidden layer (architecture 'mlp', depth 1), "
                f"not {self.architecture!r} of depth {self.depth}; use 'mup', its extension to any depth."
            )
        if self.parameterization == "mup" and self.architecture == "mlp" and self.depth == 0:
            raise ValueError(
                "parameterization: 'mup' scales hidden layers, and depth 0 has none (a linear model, the same "
                "in every parameterization); use 'ntk', or depth ≥ 1."
            )

    @property
    def activation_kwargs(self) -> dict[str, Any]:
        """Activation parameters with their defaults filled in."""
        return get_activation(self.activation).resolve(dict(self.activation_params))


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def resolved_branch_scale(spec: MLPSpec) -> float:
    """s = branch_scale/√depth, the factor on each residual branch.

    The 1/√depth keeps the forward variance bounded at any depth (with ReLU and W_std = √2, b_std = 0:
    q_L = q_0·(1 + s²)^L ≤ e·q_0 at branch_scale 1), the 1/L-type scaling of Du et al. 2019
    (c_res/H there) with the square root that bounds the variance rather than the mean.
    """
    return spec.branch_scale / math.sqrt(max(spec.depth, 1))


TRAINABLE = ("all", "readout", "hidden")


def _check_trainable(trainable: str) -> None:
    if trainable not in TRAINABLE:
        raise ValueError(f"trainable: {trainable!r} is not valid; use one of {', '.join(TRAINABLE)}.")


def make_mlp(spec: MLPSpec, trainable: str = "all") -> Serial:
    """The network of ``spec`` as a :class:`Serial` of layers (init, apply and kernel maps).

    ``trainable`` marks the Dense layers gradient descent trains (the readout, the others, or all);
    it changes only the kernel map (a frozen layer adds no term of its own to the NTK).
    """
    _check_trainable(trainable)
    if trainable == "hidden" and spec.architecture == "mlp" and spec.depth == 0:
        raise ValueError("trainable: 'hidden' trains nothing in an mlp of depth 0 (its one layer is the readout); "
                         "use 'all' or 'readout'.")
    act = Elementwise(spec.activation, tuple(sorted(spec.activation_kwargs.items())))
    p = spec.parameterization
    on = {"readout": trainable != "hidden", "other": trainable != "readout"}

    def dense(out_dim, role):
        return Dense(out_dim, spec.w_std, spec.b_std, p, role, on["readout" if role == "readout" else "other"])

    readout = dense(1, "readout")
    if spec.architecture == "resnet":
        block = Residual(Serial((act, dense(spec.width, "hidden"))), resolved_branch_scale(spec))
        return Serial((dense(spec.width, "input"),) + (block,) * spec.depth + (readout,))
    roles = ["input"] + ["hidden"] * (spec.depth - 1)
    hidden = [layer for role in roles[: spec.depth] for layer in (dense(spec.width, role), act)]
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

    apply_fn.net = net  # its layers, for the steps that take gradients in factors (core/training.py)
    return apply_fn


def trainable_mask(spec: MLPSpec, params, trainable: str = "all") -> list:
    """A pytree of bools shaped like ``params``: which leaves gradient descent trains.

    'all': every weight and bias; 'readout': the last Dense layer only (random features, Arora et al.
    2019's "weakly trained" net); 'hidden': every layer but the readout.
    """
    net = make_mlp(spec, trainable)
    flags = [layer.trainable for layer, p in net.dense_layers(params) for _ in jax.tree_util.tree_leaves(p)]
    leaves, treedef = jax.tree_util.tree_flatten(params)
    if len(flags) != len(leaves):
        raise ValueError(f"params: {len(leaves)} arrays do not fit the network of spec ({len(flags)}).")
    return jax.tree_util.tree_unflatten(treedef, flags)


def learning_rate_scale(spec: MLPSpec) -> float:
    """n^(−c): the factor the parameterization puts on the learning rate (``stax.ABC``; n = width).

    1 for 'ntk', 'standard' and 'mup'; width for 'mean_field' (c = −1).
    """
    return float(spec.width) ** -ABC[spec.parameterization]["c"]


_NO_LIMIT = {
    "mup": "μP learns features: its NTK moves by O(1) in training even at infinite width, so no fixed kernel "
           "predicts it",
    "mean_field": "mean-field scaling learns features: its NTK moves by O(1) in training even at infinite width, "
                  "so no fixed kernel predicts it",
}


def kernel_limit(spec: MLPSpec) -> str | None:
    """None when the network has an infinite-width NTK/NNGP that governs training; else one line why not."""
    if spec.parameterization in KERNEL_PARAMETERIZATIONS:
        return None
    return _NO_LIMIT[spec.parameterization]


def hidden_preactivations(spec: MLPSpec, params, x: Array) -> list[Array]:
    """Each hidden layer's pre-activations on x: a list of (n, width), first hidden layer first.

    'mlp': each hidden Dense's output (what φ is applied to). 'resnet': the stream h after the input
    Dense and after each block (φ is applied to it in the next block, the readout reads the last).
    """
    net = make_mlp(spec)
    out, h = [], x
    for layer, p in zip(net.layers[:-1], params[:-1]):
        h = layer.apply(p, h)
        if not isinstance(layer, Elementwise):
            out.append(h)
    return out


def dense_weights(spec: MLPSpec, params) -> list[Array]:
    """The weight matrix W of every Dense layer (residual branches included), the readout last."""
    return [p[0] for _, p in make_mlp(spec).dense_layers(params)]


def count_params(params) -> int:
    return sum(int(jnp.size(p)) for p in jax.tree_util.tree_leaves(params))
