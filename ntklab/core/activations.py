"""Activations: the finite map φ and its infinite-width kernel map, side by side.

Each entry gives, for one activation,

* ``fn(x, **params)``: the elementwise nonlinearity of the finite network;
* ``kernel(q11, q22, q12, **params) -> (q12_new, dot)``: with (u, v) ~ N(0, [[q11, q12], [q12, q22]]),
  ``q12_new = E[φ(u) φ(v)]`` (the NNGP map) and ``dot = E[φ'(u) φ'(v)]`` (the factor the NTK is
  multiplied by). Arguments broadcast; the diagonal is the same map with q12 = q11 = q22.

The closed forms and their conventions are those of neural-tangents (Novak et al. 2020,
``stax/elementwise.py``), written out in ``shared/reference/README.md``. ``tanh`` has no closed
form and goes through :func:`gaussian_expectations` (2-D Gauss–Hermite quadrature).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

Array = jax.Array

# Gauss–Hermite order of the tanh kernel. Measured against order 300 (absolute error of both
# E[φφ] and E[φ'φ'], pre-activation variances q11, q22 ≤ Q): Q = 1: 1e-10; Q = 3: 1e-6;
# Q = 10: 7e-4 (tanh's poles at ±iπ/2 come closer in the scaled variable as q grows).
# tests/core/test_analytic.py checks these bounds and agreement with Monte Carlo.
TANH_QUADRATURE_ORDER = 96


@dataclass(frozen=True)
class Activation:
    """One activation: its finite map, its kernel map and the parameters they take."""

    name: str
    fn: Callable[..., Array]
    kernel: Callable[..., tuple[Array, Array]]
    defaults: Mapping[str, Any]
    description: str
    quadrature_order: int = 0  # > 0 when the kernel is computed by quadrature (cost ∝ order²)

    def resolve(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Defaults overlaid with ``params``; unknown names raise a ValueError that lists the valid ones."""
        unknown = set(params) - set(self.defaults)
        if unknown:
            valid = ", ".join(sorted(self.defaults)) or "none"
            raise ValueError(
                f"activation_params: {sorted(unknown)} not understood by activation "
                f"{self.name!r}; valid parameters: {valid}."
            )
        return {**self.defaults, **params}


# --- ReLU family: ABReLU(a, b) = a·min(x, 0) + b·max(x, 0) ------------------------------------


def _abrelu_fn(x, a=0.0, b=1.0):
    return jnp.where(x > 0, b * x, a * x)


def _abrelu_kernel(q11, q22, q12, a=0.0, b=1.0):
    """Arc-cosine kernel of ABReLU, without the factor 2 (Cho & Saul 2009; nt's convention)."""
    s = jnp.sqrt(jnp.maximum(q11 * q22 - q12 * q12, 0.0))
    theta = _angle(s, q12)
    f = (a - b) ** 2 / (2 * math.pi)
    dot = (a * a + b * b) / 2 - f * theta
    return f * s + dot * q12, dot


def _angle(s, c):
    """arctan2(s, c) for s ≥ 0, in [0, π], with arctan2(0, 0) = π/2 as nt fills it.

    ``arctan`` of the ratio plus a quadrant shift: XLA's CPU arctan2 is ~8× slower than arctan,
    and this angle is the hot loop of every ReLU-family kernel.
    """
    theta = jnp.arctan(s / c)
    theta = jnp.where(c > 0, theta, theta + math.pi)
    return jnp.where((s == 0) & (c == 0), math.pi / 2, theta)


def _relu_fn(x):
    return _abrelu_fn(x, 0.0, 1.0)


def _relu_kernel(q11, q22, q12):
    return _abrelu_kernel(q11, q22, q12, 0.0, 1.0)


def _leaky_relu_fn(x, alpha=0.01):
    return _abrelu_fn(x, alpha, 1.0)


def _leaky_relu_kernel(q11, q22, q12, alpha=0.01):
    return _abrelu_kernel(q11, q22, q12, alpha, 1.0)


# --- Erf: a·erf(b·x) + c ----------------------------------------------------------------------


def _erf_fn(x, a=1.0, b=1.0, c=0.0):
    return a * jax.scipy.special.erf(b * x) + c


def _erf_kernel(q11, q22, q12, a=1.0, b=1.0, c=0.0):
    """Williams (1997): E[erf(u) erf(v)] = (2/π) arcsin(2 q12 / √((1+2q11)(1+2q22)))."""
    b2 = b * b
    q11, q22, q12 = b2 * q11, b2 * q22, b2 * q12
    r = jnp.sqrt((1 + 2 * q11) * (1 + 2 * q22) - 4 * q12 * q12)
    q12_new = (2 / math.pi) * jnp.arctan(2 * q12 / r)  # = arctan2(2 q12, r) as r > 0
    dot = 4 / (math.pi * r)
    return a * a * q12_new + c * c, a * a * b2 * dot


# --- GELU: x·Φ(x) -----------------------------------------------------------------------------


def _gelu_fn(x, approximate=False):
    return jax.nn.gelu(x, approximate=bool(approximate))


def _gelu_kernel(q11, q22, q12, approximate=False):
    """Kernel of the exact GELU x·Φ(x) (Tsuchida et al. 2021); ``approximate`` changes only φ."""
    del approximate
    p = q11 * q22
    p1 = (1 + q11) * (1 + q22)
    delta2 = p1 - q12 * q12
    delta = jnp.sqrt(delta2)
    angle = jnp.arctan(q12 / delta)  # = arctan2(q12, Δ) as Δ > 0
    q12_new = q12 / 4 + ((q12 * q12 + p * delta2) / (p1 * delta) + q12 * angle) / (2 * math.pi)
    dot = 0.25 + angle / (2 * math.pi) + q12 / (2 * math.pi * delta) * (1 / delta2 + (1 - p) / p1 + 1)
    return q12_new, dot


