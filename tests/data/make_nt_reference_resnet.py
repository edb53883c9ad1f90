"""Reference NNGP/NTK of residual networks from neural-tangents 0.6.5, for tests/core/test_resnet.py.

Run with the peer python (neural-tangents 0.6.5 in its own venv, never a dependency of ntklab):

    $(../shared/peer/peer-venv.sh) tests/data/make_nt_reference_resnet.py
    # or: /root/.cache/ntklab-peer/nt-0.6.5/bin/python tests/data/make_nt_reference_resnet.py

from the repository root. It writes tests/data/nt_reference_resnet.json (float64, deterministic inputs).

Network (ntklab's MLPSpec(architecture='resnet', depth=L, branch_scale=c), block scale s = c/√max(L, 1)):
    Dense(width) → L × [h ← h + s·Dense(width)(φ(h))] → Dense(1)
built in nt as
    serial(Dense, *[serial(FanOut(2), parallel(branch, Identity()), FanInSum())] * L, Dense(1))
with branch = serial(φ, Dense(width, W_std, b_std, p), DotGeneral(rhs=s)). DotGeneral(rhs=s) is nt's
constant (untrained) product x ↦ s·x, a linear map that keeps the branch Gaussian (FanInSum needs that;
ABRelu(s, s) computes the same x ↦ s·x but nt marks its output non-Gaussian and FanInSum refuses it), so
the branch is s·Dense(φ(h)) in both parameterizations. (For 'ntk', s·Dense(W_std, b_std) also equals
Dense(s·W_std, s·b_std) in distribution and NTK; the script checks that nt agrees. For 'standard' it
does not: a trainable weight's own NTK term there is N_in·q + 1, not scaled by s², so only the
DotGeneral form is used.)
"""

import json
import math
import os
import platform

from jax import config

config.update("jax_enable_x64", True)

import jax  # noqa: E402
import numpy as np  # noqa: E402
import neural_tangents  # noqa: E402
from neural_tangents import stax  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "nt_reference_resnet.json")
WIDTH = 64  # matters for 'standard' only (N_in of each Dense)

ACTIVATIONS = {
    "relu": lambda **p: stax.Relu(),
    "leaky_relu": lambda alpha: stax.LeakyRelu(alpha),
    "abrelu": lambda a, b: stax.ABRelu(a, b),
    "erf": lambda a, b, c: stax.Erf(a, b, c),
    "gelu": lambda approximate: stax.Gelu(approximate),
    "sin": lambda a, b, c: stax.Sin(a, b, c),
    "identity": lambda **p: stax.Identity(),
}

# (activation, params, W_std, b_std): a spread of closed forms, with and without bias
ACTS = [
    ("relu", {}, math.sqrt(2.0), 0.0),
    ("leaky_relu", {"alpha": 0.2}, 1.3, 0.1),
    ("abrelu", {"a": -0.5, "b": 1.5}, 1.0, 0.3),
    ("erf", {"a": 1.2, "b": 0.7, "c": 0.1}, 1.5, 0.2),
    ("gelu", {"approximate": False}, 1.4, 0.05),
    ("sin", {"a": 1.0, "b": 1.3, "c": 0.4}, 1.1, 0.5),
    ("identity", {}, 1.0, 0.4),
]


def network(depth, activation, params, w_std, b_std, parameterization, block_scale, alternative=False):
    act = ACTIVATIONS[activation](**params)
    if alternative:  # 'ntk' only: s·Dense(W, b) as Dense(s·W, s·b)
        branch = stax.serial(act, stax.Dense(WIDTH, block_scale * w_std, block_scale * b_std,
                                             parameterization=parameterization))
    else:
        branch = stax.serial(act, stax.Dense(WIDTH, w_std, b_std, parameterization=parameterization),
                             stax.DotGeneral(rhs=block_scale))
    block = stax.serial(stax.FanOut(2), stax.parallel(branch, stax.Identity()), stax.FanInSum())
    return stax.serial(stax.Dense(WIDTH, w_std, b_std, parameterization=parameterization), *[block] * depth,
                       stax.Dense(1, w_std, b_std, parameterization=parameterization))


def main():
    rng = np.random.RandomState(20261123)
    inputs = {d: (rng.normal(size=(4, d)), rng.normal(size=(3, d))) for d in (1, 3)}
    cases = []
    grid = [(depth, branch_scale, d) for depth, branch_scale, d in
            [(0, 1.0, 3), (1, 1.0, 1), (1, 0.6, 3), (2, 1.0, 3), (2, 1.7, 1), (3, 1.0, 1), (3, 0.8, 3)]]
    for parameterization in ("ntk", "standard"):
        for i, (activation, params, w_std, b_std) in enumerate(ACTS):
            for j, (depth, branch_scale, d) in enumerate(grid):
                if (i + j) % 2:  # every other combination keeps the file small; each activation gets depths 0–3
                    continue
                block_scale = branch_scale / math.sqrt(max(depth, 1))
                x1, x2 = inputs[d]
                _, _, kernel_fn = network(depth, activation, params, w_std, b_std, parameterization, block_scale)
                k = kernel_fn(x1, x2, ("nngp", "ntk"))
                nngp, ntk = np.asarray(k.nngp)[:, :], np.asarray(k.ntk)
                assert np.all(np.isfinite(nngp)) and np.all(np.isfinite(ntk))
                if parameterization == "ntk":
                    _, _, alt_fn = network(depth, activation, params, w_std, b_std, parameterization, block_scale,
                                           alternative=True)
                    alt = alt_fn(x1, x2, ("nngp", "ntk"))
                    np.testing.assert_allclose(alt.nngp, nngp, rtol=1e-12)
                    np.testing.assert_allclose(alt.ntk, ntk, rtol=1e-12)
                cases.append({
                    "id": f"r{len(cases):03d}",
                    "arch": {"architecture": "resnet", "depth": depth, "width": WIDTH, "activation": activation,
                             "activation_params": params, "w_std": w_std, "b_std": b_std,
                             "parameterization": parameterization, "branch_scale": branch_scale,
                             "block_scale": block_scale},
                    "x1": x1.tolist(), "x2": x2.tolist(), "nngp": nngp.tolist(), "ntk": ntk.tolist(),
                })
    meta = {
        "generator": "tests/data/make_nt_reference_resnet.py",
        "neural_tangents": neural_tangents.__version__, "jax": jax.__version__, "numpy": np.__version__,
        "python": platform.python_version(), "x64": True,
        "network": "serial(Dense(width), *[serial(FanOut(2), parallel(serial(Act, Dense(width), "
                   "DotGeneral(rhs=s)), Identity()), FanInSum())] * depth, Dense(1)); s = block_scale",
        "call": "kernel_fn(x1, x2, ('nngp', 'ntk'))",
    }
    with open(OUT, "w") as f:
        json.dump({"meta": meta, "kernel_cases": cases}, f, indent=1)
    print(f"{len(cases)} cases -> {OUT}")


if __name__ == "__main__":
    main()
