"""Reference kernels of neural-tangents 0.6.5 for orthogonal and antipodal inputs (issue 16).

Run with the peer python, which has neural-tangents 0.6.5 (never a dependency of ntklab):

    $(../shared/peer/peer-venv.sh) tests/data/make_nt_reference_extra.py

from the repository root (the peer python is /root/.cache/ntklab-peer/nt-0.6.5/bin/python once built).
It writes tests/data/nt_reference_extra.json, float64 (jax_enable_x64), deterministic. The layout and
the network are those of shared/reference/nt_reference_public.json (shared/reference/README.md):
``serial(*[Dense(width, W_std, b_std, parameterization=p), Act()] * depth, Dense(1, W_std, b_std,
parameterization=p))``, ``kernel_fn(x1, x2, ('nngp', 'ntk'))``. Cases: one-hot inputs in d = 2, 3, 8
with their negatives, and x, −x, 2x, −x/2 in d = 3 (exactly orthogonal and antipodal pairs, where
the ReLU family's angle is π/2 and π); zero and nonzero bias; every activation of ntklab with a
closed form; both parameterizations; depth 1–3. tanh is left out: nt has no closed-form Tanh (only
ElementwiseNumerical, a Gauss–Hermite quadrature, which is no independent answer).
Tested by tests/core/test_nt_reference_extra.py.
"""

import json
import os
import platform
import sys

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "nt_reference_extra.json")
WIDTH = 512
ACTIVATIONS = [("relu", {}), ("leaky_relu", {"alpha": 0.1}), ("abrelu", {"a": -0.5, "b": 1.5}),
               ("erf", {"a": 1.2, "b": 0.7, "c": 0.1}), ("gelu", {}), ("sin", {"a": 1.0, "b": 1.3, "c": 0.4}),
               ("identity", {})]
W_B = [(2.0**0.5, 0.0), (1.5, 0.3)]


def input_sets():
    """name -> (description, x1, x2): orthogonal and antipodal pairs, exact in binary."""
    eye2, eye3, eye8 = np.eye(2), np.eye(3), np.eye(8)
    x = np.array([0.5, -1.25, 2.0])
    return {
        "onehot_d2": ("e1, e2, -e1, -e2 in d = 2 (x2 = x1)", np.concatenate([eye2, -eye2]), None),
        "onehot_d3": ("e1, e2, e3, -e1 against e1, -e2, -e3 in d = 3",
                      np.concatenate([eye3, -eye3[:1]]), np.stack([eye3[0], -eye3[1], -eye3[2]])),
        "onehot_d8": ("e1, e4, e8, -e4, 3·e2 in d = 8 (x2 = x1)",
                      np.stack([eye8[0], eye8[3], eye8[7], -eye8[3], 3 * eye8[1]]), None),
        "antipodal_d3": ("x, -x, 2x, -x/2 for x = (0.5, -1.25, 2) in d = 3 (x2 = x1)",
                         np.stack([x, -x, 2 * x, -0.5 * x]), None),
    }


def nt_activation(stax, name, params):
    return {"relu": lambda: stax.Relu(), "leaky_relu": lambda: stax.LeakyRelu(params["alpha"]),
            "abrelu": lambda: stax.ABRelu(params["a"], params["b"]),
            "erf": lambda: stax.Erf(params["a"], params["b"], params["c"]), "gelu": lambda: stax.Gelu(),
            "sin": lambda: stax.Sin(params["a"], params["b"], params["c"]), "identity": lambda: stax.Identity()}[name]()


def main():
    import jax

    jax.config.update("jax_enable_x64", True)
    import neural_tangents as nt
    from neural_tangents import stax

    cases = []
    for set_name, (description, x1, x2) in input_sets().items():
        for name, params in ACTIVATIONS:
            for w_std, b_std in W_B:
                for parameterization in ("ntk", "standard"):
                    for depth in (1, 2, 3):
                        layers = [stax.Dense(WIDTH, w_std, b_std, parameterization=parameterization),
                                  nt_activation(stax, name, params)] * depth
                        _, _, kernel_fn = stax.serial(*layers, stax.Dense(1, w_std, b_std,
                                                                          parameterization=parameterization))
                        k = kernel_fn(x1, x2, ("nngp", "ntk"))
                        nngp, ntk = np.asarray(k.nngp, np.float64), np.asarray(k.ntk, np.float64)
                        assert np.all(np.isfinite(nngp)) and np.all(np.isfinite(ntk))
                        cases.append({
                            "id": f"x{len(cases):04d}",
                            "arch": {"depth": depth, "activation": name, "activation_params": params,
                                     "W_std": w_std, "b_std": b_std, "parameterization": parameterization,
                                     "hidden_width": WIDTH, "output_dim": 1},
                            "input_set": set_name, "input_description": description,
                            "x1": x1.tolist(), "x2": (x1 if x2 is None else x2).tolist(),
                            "nngp": nngp.tolist(), "ntk": ntk.tolist(),
                        })
    meta = {
        "generator": "tests/data/make_nt_reference_extra.py",
        "neural_tangents": nt.__version__ if hasattr(nt, "__version__") else "0.6.5",
        "jax": jax.__version__, "numpy": np.__version__, "python": platform.python_version(), "x64": True,
        "network": "stax.serial(*[stax.Dense(width, W_std, b_std, parameterization=p), Act()] * depth, "
                   "stax.Dense(1, W_std, b_std, parameterization=p)); kernel_fn(x1, x2, ('nngp', 'ntk'))",
        "conventions": "those of shared/reference/README.md",
    }
    with open(OUT, "w") as f:
        json.dump({"meta": meta, "kernel_cases": cases}, f, separators=(",", ":"))
    print(f"{len(cases)} cases -> {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
