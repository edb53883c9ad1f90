"""Layers as values: each knows its finite ``init``/``apply`` and its infinite-width ``kernel`` map.

A network and its kernel are one definition (neural-tangents' ``stax``): composing layers with
:class:`Serial` composes all three maps, so the finite network and its analytic kernel cannot drift
apart. Conventions are those of ``shared/reference/README.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp

from ntklab.core.activations import get_activation

Array = jax.Array
PARAMETERIZATIONS = ("ntk", "standard", "mup", "mean_field")
KERNEL_PARAMETERIZATIONS = ("ntk", "standard")  # those with an infinite-width NNGP/NTK
ROLES = ("input", "hidden", "readout")

# abc-parameterizations (Yang & Hu 2021, "Tensor Programs IV", arXiv 2011.14522, §3 and §5): layer l's
# weight is W = n^(−a)·w with w ~ N(0, n^(−2b)), and SGD runs at η·n^(−c); n = width. Per role:
# (a_w, b_w, a_b, b_b) of the weight and the bias; b_b = None: the bias starts at 0. Biases are weights
# from a constant input 1 (TP4), so a hidden/input bias is scaled like an input weight; the readout bias
# is a scalar, scaled so that its NTK term is O(1) (a_b = −c/2) and started at 0 so that μP's f0 → 0.
# The values agree with microsoft/mup (mup/optim.py MuSGD, mup/layer.py MuReadout) through TP4's
# symmetry (a, b, c) → (a + θ, b − θ, c − 2θ); /work/brief/readme-regimes.md has the table with sources.
ABC = {
    "standard": {"c": 0.0, "input": (0.0, 0.0, 0.0, 0.0), "hidden": (0.0, 0.5, 0.0, 0.0),
                 "readout": (0.0, 0.5, 0.0, 0.0)},
    "ntk": {"c": 0.0, "input": (0.0, 0.0, 0.0, 0.0), "hidden": (0.5, 0.0, 0.0, 0.0),
            "readout": (0.5, 0.0, 0.0, 0.0)},
    "mup": {"c": 0.0, "input": (-0.5, 0.5, -0.5, 0.5), "hidden": (0.0, 0.5, -0.5, 0.5),
            "readout": (0.5, 0.5, 0.0, None)},
    "mean_field": {"c": -1.0, "input": (0.0, 0.0, 0.0, 0.0), "readout": (1.0, 0.0, 0.5, None)},
}


@dataclass(frozen=True)
class Kernel:
    """NNGP and NTK of a batch pair, with the diagonals the next layer needs.

    nngp, ntk: (n1, n2); cov1: (n1,) = k(x, x) for x in x1; cov2: (n2,); channels: width of the
    layer that produced it (static; the standard parameterization needs it).
    """

    nngp: Array
    ntk: Array
    cov1: Array
    cov2: Array
    channels: int


jax.tree_util.register_dataclass(
    Kernel, data_fields=["nngp", "ntk", "cov1", "cov2"], meta_fields=["channels"]
)


def input_kernel(x1: Array, x2: Array) -> Kernel:
    """Kernel of the inputs: ⟨x, x'⟩/d (d = input dimension), NTK = 0. x1: (n1, d), x2: (n2, d)."""
    d = x1.shape[-1]
    nngp = jnp.matmul(x1, x2.T, precision=jax.lax.Precision.HIGHEST) / d  # no TF32 on GPUs
    return Kernel(
        nngp=nngp,
        ntk=jnp.zeros_like(nngp),
        cov1=jnp.sum(x1 * x1, axis=-1) / d,
        cov2=jnp.sum(x2 * x2, axis=-1) / d,
        channels=d,
    )


