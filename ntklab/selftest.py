"""``ntklab --selftest``: a short headless training and an analytic-kernel check, with versions.

It exits 0 only when both checks pass, so a bundle that starts but computes wrong numbers (a
missing XLA kernel, a broken LAPACK, wrong resources) fails on the student's machine at once.
No Qt: it also runs where no display exists.
"""

from __future__ import annotations

import math
import sys
import time

import numpy as np

from ntklab import appinfo


def relu_kernels_closed_form(x: np.ndarray, w_std: float, b_std: float) -> tuple[np.ndarray, np.ndarray]:
    """NNGP and NTK of a depth-1 ReLU network in the NTK parameterization, by the arc-cosine formulas.

    Σ₁ = w²xx'/d + b²; Σ₂ = w²/(2π)·√(Σ₁(x,x)Σ₁(x',x'))·(sin θ + (π − θ) cos θ) + b²;
    Θ₂ = Σ₂ + Σ₁·w²(π − θ)/(2π) (Cho & Saul 2009; Jacot et al. 2018). Written out here in NumPy,
    apart from the layer-by-layer kernel code it checks.
    """
    x = np.asarray(x, np.float64)
    sigma1 = w_std**2 * (x @ x.T) / x.shape[1] + b_std**2
    norms = np.sqrt(np.outer(np.diag(sigma1), np.diag(sigma1)))
    theta = np.arccos(np.clip(sigma1 / norms, -1.0, 1.0))
    sigma2 = w_std**2 / (2 * math.pi) * norms * (np.sin(theta) + (math.pi - theta) * np.cos(theta)) + b_std**2
    ntk = sigma2 + sigma1 * w_std**2 * (math.pi - theta) / (2 * math.pi)
    return sigma2, ntk


def check_kernels() -> tuple[bool, str]:
    from ntklab.core import MLPSpec, analytic_kernels

    x = np.array([[0.3, -1.2, 0.5], [1.0, 0.4, -0.7], [-0.6, 0.9, 1.1], [0.2, 0.1, -0.3]])
    spec = MLPSpec(depth=1, width=1, activation="relu", w_std=1.3, b_std=0.4)
    kernels = analytic_kernels(spec, x)
    nngp, ntk = relu_kernels_closed_form(x, 1.3, 0.4)
    error = max(float(np.max(np.abs(kernels.nngp - nngp) / np.abs(nngp).max())),
                float(np.max(np.abs(kernels.ntk - ntk) / np.abs(ntk).max())))
    return error < 1e-5, f"analytic ReLU NNGP/NTK vs the arc-cosine closed form: max relative error {error:.1e}"


def check_training() -> tuple[bool, str]:
    from ntklab.session import Experiment, ExperimentSpec

    spec = ExperimentSpec().with_changes(model={"width": 256}, data={"n_train": 8, "n_test": 20},
                                         train={"steps": 300, "snapshots": 3})
    snaps = list(Experiment(spec).run())
    first, last = snaps[0], snaps[-1]
    drop = first.mse_train_net / last.mse_train_net
    same_start = math.isclose(first.mse_train_net, first.mse_train_lin, rel_tol=1e-5)
    ok = last.step == 300 and drop > 10 and same_start and last.lin_gap < 0.2 and math.isfinite(last.kernel_change)
    return ok, (f"300 steps of gradient descent: train MSE {first.mse_train_net:.3g} → {last.mse_train_net:.3g} "
                f"(÷{drop:.0f}), RMS(f − f_lin) {last.lin_gap:.3f}, η_crit {first.eta_crit:.3g}")


def main() -> int:
    if hasattr(sys.stdout, "reconfigure"):  # a Windows pipe in cp1252 cannot print → or ÷: replace them
        sys.stdout.reconfigure(errors="replace")
    print(appinfo.versions_line())
    backend, devices = appinfo.jax_summary()
    print(f"JAX backend {backend}: {devices}; {'bundle' if appinfo.frozen() else 'source'}; "
          f"resources in {appinfo.resources_dir()}")
    results = []
    for name, check in (("training", check_training), ("kernels", check_kernels)):
        started = time.perf_counter()
        try:
            ok, message = check()
        except Exception as exc:  # a broken install: report it as a failed check
            ok, message = False, f"raised {type(exc).__name__}: {exc}"
        results.append(ok)
        print(f"[{'ok' if ok else 'FAIL'}] {name}: {message} ({time.perf_counter() - started:.2f} s)")
    try:
        appinfo.resource("sample_experiment.toml")
        appinfo.resource("ntklab.png")
        print("[ok] resources: sample experiment and icon found")
    except FileNotFoundError as exc:
        results.append(False)
        print(f"[FAIL] resources: {exc}")
    passed = all(results)
    print("selftest passed" if passed else "selftest FAILED")
    return 0 if passed else 1
