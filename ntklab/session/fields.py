"""What every exported array is: name, shape, unit and meaning. One table for the export's
``fields.csv``/``README.txt`` and for the window's explanations.

Shapes: S snapshots, K kept snapshots (all of them unless the run was long, see ``RunRecord``), U
kept kernel updates, n training points, m test points, G grid points, d input dimension, L hidden
layers, D = L + 1 Dense layers, k eigenfunctions; in a sweep, P points and V swept values.
"""

from __future__ import annotations

FIELDS: dict[str, tuple[str, str, str]] = {  # name: (shape, unit, meaning)
    "step": ("(S,)", "steps", "gradient-descent steps done at the snapshot"),
    "time": ("(S,)", "η·steps", "t = η·step, the time of the gradient-flow answers"),
    "wall_time": ("(S,)", "s", "seconds since the run started (compiling included)"),
    "mse_train_net": ("(S,)", "target²", "mean (f − y)² of the network on the (noisy) training targets"),
    "mse_test_net": ("(S,)", "target²", "mean (f − y)² of the network on the clean test targets"),
    "mse_train_lin": ("(S,)", "target²", "the same for the linearization f_lin (NaN once it diverged)"),
    "mse_test_lin": ("(S,)", "target²", "the same for the linearization on the test points"),
    "mse_train_ntk": ("(S,)", "target²", "the same for the NTK ∞ gradient-flow answer at t (NaN when off)"),
    "mse_test_ntk": ("(S,)", "target²", "the same for the NTK ∞ answer on the test points"),
    "param_change": ("(S,)", "1", "‖θ − θ₀‖/‖θ₀‖ over every parameter"),
    "kernel_change": ("(S,)", "1", "‖Θ̂_t − Θ̂₀‖_F/‖Θ̂₀‖_F on the training set; NaN between kernel updates"),
    "lin_gap": ("(S,)", "target", "RMS of f − f_lin on the grid"),
    "feature_change": ("(S, L)", "1", "‖h_l(t) − h_l(0)‖/‖h_l(0)‖: pre-activations of hidden layer l on the training inputs"),
    "weight_change": ("(S, D)", "1", "‖W_l(t) − W_l(0)‖/‖W_l(0)‖ of Dense layer l, the readout last"),
    "loss_rate_measured": ("(S,)", "target²/time", "−ΔC/Δt of C = ‖f − y‖²/(2n) over the snapshot's last step (Δt = η)"),
    "loss_rate_rounding": ("(S,)", "target²/time", "the loss rate that float rounding alone can produce: measured values below it are noise"),
    "loss_rate_predicted": ("(S,)", "target²/time", "‖∂C/∂f‖²_Θ̂ = rᵀΘ̂_t r/n² at kernel updates (NaN between)"),
    "alignment": ("(S,)", "1", "kernel-target alignment ⟨Θ̂_t, yyᵀ⟩_F/(‖Θ̂_t‖_F‖y‖²) at kernel updates (NaN between)"),
    "kernel_velocity": ("(S,)", "1", "1 − cos(Θ̂ at the previous kernel update, Θ̂_t) at kernel updates (NaN between)"),
    "accuracy_test_net": ("(S,)", "1", "fraction of test points where sign f = sign y (±1 targets only; NaN otherwise)"),
    "accuracy_test_lin": ("(S,)", "1", "the same for the linearization"),
    "accuracy_test_ntk": ("(S,)", "1", "the same for the NTK ∞ answer"),
    "lin_diverged_step": ("(S,)", "steps", "the step the linearization diverged at, −1 while it has not"),
    "ntk_diverged_step": ("(S,)", "steps", "the step the NTK ∞ answer became non-finite at, −1 while it has not"),
    "kept_step": ("(K,)", "steps", "the steps of the snapshots whose arrays are kept (f_grid_*, mode_residual)"),
    "f_grid_net": ("(K, G)", "target", "network outputs f on the grid x_grid"),
    "f_grid_lin": ("(K, G)", "target", "linearization outputs on the grid (NaN once it diverged)"),
    "f_grid_ntk": ("(K, G)", "target", "NTK ∞ gradient-flow outputs on the grid at t"),
    "mode_residual": ("(K, n)", "target", "V₀ᵀ(f − y): the training residual along each eigenvector of Θ̂₀, largest λ first (signed)"),
    "spectra_step": ("(U,)", "steps", "the steps of the kept kernel updates"),
    "spectra_eigvals": ("(U, n)", "target²·… (kernel)", "eigenvalues of Θ̂_t, largest first"),
    "spectra_energy": ("(U, n)", "1", "cumulative fraction of ‖y‖² in the top-k eigenvectors of Θ̂_t"),
    "spectra_kernel_image": ("(U, ≤256, ≤256)", "kernel", "Θ̂_t, points sorted by their first coordinate, block means above 256"),
    "spectra_kernel_change_image": ("(U, ≤256, ≤256)", "kernel", "Θ̂_t − Θ̂₀, as spectra_kernel_image"),
    "run_eig_ntk0": ("(n,)", "kernel", "eigenvalues of the empirical NTK at initialization Θ̂₀"),
    "run_energy_ntk0": ("(n,)", "1", "cumulative fraction of ‖y‖² in the top-k eigenvectors of Θ̂₀"),
    "run_eig_ntk_inf": ("(n,)", "kernel", "eigenvalues of the analytic (infinite-width) NTK"),
    "run_eig_nngp_inf": ("(n,)", "kernel", "eigenvalues of the analytic NNGP kernel"),
    "run_energy_ntk_inf": ("(n,)", "1", "cumulative fraction of ‖y‖² in the top-k eigenvectors of the analytic NTK"),
    "run_eigenfunctions": ("(k, G)", "1", "top eigenfunctions of the analytic NTK on the grid (Nyström)"),
    "run_order": ("(n,)", "index", "training points sorted by their first coordinate: the order of the kernel images"),
    "x_train": ("(n, d)", "input", "training inputs"),
    "y_train": ("(n,)", "target", "training targets (noise, random labels included)"),
    "x_test": ("(m, d)", "input", "test inputs"),
    "y_test": ("(m,)", "target", "clean test targets"),
    "x_grid": ("(G, d)", "input", "the points the plots evaluate"),
    "y_grid": ("(G,)", "target", "the clean target on the grid"),
    "nngp_mean": ("(G,)", "target", "NNGP posterior mean on the grid (absent when it failed: see summary notes)"),
    "nngp_std": ("(G,)", "target", "NNGP posterior standard deviation on the grid"),
    "ntk_train_train_analytic": ("(n, n)", "kernel", "the analytic NTK on the training set"),
    # sweeps (P points: one run each, its final values)
    "seed": ("(P,)", "index", "the point's init seed (train.seed)"),
    "data_seed": ("(P,)", "index", "the point's data seed (data.seed)"),
    "mse_train_nngp": ("(P,)", "target²", "mean (f − y)² of the NNGP posterior mean on the training targets"),
    "mse_test_nngp": ("(P,)", "target²", "mean (f − y)² of the NNGP posterior mean on the clean test targets"),
    "lin_gap_test": ("(P,)", "target", "RMS of f − f_lin on the test points"),
    "ntk_gap_test": ("(P,)", "target", "RMS of f − f_NTK∞ on the test points, at the run's t"),
    "lambda_max": ("(P,)", "kernel", "largest eigenvalue of the empirical NTK at init Θ̂₀ on the training set"),
    "lambda_min": ("(P,)", "kernel", "smallest eigenvalue of Θ̂₀ (resolved to about n·ε·λ_max)"),
    "eta_crit": ("(P,)", "1/time", "2n/λ_max(Θ̂₀): gradient descent on the linearization diverges above it"),
    "diverged_step": ("(P,)", "steps", "the step the network's loss became NaN or inf, −1 when it did not"),
    "mse_test_theory": ("(V,)", "target²", "the NTK ∞ learning curve predicted from the kernel's spectrum "
                        "(Bordelon, Canatar & Pehlevan 2020) at each data.n_train"),
}


def describe(name: str) -> tuple[str, str, str]:
    """(shape, unit, meaning) of an exported array; feature/weight columns like ``weight_change[2]`` too."""
    base = name.split("[", 1)[0]
    return FIELDS.get(base, ("", "", ""))