@dataclass(frozen=True)
class Dense:
    """Affine layer z = c_w·(h W) + c_b·b, W ~ N(0, s_w²), b ~ N(0, s_b²) entrywise.

    'ntk': s_w = s_b = 1, c_w = W_std/√N_in, c_b = b_std (Jacot et al. 2018).
    'standard': s_w = W_std/√N_in, s_b = b_std, c_w = c_b = 1.
    'mup', 'mean_field': the ``ABC`` table, constants (W_std/√N_in, b_std) in the multipliers as for 'ntk'.
    ``role`` is the layer's row of the table: 'input' (d → n), 'hidden' (n → n), 'readout' (n → 1).
    ``trainable``: whether gradient descent trains this layer, i.e. whether its own term enters the NTK.
    """

    out_dim: int
    w_std: float
    b_std: float
    parameterization: str = "ntk"
    role: str = "hidden"
    trainable: bool = True

    def factors(self, in_dim: int) -> tuple[float, float, float, float]:
        """(c_w, c_b, s_w, s_b): the multipliers in ``apply`` and the init stds of W and b.

        Written relative to 'ntk' (whose W carries 1/√N_in = n^(−1/2) except in the input layer), so
        that 'ntk' and 'standard' multiply by n^0 = 1.0 exactly.
        """
        table = ABC[self.parameterization]
        if self.role not in table:
            raise ValueError(f"role: {self.role!r} has no row in the {self.parameterization!r} table; "
                             f"use one of {', '.join(r for r in ROLES if r in table)}.")
        a_w, b_w, a_b, b_b = table[self.role]
        n_w = self.out_dim if self.role == "input" else in_dim  # n of the weight: the width it touches
        n_b = in_dim if self.role == "readout" else self.out_dim  # a bias is a vector of size out_dim
        a_ntk = 0.0 if self.role == "input" else 0.5
        fan = self.w_std / math.sqrt(in_dim)
        s_b = 0.0 if b_b is None else n_b ** (-b_b)
        if self.parameterization == "standard":  # constants in the initialization
            return n_w ** (-a_w), n_b ** (-a_b), fan * n_w ** (a_ntk - a_w - b_w), self.b_std * s_b
        return fan * n_w ** (a_ntk - a_w), self.b_std * n_b ** (-a_b), n_w ** (-b_w), s_b

    def scales(self, in_dim: int) -> tuple[float, float]:
        """(c_w, c_b): the factors multiplying the stored W and b in ``apply``."""
        return self.factors(in_dim)[:2]

    def init(self, key: Array, in_dim: int, dtype=None) -> tuple[int, tuple[Array, Array]]:
        key_w, key_b = jax.random.split(key)
        dtype = dtype or jnp.zeros(()).dtype
        _, _, s_w, s_b = self.factors(in_dim)
        w = jax.random.normal(key_w, (in_dim, self.out_dim), dtype) * s_w
        b = jax.random.normal(key_b, (self.out_dim,), dtype) * s_b
        return self.out_dim, (w, b)

    def apply(self, params: tuple[Array, Array], h: Array, tap=None) -> Array:
        """z = c_w·hW + c_b·b; ``tap(layer, h, z) -> z``, if given, sees every Dense's input and output."""
        w, b = params
        c_w, c_b = self.scales(h.shape[-1])
        z = c_w * (h @ w) + c_b * b
        return z if tap is None else tap(self, h, z)

    def kernel(self, k: Kernel) -> Kernel:
        if self.parameterization not in KERNEL_PARAMETERIZATIONS:
            raise ValueError(
                f"parameterization: {self.parameterization!r} has no infinite-width kernel; "
                f"use one of {', '.join(KERNEL_PARAMETERIZATIONS)} for the NNGP/NTK."
            )
        w2, b2 = self.w_std**2, self.b_std**2
        nngp, cov1, cov2 = w2 * k.nngp + b2, w2 * k.cov1 + b2, w2 * k.cov2 + b2
        if not self.trainable:  # the layer is frozen: only the gradients flowing through it remain
            ntk = w2 * k.ntk
        elif self.parameterization == "ntk":
            ntk = nngp + w2 * k.ntk
        else:  # gradient of W gives N_in·q_old, of the (always trainable) bias 1
            ntk = k.channels * k.nngp + w2 * k.ntk + 1.0
        return Kernel(nngp=nngp, ntk=ntk, cov1=cov1, cov2=cov2, channels=self.out_dim)

    def dense_layers(self, params) -> list:
        return [(self, params)]


