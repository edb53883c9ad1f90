"""Infinite-width NNGP and NTK of an :class:`MLPSpec`, computed in tiles over all JAX devices."""

from __future__ import annotations

import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from ntklab.core.network import MLPSpec, kernel_limit, make_mlp
from ntklab.core.precision import full_precision
from ntklab.core.stax import Kernel

DEFAULT_TILE = 4096  # inputs up to this size are one block
LARGE_TILE = 2048  # tile of larger inputs: device memory O(tile²) beside the host outputs


def float_dtype():
    """float64 when ``jax_enable_x64`` is on, float32 otherwise."""
    return jnp.zeros(()).dtype


def _check_kernel_limit(spec: MLPSpec) -> None:
    reason = kernel_limit(spec)
    if reason is not None:
        raise ValueError(
            f"parameterization: {spec.parameterization!r} has no infinite-width NNGP/NTK ({reason}); "
            "use 'ntk' or 'standard' for the analytic kernels."
        )


# Elements (rows × columns) of the kernel per step of its elementwise chain: each layer's intermediates
# (~20 arrays of this size) then stay in cache instead of streaming through memory (bench/RESULTS.md).
BLOCK_ELEMENTS = 1 << 17


def _row_block(n1: int, n2: int) -> int:
    """Rows per step for an (n1, n2) kernel: ~``BLOCK_ELEMENTS`` elements, at least 8 rows; n1 for one step."""
    rows = max(8, BLOCK_ELEMENTS // max(n2, 1))
    return n1 if rows * 2 > n1 else rows


def _kernel_in_row_blocks(net, x1, x2, symmetric: bool, rows: int | None = None) -> Kernel:
    """``net.kernel`` of the inputs' kernel, ``rows`` (default :func:`_row_block`) rows at a time into
    preallocated outputs.

    The last block starts at n1 − rows (it recomputes a few rows rather than padding). ``symmetric``
    (x2 is x1): a point's pairing with itself gets q12 = k(x, x) exactly, so that its angle is exactly 0
    whatever the rounding of the matrix product (core/activations.py ``_gram``).
    """
    n1, n2, d = x1.shape[0], x2.shape[0], x1.shape[-1]
    cov1 = jnp.sum(x1 * x1, axis=-1) / d
    cov2 = cov1 if symmetric else jnp.sum(x2 * x2, axis=-1) / d
    rows = min(rows or _row_block(n1, n2), n1)

    def block(start):
        x_rows = jax.lax.dynamic_slice_in_dim(x1, start, rows)
        cov_rows = jax.lax.dynamic_slice_in_dim(cov1, start, rows)
        nngp = jnp.matmul(x_rows, x2.T, precision=jax.lax.Precision.HIGHEST) / d  # no TF32 on GPUs
        if symmetric:
            same = (start + jnp.arange(rows))[:, None] == jnp.arange(n2)[None, :]
            nngp = jnp.where(same, cov_rows[:, None], nngp)
        return net.kernel(Kernel(nngp=nngp, ntk=jnp.zeros_like(nngp), cov1=cov_rows, cov2=cov2, channels=d))

    if rows == n1:
        return block(0)

    def body(i, out):
        start = jnp.minimum(i * rows, n1 - rows)
        k = block(start)
        return Kernel(nngp=jax.lax.dynamic_update_slice_in_dim(out.nngp, k.nngp, start, 0),
                      ntk=jax.lax.dynamic_update_slice_in_dim(out.ntk, k.ntk, start, 0),
                      cov1=jax.lax.dynamic_update_slice_in_dim(out.cov1, k.cov1, start, 0),
                      cov2=k.cov2, channels=out.channels)

    shape = jax.eval_shape(block, 0)
    out = Kernel(nngp=jnp.empty((n1, n2), shape.nngp.dtype), ntk=jnp.empty((n1, n2), shape.ntk.dtype),
                 cov1=jnp.empty(n1, shape.cov1.dtype), cov2=jnp.empty(n2, shape.cov2.dtype), channels=shape.channels)
    return jax.lax.fori_loop(0, -(-n1 // rows), body, out)


@functools.lru_cache(maxsize=64)
def make_kernel_fn(spec: MLPSpec, trainable: str = "all") -> Callable:
    """Jitted ``(x1, x2=None) -> Kernel`` of the network's last layer; cached per (spec, trainable).

    ``x2=None``: the kernel of x1 with itself, where a point paired with itself has angle 0 exactly.
    ``trainable`` ('all', 'readout', 'hidden') keeps only those layers' terms in the NTK:
    'readout' is the readout's term alone (the last hidden layer's NNGP through the readout Dense: kernel
    regression with it is Arora et al. 2019's weakly-trained net); 'hidden' is the rest. The NNGP is the
    same. Computed in blocks of rows whose intermediates stay in cache (``BLOCK_ELEMENTS``; a quadrature
    kernel's (rows, n2, order) arrays too).
    """
    _check_kernel_limit(spec)
    net = make_mlp(spec, trainable)

    @jax.jit
    @full_precision
    def kernel_fn(x1, x2=None):
        return _kernel_in_row_blocks(net, x1, x1 if x2 is None else x2, symmetric=x2 is None)

    return kernel_fn


def analytic_kernels(
    spec: MLPSpec,
    x1,
    x2=None,
    *,
    trainable: str = "all",
    tile_size: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Kernel:
    """Analytic NNGP and NTK of ``spec`` between x1 (n1, d) and x2 (n2, d); ``x2=None`` means x1.

    The NTK sums the ``trainable`` layers' terms (:func:`make_kernel_fn`); a parameterization without
    an infinite-width kernel ('mup', 'mean_field') raises a ValueError that says why.

    Returns a :class:`Kernel` of host NumPy arrays (nngp, ntk: (n1, n2)). Inputs larger than
    ``tile_size`` (default: one block up to 4096 points, else tiles of 2048) are cut into tiles,
    dispatched round-robin over ``jax.devices()`` and written into preallocated host arrays, so
    device memory stays O(tile_size²); for x2=None only the upper triangle of tiles is computed
    and mirrored. ``progress(done, total)`` is called per tile (N = 20,000 in float32: 3.5 GiB
    peak, bench/bench_large.py).
    """
    dtype = float_dtype()
    x1 = np.asarray(x1, dtype=dtype)
    symmetric = x2 is None
    x2 = x1 if symmetric else np.asarray(x2, dtype=dtype)
    if x1.ndim != 2 or x2.ndim != 2 or x1.shape[1] != x2.shape[1]:
        raise ValueError(
            f"x1, x2: expected 2-D arrays (n, d) with the same d; got shapes {x1.shape} and {x2.shape}."
        )
    kernel_fn = make_kernel_fn(spec, trainable)
    if tile_size is None:
        tile_size = DEFAULT_TILE if max(len(x1), len(x2)) <= DEFAULT_TILE else LARGE_TILE
    n1, n2 = len(x1), len(x2)
    starts1, starts2 = range(0, n1, tile_size), range(0, n2, tile_size)
    tiles = [(i, j) for i in starts1 for j in starts2 if not (symmetric and j < i)]
    if len(tiles) == 1:  # one block: no copy into preallocated arrays
        k = kernel_fn(x1) if symmetric else kernel_fn(x1, x2)
        out = Kernel(*(np.asarray(a) for a in (k.nngp, k.ntk, k.cov1, k.cov2)), channels=spec.width)
        if progress is not None:
            progress(1, 1)
        return out
    nngp = np.empty((n1, n2), dtype)
    ntk = np.empty((n1, n2), dtype)
    cov1, cov2 = np.empty(n1, dtype), np.empty(n2, dtype)
    devices = jax.devices()
    for wave_start in range(0, len(tiles), len(devices)):
        wave = tiles[wave_start : wave_start + len(devices)]
        pending = []
        for (i, j), device in zip(wave, devices):  # dispatch asynchronously, one tile per device
            a = jax.device_put(x1[i : i + tile_size], device)
            if symmetric and i == j:  # a diagonal tile: each point with itself at angle 0 exactly
                pending.append(((i, j), kernel_fn(a)))
                continue
            b = jax.device_put(x2[j : j + tile_size], device)
            pending.append(((i, j), kernel_fn(a, b)))
        for (i, j), k in pending:
            rows, cols = slice(i, i + tile_size), slice(j, j + tile_size)
            nngp[rows, cols], ntk[rows, cols] = np.asarray(k.nngp), np.asarray(k.ntk)
            cov1[rows], cov2[cols] = np.asarray(k.cov1), np.asarray(k.cov2)
            if symmetric and i != j:
                nngp[cols, rows], ntk[cols, rows] = nngp[rows, cols].T, ntk[rows, cols].T
        if progress is not None:
            progress(wave_start + len(wave), len(tiles))
    return Kernel(nngp=nngp, ntk=ntk, cov1=cov1, cov2=cov2, channels=spec.width)