# --- Sin: a·sin(b·x + c) ----------------------------------------------------------------------


def _sin_fn(x, a=1.0, b=1.0, c=0.0):
    return a * jnp.sin(b * x + c)


def _sin_kernel(q11, q22, q12, a=1.0, b=1.0, c=0.0):
    """E[sin(bu+c) sin(bv+c)] = ½(e^{-b²(S/2-q12)} − e^{-b²(S/2+q12)} cos 2c), S = q11 + q22."""
    b2 = b * b
    half_s = (q11 + q22) / 2
    plus = jnp.exp(b2 * (q12 - half_s))
    minus = jnp.exp(-b2 * (q12 + half_s)) * math.cos(2 * c)
    return a * a / 2 * (plus - minus), a * a * b2 / 2 * (plus + minus)


# --- Identity -----------------------------------------------------------------------------------


def _identity_fn(x):
    return x


def _identity_kernel(q11, q22, q12):
    return q12, jnp.ones_like(q12)


# --- Tanh: no closed form, Gauss–Hermite quadrature -------------------------------------------


def _tanh_fn(x):
    return jnp.tanh(x)


def _tanh_kernel(q11, q22, q12):
    return gaussian_expectations(_tanh_fn, q11, q22, q12, order=TANH_QUADRATURE_ORDER)


def derivative(fn: Callable[[Array], Array]) -> Callable[[Array], Array]:
    """Elementwise derivative φ'(x) of an elementwise ``fn``, by forward-mode differentiation."""

    def dfn(x):
        return jax.jvp(fn, (x,), (jnp.ones_like(x),))[1]

    return dfn


def gaussian_expectations(fn, q11, q22, q12, *, order: int):
    """``(E[φ(u)φ(v)], E[φ'(u)φ'(v)])`` for (u, v) ~ N(0, [[q11, q12], [q12, q22]]) by 2-D Gauss–Hermite.

    u = √q11·z1 and v = ρ√q22·z1 + √(q22(1−ρ²))·z2 with z1, z2 iid N(0, 1); ``order`` nodes per axis.
    The error falls geometrically with ``order`` for analytic φ (tanh: poles at ±iπ/2), more slowly
    as the variances grow. Memory is O(broadcast shape × order): the outer axis is a ``lax.scan``.
    """
    nodes, weights = np.polynomial.hermite_e.hermegauss(order)
    weights = weights / math.sqrt(2 * math.pi)
    dtype = jnp.result_type(q11, q22, q12)
    nodes, weights = jnp.asarray(nodes, dtype), jnp.asarray(weights, dtype)
    dfn = derivative(fn)
    q11, q22, q12 = jnp.broadcast_arrays(q11, q22, q12)
    # u takes the larger variance: then k(x, x') and k(x', x) are the same sum, exactly symmetric.
    q11, q22 = jnp.maximum(q11, q22), jnp.minimum(q11, q22)
    sd1 = jnp.sqrt(q11)
    safe_sd1 = jnp.where(sd1 > 0, sd1, 1.0)
    slope = jnp.where(sd1 > 0, q12 / safe_sd1, 0.0)  # coefficient of z1 in v
    rest = jnp.sqrt(jnp.maximum(q22 - slope * slope, 0.0))  # coefficient of z2 in v

    def outer(carry, node_weight):
        z1, w1 = node_weight
        u = sd1 * z1
        v = slope[..., None] * z1 + rest[..., None] * nodes  # (..., order)
        inner_f = jnp.sum(weights * fn(v), axis=-1)
        inner_d = jnp.sum(weights * dfn(v), axis=-1)
        acc_f, acc_d = carry
        return (acc_f + w1 * fn(u) * inner_f, acc_d + w1 * dfn(u) * inner_d), None

    zeros = jnp.zeros_like(q12)
    (e_ff, e_dd), _ = jax.lax.scan(outer, (zeros, zeros), (nodes, weights))
    return e_ff, e_dd


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("relu", _relu_fn, _relu_kernel, {}, "max(x, 0)"),
        Activation("leaky_relu", _leaky_relu_fn, _leaky_relu_kernel, {"alpha": 0.01}, "max(x, αx)"),
        Activation("abrelu", _abrelu_fn, _abrelu_kernel, {"a": 0.0, "b": 1.0}, "a·min(x,0) + b·max(x,0)"),
        Activation("erf", _erf_fn, _erf_kernel, {"a": 1.0, "b": 1.0, "c": 0.0}, "a·erf(b·x) + c"),
        Activation("gelu", _gelu_fn, _gelu_kernel, {"approximate": False}, "x·Φ(x)"),
        Activation("sin", _sin_fn, _sin_kernel, {"a": 1.0, "b": 1.0, "c": 0.0}, "a·sin(b·x + c)"),
        Activation("tanh", _tanh_fn, _tanh_kernel, {}, "tanh(x) (kernel by quadrature)",
                   TANH_QUADRATURE_ORDER),
        Activation("identity", _identity_fn, _identity_kernel, {}, "x (a linear network)"),
    )
}


def get_activation(name: str) -> Activation:
    """The activation called ``name``; a ValueError lists the valid names otherwise."""
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(
            f"activation: {name!r} is not known; choose one of {', '.join(ACTIVATIONS)}."
        ) from None
