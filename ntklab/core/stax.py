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
PARAMETERIZATIONS = ("ntk", "standard")


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
    """Affine layer z = c_w·(h W) + c_b·b.

    'ntk': W, b ~ N(0, 1), c_w = W_std/√N_in, c_b = b_std (Jacot et al. 2018).
    'standard': W ~ N(0, W_std²/N_in), b ~ N(0, b_std²), c_w = c_b = 1.
    """

    out_dim: int
    w_std: float
    b_std: float
    parameterization: str = "ntk"

    def scales(self, in_dim: int) -> tuple[float, float]:
        """(c_w, c_b): the factors multiplying the stored W and b in ``apply``."""
        if self.parameterization == "ntk":
            return self.w_std / math.sqrt(in_dim), self.b_std
        return 1.0, 1.0

    def init(self, key: Array, in_dim: int, dtype=None) -> tuple[int, tuple[Array, Array]]:
        key_w, key_b = jax.random.split(key)
        dtype = dtype or jnp.zeros(()).dtype
        w = jax.random.normal(key_w, (in_dim, self.out_dim), dtype)
        b = jax.random.normal(key_b, (self.out_dim,), dtype)
        if self.parameterization == "standard":
            w = w * (self.w_std / math.sqrt(in_dim))
            b = b * self.b_std
        return self.out_dim, (w, b)

    def apply(self, params: tuple[Array, Array], h: Array) -> Array:
        w, b = params
        c_w, c_b = self.scales(h.shape[-1])
        return c_w * (h @ w) + c_b * b

    def kernel(self, k: Kernel) -> Kernel:
        w2, b2 = self.w_std**2, self.b_std**2
        nngp, cov1, cov2 = w2 * k.nngp + b2, w2 * k.cov1 + b2, w2 * k.cov2 + b2
        if self.parameterization == "ntk":
            ntk = nngp + w2 * k.ntk
        else:  # gradient of W gives N_in·q_old, of the (always trainable) bias 1
            ntk = k.channels * k.nngp + w2 * k.ntk + 1.0
        return Kernel(nngp=nngp, ntk=ntk, cov1=cov1, cov2=cov2, channels=self.out_dim)


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

    def apply(self, params: tuple, h: Array) -> Array:
        del params
        return self.fn(h)

    def kernel(self, k: Kernel) -> Kernel:
        act, p = get_activation(self.activation), dict(self.params)
        nngp, dot = act.kernel(k.cov1[:, None], k.cov2[None, :], k.nngp, **p)
        cov1, _ = act.kernel(k.cov1, k.cov1, k.cov1, **p)
        cov2, _ = act.kernel(k.cov2, k.cov2, k.cov2, **p)
        return Kernel(nngp=nngp, ntk=k.ntk * dot, cov1=cov1, cov2=cov2, channels=k.channels)


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

    def apply(self, params: list, h: Array) -> Array:
        for layer, p in zip(self.layers, params):
            h = layer.apply(p, h)
        return h

    def kernel(self, k: Kernel) -> Kernel:
        for layer in self.layers:
            k = layer.kernel(k)
        return k