@dataclass(frozen=True)
class Elementwise:
    """Elementwise activation φ; ``params`` is a sorted tuple of (name, value) pairs."""

    activation: str
    params: tuple[tuple[str, Any], ...] = ()

    @property
    def fn(self):
        act, p = get_activation(self.activation), dict(self.params)
        return lambda x: act.fn(x, **p)

    def init(self, key: Array, in_dim: int, dtype=None) -> tuple[int, tuple]:
        del key, dtype
        return in_dim, ()

    def apply(self, params: tuple, h: Array, tap=None) -> Array:
        del params, tap
        return self.fn(h)

    def kernel(self, k: Kernel) -> Kernel:
        act, p = get_activation(self.activation), dict(self.params)
        nngp, dot = act.kernel(k.cov1[:, None], k.cov2[None, :], k.nngp, **p)
        cov1, _ = act.kernel(k.cov1, k.cov1, k.cov1, **p)
        cov2, _ = act.kernel(k.cov2, k.cov2, k.cov2, **p)
        return Kernel(nngp=nngp, ntk=k.ntk * dot, cov1=cov1, cov2=cov2, channels=k.channels)

    def dense_layers(self, params) -> list:
        del params
        return []


@dataclass(frozen=True)
class Serial:
    """Layers in series: init, apply and kernel maps composed together."""

    layers: tuple

    def init(self, key: Array, in_dim: int, dtype=None) -> tuple[int, list]:
        params = []
        for layer, layer_key in zip(self.layers, jax.random.split(key, len(self.layers))):
            in_dim, p = layer.init(layer_key, in_dim, dtype)
            params.append(p)
        return in_dim, params

    def apply(self, params: list, h: Array, tap=None) -> Array:
        for layer, p in zip(self.layers, params):
            h = layer.apply(p, h, tap)
        return h

    def kernel(self, k: Kernel) -> Kernel:
        for layer in self.layers:
            k = layer.kernel(k)
        return k

    def dense_layers(self, params) -> list:
        """[(Dense, its (W, b))] in the order of the forward pass (= the order of the params' leaves)."""
        return [pair for layer, p in zip(self.layers, params) for pair in layer.dense_layers(p)]


@dataclass(frozen=True)
class Residual:
    """Residual block h ↦ h + scale·branch(h) (He et al. 2016) of constant width.

    Kernel: at infinite width the branch's output is a Gaussian process independent of h (its last
    Dense's weights are independent of h and centred) and its parameter gradients are asymptotically
    orthogonal to h's, so NNGP and NTK add: K ← K + scale²·K_branch (nt's FanOut/parallel/FanInSum).
    """

    branch: Any
    scale: float

    def init(self, key: Array, in_dim: int, dtype=None) -> tuple[int, Any]:
        out_dim, params = self.branch.init(key, in_dim, dtype)
        if out_dim != in_dim:
            raise ValueError(f"branch: maps width {in_dim} to {out_dim}; a residual branch must keep the width.")
        return in_dim, params

    def apply(self, params, h: Array, tap=None) -> Array:
        return h + self.scale * self.branch.apply(params, h, tap)

    def kernel(self, k: Kernel) -> Kernel:
        kb = self.branch.kernel(k)
        s2 = self.scale**2
        return Kernel(nngp=k.nngp + s2 * kb.nngp, ntk=k.ntk + s2 * kb.ntk, cov1=k.cov1 + s2 * kb.cov1,
                      cov2=k.cov2 + s2 * kb.cov2, channels=kb.channels)

    def dense_layers(self, params) -> list:
        return self.branch.dense_layers(params)
