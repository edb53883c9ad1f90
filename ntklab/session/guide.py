"""The guide: the lab's questions as pages with one-click presets, and what every plot shows.

Data only, no Qt: the window's Guide panel, the plots' "?" buttons and the README read the same
:data:`PAGES` and :data:`PLOT_HELP`. A page asks one question, says where to look, what the theory
predicts and why (in the code's conventions: C = ‖f − y‖²/(2n) over n training points, time
t = η·step, η_crit = 2n/λ_max(Θ̂₀)), cites its sources and names the presets that answer it. Each
claim a page makes about its presets is checked headless by ``tests/session/test_guide.py``.

Presets are experiment files in ``resources/presets/``. Their description is the first sentence of
the comment block at the top of the file (one line in the lab's own presets), so a file carries its
own description wherever it is copied; :func:`list_presets` and :func:`load_preset` read them.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

from ntklab.appinfo import resource, resources_dir
from ntklab.session.fields import describe
from ntklab.session.spec import ExperimentSpec, SpecError, load_spec

PRESET_FOLDER = "presets"

__all__ = [
    "GuidePage", "PAGES", "PLOT_HELP", "PlotHelp", "Preset", "PresetButton", "Reference", "list_presets",
    "load_preset", "page", "plot_help_text", "preset_description", "preset_exists", "preset_path",
]


# --- the pieces of a page -------------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    """A source: authors, year, title and where it appeared."""

    authors: str
    year: int
    title: str
    where: str

    def text(self) -> str:
        return f"{self.authors} ({self.year}). {self.title}. {self.where}."


@dataclass(frozen=True)
class PresetButton:
    """A preset a page offers: the file in ``resources/presets/`` and its button's label."""

    file: str
    label: str


@dataclass(frozen=True)
class GuidePage:
    """One question of the lab.

    ``look_at``: where in the window the answer shows; ``plots``: the :data:`PLOT_HELP` keys of those
    plots; ``prediction``: what the theory predicts and why; ``formula``: the prediction as a formula
    in the code's conventions; ``presets``: what to run (in order, e.g. the narrow run, then the wide).
    """

    id: str
    question: str
    look_at: str
    plots: tuple[str, ...]
    prediction: str
    formula: str
    references: tuple[Reference, ...]
    presets: tuple[PresetButton, ...]


@dataclass(frozen=True)
class PlotHelp:
    """What a plot of the window shows: ``definition`` (formula and symbols), ``answers`` (the question
    it answers) and ``fields``: the exported arrays it draws, explained by ``session/fields.py``."""

    title: str
    tab: str
    definition: str
    answers: str
    fields: tuple[str, ...] = ()

    def field_lines(self) -> list[str]:
        """One line per exported field: 'name (shape, unit): meaning', from the export's field table."""
        lines = []
        for name in self.fields:
            shape, unit, meaning = describe(name)
            lines.append(f"{name} {shape}, {unit}: {meaning}")
        return lines


# --- references -------------------------------------------------------------------------------------

JACOT = Reference("A. Jacot, F. Gabriel, C. Hongler", 2018,
                  "Neural tangent kernel: convergence and generalization in neural networks", "NeurIPS 2018")
LEE = Reference("J. Lee, L. Xiao, S. S. Schoenholz, Y. Bahri, R. Novak, J. Sohl-Dickstein, J. Pennington", 2019,
                "Wide neural networks of any depth evolve as linear models under gradient descent", "NeurIPS 2019")
DU = Reference("S. S. Du, X. Zhai, B. Póczos, A. Singh", 2019,
               "Gradient descent provably optimizes over-parameterized neural networks", "ICLR 2019")
ARORA_FINE = Reference("S. Arora, S. S. Du, W. Hu, Z. Li, R. Wang", 2019,
                       "Fine-grained analysis of optimization and generalization for overparameterized "
                       "two-layer neural networks", "ICML 2019")
ARORA_EXACT = Reference("S. Arora, S. S. Du, W. Hu, Z. Li, R. Salakhutdinov, R. Wang", 2019,
                        "On exact computation with an infinitely wide neural net", "NeurIPS 2019")
CRISTIANINI = Reference("N. Cristianini, J. Shawe-Taylor, A. Elisseeff, J. Kandola", 2001,
                        "On kernel-target alignment", "NIPS 14 (2001)")
LEWKOWYCZ = Reference("A. Lewkowycz, Y. Bahri, E. Dyer, J. Sohl-Dickstein, G. Gur-Ari", 2020,
                      "The large learning rate phase of deep learning: the catapult mechanism", "arXiv:2003.02218")
COHEN = Reference("J. M. Cohen, S. Kaur, Y. Li, J. Z. Kolter, A. Talwalkar", 2021,
                  "Gradient descent on neural networks typically occurs at the edge of stability", "ICLR 2021")
CHIZAT = Reference("L. Chizat, E. Oyallon, F. Bach", 2019, "On lazy training in differentiable programming",
                   "NeurIPS 2019")
YANG_HU = Reference("G. Yang, E. J. Hu", 2021,
                    "Tensor Programs IV: feature learning in infinite-width neural networks", "ICML 2021")
ZHANG = Reference("C. Zhang, S. Bengio, M. Hardt, B. Recht, O. Vinyals", 2017,
                  "Understanding deep learning requires rethinking generalization", "ICLR 2017")
BIETTI = Reference("A. Bietti, J. Mairal", 2019, "On the inductive bias of neural tangent kernels", "NeurIPS 2019")
BASRI = Reference("R. Basri, D. Jacobs, Y. Kasten, S. Kritchman", 2019,
                  "The convergence rate of neural networks for learned functions of different frequencies",
                  "NeurIPS 2019")
RAHIMI = Reference("A. Rahimi, B. Recht", 2007, "Random features for large-scale kernel machines", "NIPS 2007")
BORDELON = Reference("B. Bordelon, A. Canatar, C. Pehlevan", 2020,
                     "Spectrum dependent learning curves in kernel regression and wide neural networks", "ICML 2020")
FORT = Reference("S. Fort, G. K. Dziugaite, M. Paul, S. Kharaghani, D. M. Roy, S. Ganguli", 2020,
                 "Deep learning versus kernel learning: an empirical study of loss landscape geometry and the time "
                 "evolution of the Neural Tangent Kernel", "NeurIPS 2020")


# --- the pages --------------------------------------------------------------------------------------

PAGES: tuple[GuidePage, ...] = (
    GuidePage(
        id="start",
        question="What does this lab show, and where do I start?",
        look_at=(
            "The Training tab: the function fit (target, training points, the network, its linearization, "
            "the NTK ∞ answer and the NNGP posterior), the loss and the distance from initialization. The "
            "Spectra tab: the empirical NTK Θ̂ on the training points, its eigenvalues and what they predict. "
            "Every plot has a “?” that says what it shows."),
        plots=("fit", "loss", "drift"),
        prediction=(
            "A fully connected network, two hidden layers of 512 ReLU units, is trained by full-batch gradient "
            "descent on 16 points of sin 2x. Beside it, the same gradient descent trains its first-order Taylor expansion around the "
            "initial parameters θ₀ (the linearization), and the infinite-width theory gives its answer at the "
            "same time t = η·step: gradient flow with the analytic NTK Θ from the network's own f(θ₀). At this "
            "width the three nearly coincide: the network is in the kernel regime. The other pages ask when "
            "and why that holds, and what breaks it."),
        formula=(
            "f_lin(x; θ) = f(x; θ₀) + ∇_θ f(x; θ₀)·(θ − θ₀);  C = ‖f − y‖²/(2n);  "
            "f_NTK∞,t = f₀ + Θ(x, X) Θ⁻¹ (I − e^{−tΘ/n}) (y − f₀(X)),  t = η·step"),
        references=(JACOT, LEE),
        presets=(PresetButton("default.toml", "Run the default experiment"),),
    ),
    GuidePage(
        id="linearization",
        question="Does a wide network behave like its linearization?",
        look_at=(
            "Training tab: the function fit (network solid, linearization dashed) and, in the distance from "
            "initialization plot, RMS(f − f_lin) on the grid. Run width 16, then width 4096."),
        plots=("fit", "drift"),
        prediction=(
            "During gradient descent below η_crit the parameter vector of a wide network moves by O(1) in "
            "total, spread over so many parameters that each moves by O(width^−½) at most, so the network stays "
            "in the region where its first-order Taylor expansion around θ₀ is accurate. Lee et al. prove that "
            "the network and its linearization, trained alike, stay within O(width^−½) of each other for all "
            "time. From width 16 to 4096 (256 times wider) the gap should fall about 16-fold: in these presets RMS(f − f_lin) is about 0.2 at width 16 "
            "and 0.03 at width 4096. At width 16 the two curves part visibly."),
        formula="sup_t ‖f_t − f_lin,t‖ = O(width^−½)  (for η < η_crit = 2n/λ_max(Θ̂₀))",
        references=(LEE, JACOT),
        presets=(PresetButton("narrow_16.toml", "Run width 16"), PresetButton("wide_4096.toml", "Run width 4096")),
    ),
    GuidePage(
        id="kernel_motion",
        question="Is the kernel constant during training as width grows?",
        look_at=(
            "Spectra tab: kernel motion (‖Θ̂_t − Θ̂₀‖_F/‖Θ̂₀‖_F and the kernel velocity) and the heatmap "
            "Θ̂_t − Θ̂₀; on the Training tab the kernel curve of the distance from initialization. Run width 16, "
            "then width 4096; the width sweep measures the slope over 64…4096 and 3 seeds."),
        plots=("motion", "kernel_change", "drift"),
        prediction=(
            "The empirical NTK Θ̂_t(x, x') = ∇_θ f(x)·∇_θ f(x') changes only as the parameters move. Jacot et al. "
            "show that as the width grows Θ̂₀ tends to a deterministic kernel Θ and stays equal to it during "
            "training; Lee et al. bound the change by O(width^−½). So the relative kernel change should fall "
            "with width, roughly as width^−½: by tens of percent at width 16, about 1% at width 4096. What "
            "little moves at large width moves early, while the residual is large (the kernel velocity "
            "falls as training converges)."),
        formula="‖Θ̂_t − Θ̂₀‖_F/‖Θ̂₀‖_F = O(width^−½),  Θ̂₀ → Θ as width → ∞",
        references=(JACOT, LEE, FORT),
        presets=(PresetButton("narrow_16.toml", "Run width 16"), PresetButton("wide_4096.toml", "Run width 4096"),
                 PresetButton("sweep_width.toml", "Run the width sweep (64…4096, 3 seeds)")),
    ),
    GuidePage(
        id="positive_definite",
        question="Is the NTK positive definite, and does λ_min set the speed?",
        look_at=(
            "Spectra tab: the eigenvalues and their table (λ_max, λ_min, cond), the residual per mode heatmap "
            "and the residual of chosen modes (network solid, linear prediction dashed). The preset puts 16 "
            "points on the sphere, where the kernel is well conditioned."),
        plots=("eigen", "modes", "mode_curves"),
        prediction=(
            "Du et al. show that the limiting kernel of a wide network is positive definite when no two inputs "
            "are parallel, with smallest eigenvalue λ_min > 0; then gradient descent drives the training loss "
            "to zero at a linear rate. In the kernel regime f − y evolves as (I − ηΘ̂/n)(f − y) per step, so "
            "its component along the i-th eigenvector v_i of Θ̂₀ keeps a factor (1 − ηλ_i/n) per step: large "
            "eigenvalues are learned in a few steps, and what is left at the end lies along the eigenvectors "
            "of the smallest ones. The slowest mode decays as e^{−λ_min t/n} (for η ≤ 2n/(λ_max + λ_min), "
            "where the top mode's |1 − ηλ_max/n| is not the larger factor). The table marks λ_min with * when "
            "it is below n·ε·λ_max, rounding at the kernel's precision: there positive definiteness cannot be "
            "told. On the default 1-D data λ_min/λ_max of the NTK ∞ is a few 10⁻⁶: positive, but its last "
            "mode needs t ~ n/λ_min, about 10⁵, to be learned."),
        formula=(
            "v_iᵀ(f_step − y) = (1 − ηλ_i/n)^step · v_iᵀ(f₀ − y);  "
            "‖f_t − y‖ ≤ e^{−λ_min t/n} ‖f₀ − y‖  (gradient flow, fixed kernel)"),
        references=(DU, JACOT, LEE),
        presets=(PresetButton("sphere_modes.toml", "Run on the sphere"),),
    ),
    GuidePage(
        id="loss_rate",
        question="Does the cost follow dC/dt = −‖∂C/∂f‖²_Θ?",
        look_at=(
            "Spectra tab: the loss rate plot, the measured −ΔC/Δt over the last step (solid) against "
            "‖∂C/∂f‖²_Θ̂ = rᵀΘ̂_t r/n² from the current kernel (dashed). Run η = η_crit/5, then η = η_crit/20."),
        plots=("rate",),
        prediction=(
            "Jacot et al.: under gradient flow the parameters follow dθ/dt = −∇_θ C, so the outputs follow "
            "df/dt = −Θ̂_t ∂C/∂f and the cost falls at the rate dC/dt = −(∂C/∂f)ᵀ Θ̂_t (∂C/∂f), a norm of the "
            "cost's gradient in function space measured by the kernel. With C = ‖f − y‖²/(2n), ∂C/∂f = r/n for "
            "the residual r = f − y. Gradient descent takes steps of Δt = η, so the measured rate differs from "
            "the flow's by O(η): for a fixed kernel, mode i loses ((1 − x)⁻² − 1)/(2x) ≈ 1 + 3x/2 times the "
            "predicted rate, x = ηλ_i/n ≤ 2η/η_crit. The gap should shrink about fourfold from η_crit/5 to "
            "η_crit/20. The presets use tanh, a smooth activation: with ReLU the gap also vanishes as η → 0, "
            "but unevenly, because a step can cross a kink of the activation."),
        formula="dC/dt = −‖∂C/∂f‖²_Θ̂ = −rᵀΘ̂_t r/n²,  r = f − y,  t = η·step",
        references=(JACOT,),
        presets=(PresetButton("loss_rate_coarse.toml", "Run η = η_crit/5"),
                 PresetButton("loss_rate_fine.toml", "Run η = η_crit/20")),
    ),
    GuidePage(
        id="target_energy",
        question="Does the kernel's feature space contain the target?",
        look_at=(
            "Spectra tab: the target energy (the fraction of ‖y‖² in the top-k eigenvectors of Θ̂₀, Θ̂_t and "
            "the NTK ∞) with the kernel-target alignments below it; the loss on the Training tab. Run the smooth "
            "target sin 2x, then random ±1 labels on the same inputs."),
        plots=("energy", "loss", "modes"),
        prediction=(
            "A positive definite kernel spans every target on the training points: the energy reaches 1 at "
            "k = n, and the network can fit anything. What differs is where the target lies. Its part along "
            "the eigenvector v_i is learned in a time of order n/λ_i, so a target concentrated in the top few "
            "eigenvectors (high energy at small k, high alignment) is fitted fast and by a smooth function, "
            "while a target spread over the small eigenvalues is fitted slowly and only by bending the function "
            "between the points. Arora et al. make this quantitative for wide two-layer networks: the "
            "residual after training follows the projections v_iᵀy and the eigenvalues, and both the distance "
            "the weights travel and a bound on the test error grow with yᵀΘ⁻¹y = Σ_i (v_iᵀy)²/λ_i. In the "
            "presets sin 2x has about 99% of its energy in the top 4 eigenvectors, random labels about 23%."),
        formula=(
            "energy(k) = Σ_{i≤k} (v_iᵀy)²/‖y‖²;  alignment = yᵀΘ̂y/(‖Θ̂‖_F ‖y‖²) = ⟨Θ̂, yyᵀ⟩_F/(‖Θ̂‖_F ‖y‖²);  "
            "v_iᵀ(y − f_t) ≈ e^{−λ_i t/n} v_iᵀ(y − f₀)"),
        references=(ARORA_FINE, CRISTIANINI, JACOT),
        presets=(PresetButton("energy_sin.toml", "Run sin 2x"),
                 PresetButton("energy_random.toml", "Run random labels")),
    ),
    GuidePage(
        id="three_answers",
        question="How do the network, its Taylor linearization and the NTK ∞ compare?",
        look_at=(
            "Training tab: the function fit and the loss plot (training solid, test dashed, for the network, "
            "the linearization and the NTK ∞). Run width 16, then width 4096; the comparison sweep measures "
            "the test errors of all of them (and the NNGP posterior) from width 16 to 4096 over 3 seeds."),
        plots=("fit", "loss", "drift", "sweep_mse"),
        prediction=(
            "The three share f(θ₀) and the loss and differ in one approximation each. The linearization keeps "
            "the network's kernel fixed at its initial value Θ̂₀: it differs from the network by the kernel's "
            "motion, O(width^−½). The NTK ∞ answer replaces Θ̂₀ by its infinite-width limit Θ (and discrete "
            "steps by gradient flow, O(ηλ/n)): it differs from the linearization by the random fluctuation "
            "of Θ̂₀ around Θ, also O(width^−½). So at width 4096 all three agree and have the same test error; "
            "at width 16 they part. Which generalizes best at small width is not fixed by the theory: in the "
            "width-16 preset the network's test error is below its NTK ∞ answer's and the linearization is "
            "worst; Arora et al. found finite trained networks better than their kernels on images too."),
        formula="f − f_lin = O(width^−½),  f_lin − f_NTK∞ = O(width^−½) + O(ηλ_max/n)",
        references=(LEE, ARORA_EXACT, JACOT),
        presets=(PresetButton("narrow_16.toml", "Run width 16"), PresetButton("wide_4096.toml", "Run width 4096"),
                 PresetButton("sweep_compare.toml", "Run the comparison sweep")),
    ),
    GuidePage(
        id="edge_of_stability",
        question="What happens at the edge of stability, η just below and just above η_crit?",
        look_at=(
            "Training tab: the loss (log scale, the first steps) and the fit; the notes under the fit say "
            "when the linearization diverged. Spectra tab: the eigenvalues of Θ̂_t against Θ̂₀ and the kernel "
            "motion. Run η = 0.9·η_crit, 1.5·η_crit and 3·η_crit (η_crit = 0.408 for these presets)."),
        plots=("loss", "fit", "eigen", "motion"),
        prediction=(
            "The linearization keeps its kernel, so its top mode is multiplied by 1 − ηλ_max/n every step: "
            "for η < η_crit = 2n/λ_max it converges, for η > η_crit that factor is below −1 and it diverges. "
            "Below η_crit the network converges too. Just above, the network's loss first grows (tenfold in "
            "the preset), but a finite network can move its kernel: λ_max of Θ̂_t falls until it is below 2n/η, "
            "and then training converges in a flatter region, the catapult of Lewkowycz et al. (in their "
            "solvable model up to 2·η_crit; they saw more for ReLU networks). Far above, the kernel cannot "
            "fall fast enough: the loss overflows and the run stops with the divergence message, which names "
            "η_crit and the fix. Below but near η_crit, λ_max may also grow during training toward 2n/η "
            "(Cohen et al.)."),
        formula="|1 − ηλ_max/n| > 1 ⇔ η > η_crit = 2n/λ_max(Θ̂₀);  catapult: λ_max(Θ̂_t) → below 2n/η",
        references=(LEWKOWYCZ, COHEN, LEE),
        presets=(PresetButton("eta_below.toml", "Run η = 0.9·η_crit"),
                 PresetButton("eta_just_above.toml", "Run η = 1.5·η_crit"),
                 PresetButton("eta_far_above.toml", "Run η = 3·η_crit")),
    ),
    GuidePage(
        id="lazy_vs_rich",
        question="Lazy or rich: what pushes a network out of the kernel regime?",
        look_at=(
            "Training tab: the fit (do network and linearization coincide?), the distance from initialization "
            "and the feature movement plot; Spectra tab: the kernel motion. Run α = 0.01 and α = 100 (output "
            "scale, centered); then μP at width 16 and at width 4096."),
        plots=("fit", "drift", "features", "motion"),
        prediction=(
            "Width is not the only knob. Chizat et al. train f_α = α·(f(θ) − f(θ₀)) on ‖f_α − y‖²/(2nα²): the "
            "output must move by O(1), so the parameters move by O(1/α). Large α is lazy: the kernel stays put "
            "and the network follows its linearization, with a gap O(1/α). Small α is rich: the features and "
            "the kernel move by more than their own size (η_crit does not depend on α; the presets use a small "
            "η because at α = 0.01 the kernel grows during training). Yang & Hu's μP scales the layers and the "
            "learning rate so that the features move by O(1) at every width: then there is no fixed kernel at "
            "infinite width (the NTK ∞ curve is not drawn and a note says why), and the feature movement stays "
            "about the same from width 16 to 4096, while in the NTK parameterization it falls as width^−½."),
        formula=(
            "f_α = α·(f(θ) − f(θ₀)),  ‖θ − θ₀‖ = O(1/α),  ‖f_α − f_α,lin‖ = O(1/α);  "
            "feature change ‖h_l − h_l(0)‖/‖h_l(0)‖: O(width^−½) (NTK), O(1) (μP)"),
        references=(CHIZAT, YANG_HU),
        presets=(PresetButton("alpha_0.01.toml", "Run α = 0.01"), PresetButton("alpha_100.toml", "Run α = 100"),
                 PresetButton("mup_16.toml", "Run μP width 16"), PresetButton("mup_4096.toml", "Run μP width 4096")),
    ),
    GuidePage(
        id="random_labels",
        question="Can a wide network fit random labels, and what does it then predict?",
        look_at=(
            "Training tab: the loss (training solid, test dashed) and the fit, here predicted against true on "
            "the test digits; the test accuracies beside the MSE. Run random labels, then the true labels of "
            "the same 64 digits (0–4 against 5–9)."),
        plots=("loss", "fit", "energy"),
        prediction=(
            "Zhang et al. found that networks that generalize well can also fit labels drawn at random. In the "
            "kernel regime this is immediate: Θ is positive definite, so any labels on the training points are "
            "fitted, and the training MSE goes to 0. But random labels lie more along the small eigenvalues "
            "(in the presets the top 16 eigenvectors hold 32% of their ‖y‖² against 59% for the true labels), "
            "so they are fitted more slowly, and the function that fits "
            "them carries no information about the test digits: test accuracy stays at chance, 50% within its "
            "standard error, while the true labels give about 78% from 64 examples. Arora et al.'s bound on the test "
            "error grows with yᵀΘ⁻¹y = Σ_i (v_iᵀy)²/λ_i, which is large for random labels."),
        formula="f_∞(x) = f₀(x) + Θ(x, X) Θ⁻¹ (y − f₀(X)): fits any y on X;  accuracy = mean[sign f = sign y_test]",
        references=(ZHANG, ARORA_FINE),
        presets=(PresetButton("digits_random.toml", "Run random labels"),
                 PresetButton("digits_true.toml", "Run true labels")),
    ),
    GuidePage(
        id="learns_first",
        question="What does the kernel learn first?",
        look_at=(
            "Training tab: the fit along the angle θ of the circle in the first seconds of the run (pause it to "
            "look). Spectra tab: the top eigenfunctions (a constant, cos θ and sin θ, then cos 2θ and sin 2θ, …) "
            "and, where shown, the eigenvalue per frequency. The target is cos θ + cos 2θ + cos 4θ on 128 "
            "points of the circle."),
        plots=("fit", "functions", "modes"),
        prediction=(
            "On the circle a network's kernel depends only on the angle between two points, so its "
            "eigenfunctions are the Fourier modes cos kθ, sin kθ, with eigenvalues μ_k that fall with the "
            "frequency k (Bietti & Mairal; Basri et al.). Gradient flow shrinks the frequency-k part of the "
            "residual as e^{−μ_k t}: low frequencies are learned first, high ones later (spectral bias). For "
            "this network (depth 1, ReLU) μ₁ ≈ 1.40, μ₂ ≈ 0.22, μ₄ ≈ 0.020: half of cos θ is learned by "
            "t ≈ 0.5, half of cos 2θ by t ≈ 3, half of cos 4θ only by t ≈ 35. The network's output is centered "
            "(it starts at 0), so each frequency starts at its full amplitude."),
        formula=(
            "μ_k = (1/2π) ∫ Θ(θ) cos kθ dθ;  frequency-k residual ≈ e^{−μ_k t}·(its initial amplitude);  "
            "kernel matrix eigenvalues ≈ n·μ_k"),
        references=(BIETTI, BASRI, JACOT),
        presets=(PresetButton("circle_frequencies.toml", "Run frequencies 1, 2, 4"),),
    ),
    GuidePage(
        id="weakly_trained",
        question="Weakly or fully trained: what changes when only the readout learns?",
        look_at=(
            "Training tab: the loss and the distance from initialization (kernel change, RMS(f − f_lin)) and "
            "the feature movement; Spectra tab: the eigenvalues. Run the readout only, then all layers, at the "
            "same η and for the same time."),
        plots=("loss", "drift", "features", "eigen"),
        prediction=(
            "With train.trainable = readout the hidden layers keep their random initial values: the network is "
            "a linear model of fixed random features (Rahimi & Recht), Arora et al.'s weakly-trained net. Its "
            "kernel is the readout's part of the NTK, the last hidden layer's NNGP kernel: it never moves, "
            "the network equals its linearization exactly, and at infinite width the answer is NNGP kernel "
            "regression. Training every layer adds the hidden layers' terms to the kernel, Θ_all = Θ_readout "
            "+ (a positive semi-definite part), so every eigenvalue is at least as large (Weyl): every mode is "
            "learned at least as fast, and η_crit is smaller. In the presets the fully trained network reaches "
            "a much lower training and test error in the same time."),
        formula=("Θ_readout(x, x') = (σ_w²/width)·φ(h_L(x))·φ(h_L(x')) + σ_b², the last hidden layer's NNGP kernel "
                 "(NTK parameterization);  Θ_all = Θ_readout + Σ_l Θ_l with each Θ_l a Gram matrix ⪰ 0  ⇒  "
                 "λ_i(Θ_all) ≥ λ_i(Θ_readout),  η_crit(all) ≤ η_crit(readout)"),
        references=(ARORA_EXACT, RAHIMI, JACOT),
        presets=(PresetButton("readout_only.toml", "Run readout only"),
                 PresetButton("train_all.toml", "Run all layers")),
    ),
    GuidePage(
        id="learning_curve",
        question="How does the test error fall with the number of training points?",
        look_at=(
            "The Sweep tab: the test MSE of the network, its linearization, the NTK ∞ and the NNGP against "
            "n = 8…512, with the learning curve that the NTK ∞ spectrum predicts (dotted)."),
        plots=("sweep_mse",),
        prediction=(
            "Kernel regression learns the target's components along the kernel's eigenfunctions in order of "
            "their eigenvalues: with n points it has learned roughly the modes whose eigenvalue is above a "
            "threshold that falls with n. Bordelon et al. turn the NTK ∞ eigenvalues and the target's "
            "weights on the eigenfunctions into a prediction of the whole learning curve E_g(n), which wide "
            "networks follow. The sweep draws it beside the measured test errors."),
        formula=(
            "E_g(n) = Σ_k w_k² κ²/(κ + nλ_k)² / (1 − γ),  γ = Σ_k nλ_k²/(κ + nλ_k)²,  κ = Σ_k κλ_k/(κ + nλ_k)  "
            "(λ_k: eigenvalues of the NTK ∞ on the input distribution, w_k: the target's coefficients on its "
            "eigenfunctions; no label noise, no ridge: gradient flow run to convergence)"),
        references=(BORDELON,),
        presets=(PresetButton("sweep_n_train.toml", "Run the learning-curve sweep"),),
    ),
)

_PAGE_BY_ID = {p.id: p for p in PAGES}


def page(page_id: str) -> GuidePage:
    """The page with this id; an unknown id is a ValueError that lists the known ones."""
    try:
        return _PAGE_BY_ID[page_id]
    except KeyError:
        raise ValueError(f"page: {page_id!r} is not a guide page; use one of {', '.join(_PAGE_BY_ID)}.") from None


# --- what every plot shows ---------------------------------------------------------------------------

PLOT_HELP: dict[str, PlotHelp] = {
    "fit": PlotHelp(
        "Function fit", "Training",
        "The target (dashed) and training points; the network f(x; θ_t); its linearization f_lin(x) = f(x; θ₀) + "
        "∇_θ f(x; θ₀)·(θ_t − θ₀), trained by the same gradient descent; the NTK ∞ answer f₀ + Θ(x, X)Θ⁻¹"
        "(I − e^{−tΘ/n})(y − f₀(X)) at t = η·step from the network's own f₀; the NNGP posterior mean ± 2σ. On "
        "a line: against x; on the circle: against the angle θ; in the plane: images; for other data (sphere, "
        "digits, CSV): predicted against true on the test points. With an output scale α the curves show "
        "f_α = α·f (α·(f − f₀) when centered).",
        "Does the network behave like its linearization and like the infinite-width kernel machine, and what "
        "does it predict between the training points?",
        ("f_grid_net", "f_grid_lin", "f_grid_ntk", "nngp_mean", "nngp_std", "x_train", "y_train", "y_grid")),
    "loss": PlotHelp(
        "Loss (MSE)", "Training",
        "Mean squared error mean((f − y)²) = 2C on the training points (solid, noisy targets) and the test "
        "points (dashed, clean targets) for the network, the linearization and the NTK ∞ answer, against the "
        "step; log scale. A curve that diverged ends where it did.",
        "How fast does each model fit, and how well does it generalize?",
        ("mse_train_net", "mse_test_net", "mse_train_lin", "mse_test_lin", "mse_train_ntk", "mse_test_ntk")),
    "drift": PlotHelp(
        "Distance from initialization", "Training",
        "‖θ_t − θ₀‖/‖θ₀‖ over all parameters; the kernel's relative change ‖Θ̂_t − Θ̂₀‖_F/‖Θ̂₀‖_F on the training "
        "points (at kernel updates), Θ̂(x, x') = ∇_θ f(x)·∇_θ f(x'); and RMS(f − f_lin) on the grid, the gap "
        "between the network and its linearization. Log scale.",
        "Is training lazy (parameters and kernel barely move, the network stays linear in θ) or not?",
        ("param_change", "kernel_change", "lin_gap")),
    "features": PlotHelp(
        "Feature movement", "Training",
        "Per hidden layer l, the relative change of its pre-activations on the training inputs "
        "‖h_l(t) − h_l(0)‖/‖h_l(0)‖; per Dense layer (the readout last), the relative change of its weights "
        "‖W_l(t) − W_l(0)‖/‖W_l(0)‖. Log scale.",
        "Does the network learn features? In the NTK parameterization they move as width^−½; in μP, or at a "
        "small output scale α, by O(1).",
        ("feature_change", "weight_change")),
    "eigen": PlotHelp(
        "Eigenvalues (training set)", "Spectra",
        "Sorted eigenvalues λ_1 ≥ … ≥ λ_n of the empirical NTK at initialization Θ̂₀ and now Θ̂_t, of the "
        "analytic NTK Θ and the NNGP kernel, on the n training points (log-log, or divided by the trace). "
        "The table gives λ_max, λ_min and cond = λ_max/λ_min; * marks λ_min below n·ε·λ_max, rounding at "
        "the kernel's precision ε.",
        "Is the kernel positive definite, how well conditioned is it, and does it change in training? "
        "η_crit = 2n/λ_max(Θ̂₀).",
        ("run_eig_ntk0", "spectra_eigvals", "run_eig_ntk_inf", "run_eig_nngp_inf")),
    "modes": PlotHelp(
        "Residual per mode of Θ̂₀", "Spectra",
        "Heatmap of log₁₀|v_iᵀ(f_t − y)| over steps (columns), v_i the eigenvectors of Θ̂₀ (rows, mode 1 = "
        "largest λ at the top; the mode axis is logarithmic). In the kernel regime row i fades as "
        "(1 − ηλ_i/n)^step.",
        "Which parts of the target are learned when? The bottom rows (small λ) stay bright longest: λ_min sets "
        "the speed.",
        ("mode_residual",)),
    "mode_curves": PlotHelp(
        "Residual of chosen modes", "Spectra",
        "|v_iᵀ(f_t − y)| of modes 1, ~n^⅓, ~n^⅔ and n (solid) against the linear model's "
        "(1 − ηλ_i/n)^step·|v_iᵀ(f₀ − y)| (dashed), λ_i, v_i of Θ̂₀.",
        "Does each mode decay at the rate its eigenvalue predicts, and where does the network leave the "
        "kernel regime?",
        ("mode_residual", "run_eig_ntk0")),
    "rate": PlotHelp(
        "Loss rate −dC/dt", "Spectra",
        "The measured −ΔC/Δt of C = ‖f − y‖²/(2n) over the last step before each snapshot (Δt = η), and, at "
        "kernel updates, ‖∂C/∂f‖²_Θ̂ = rᵀΘ̂_t r/n² with r = f − y from the current kernel. Values below the "
        "rounding level (C·2nε/η) are noise.",
        "Does the cost follow dC/dt = −‖∂C/∂f‖²_Θ (Jacot et al. 2018)? Discrete steps differ by O(η).",
        ("loss_rate_measured", "loss_rate_predicted", "loss_rate_rounding")),
    "energy": PlotHelp(
        "Target energy in top-k modes", "Spectra",
        "energy(k) = Σ_{i≤k}(v_iᵀy)²/‖y‖², the fraction of the targets' squared norm in the top-k "
        "eigenvectors of Θ̂₀, Θ̂_t and the NTK ∞; below it the kernel-target alignment "
        "⟨K, yyᵀ⟩_F/(‖K‖_F‖y‖²) (Cristianini et al. 2001).",
        "Does the kernel's feature space hold the target in its fast directions (learned quickly, generalizes) "
        "or only in its slow ones?",
        ("run_energy_ntk0", "spectra_energy", "run_energy_ntk_inf", "alignment")),
    "functions": PlotHelp(
        "Top eigenfunctions of NTK ∞", "Spectra",
        "The top eigenfunctions of the analytic NTK over the inputs, extended from the training points "
        "(Nyström): φ_i(x) = √n Θ(x, X) v_i/λ_i, signed to correlate with y. On the circle they are Fourier "
        "modes.",
        "What does the kernel learn first? The target's part along φ_1, φ_2, … is learned in that order.",
        ("run_eigenfunctions",)),
    "motion": PlotHelp(
        "Kernel motion", "Spectra",
        "‖Θ̂_t − Θ̂₀‖_F/‖Θ̂₀‖_F and the kernel velocity 1 − cos(Θ̂ at the previous update, Θ̂_t) in the Frobenius "
        "inner product (Fort et al. 2020), at kernel updates.",
        "Does the kernel stay put as width grows, and when does it move?",
        ("kernel_change", "kernel_velocity")),
    "kernel": PlotHelp(
        "Θ̂_t", "Spectra",
        "The empirical NTK Θ̂_t(x_i, x_j) = ∇_θ f(x_i)·∇_θ f(x_j) on the training points, sorted by x (by angle "
        "on the circle); above 256 points, 256 × 256 block means.",
        "What does the kernel look like: which training points does it treat as similar?",
        ("spectra_kernel_image",)),
    "kernel_change": PlotHelp(
        "Θ̂_t − Θ̂₀", "Spectra",
        "The change of the empirical NTK since initialization on the training points, as the Θ̂_t heatmap, on "
        "a symmetric colour scale.",
        "Where does the kernel move: between which points, and by how much against Θ̂₀?",
        ("spectra_kernel_change_image",)),
    "sweep_mse": PlotHelp(
        "Test MSE: network, linearization, NTK ∞, NNGP", "Sweep",
        "Final test mean squared error of the network, its linearization, the NTK ∞ answer and the NNGP "
        "posterior mean against the swept setting; mean and spread over seeds; for a sweep over n_train, the "
        "learning curve the NTK ∞ spectrum predicts (Bordelon et al. 2020).",
        "Which of the four generalizes best, and how does that change with width, α or the data size?",
        ("mse_test_net", "mse_test_lin", "mse_test_ntk")),
    "sweep_param_change": PlotHelp(
        "Parameter change", "Sweep",
        "Final ‖θ − θ₀‖/‖θ₀‖ against the swept setting, log-log, with the fitted power-law slope; theory: "
        "width^−1 in the NTK parameterization at depth ≥ 2 (Lee et al. 2019), 1/α for the output scale.",
        "How does laziness scale?",
        ("param_change",)),
    "sweep_weight_change": PlotHelp(
        "Weight change per layer", "Sweep",
        "Final ‖W_l − W_l(0)‖/‖W_l(0)‖ per Dense layer against the swept setting, with fitted slopes; theory: "
        "width^−½ for the first layer and the readout, width^−1 for a width × width hidden layer.",
        "Which layers move, and how does it scale?",
        ("weight_change",)),
    "sweep_feature_change": PlotHelp(
        "Feature change per hidden layer", "Sweep",
        "Final ‖h_l − h_l(0)‖/‖h_l(0)‖ per hidden layer against the swept setting, with fitted slopes; theory: "
        "width^−½ (NTK), width⁰ (μP).",
        "Does the network learn features at large width?",
        ("feature_change",)),
    "sweep_kernel_change": PlotHelp(
        "Kernel change", "Sweep",
        "Final ‖Θ̂ − Θ̂₀‖_F/‖Θ̂₀‖_F on the training points against the swept setting, with the fitted slope.",
        "Does the kernel freeze as width grows (Jacot et al. 2018)?",
        ("kernel_change",)),
    "sweep_gaps": PlotHelp(
        "Distance to the linearization and NTK ∞", "Sweep",
        "Final RMS(f − f_lin) on the grid and on the test points, and RMS(f − f_NTK∞) on the test points, "
        "against the swept setting, with fitted slopes (theory: width^−½).",
        "How fast do the network's two kernel approximations become exact?",
        ("lin_gap",)),
}


def plot_help_text(key: str) -> str:
    """PLOT_HELP[key] as plain text: title, definition, what it answers, the exported fields."""
    try:
        h = PLOT_HELP[key]
    except KeyError:
        raise ValueError(f"plot: {key!r} has no help; use one of {', '.join(PLOT_HELP)}.") from None
    lines = [f"{h.title} ({h.tab} tab)", "", h.definition, "", f"Answers: {h.answers}"]
    if h.fields:
        lines += ["", "Exported as:"] + [f"  {line}" for line in h.field_lines()]
    return "\n".join(lines)


# --- presets ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Preset:
    """An experiment file in ``resources/presets/``: its file name, one-line description, and whether it
    is a sweep (a ``[sweep]`` table: run with ``ntklab sweep`` or the Sweep tab)."""

    name: str
    description: str
    sweep: bool


def _preset_name(name: str) -> str:
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.\-]+", name) or name.startswith("."):
        raise SpecError(f"preset: {name!r} is not valid; give a file name of resources/presets/, "
                        f"e.g. 'wide_4096.toml'.")
    return name if name.endswith(".toml") else name + ".toml"


def preset_path(name: str) -> Path:
    """The path of preset ``name`` ('wide_4096.toml' or 'wide_4096'); a missing one is a SpecError."""
    name = _preset_name(name)
    try:
        return resource(f"{PRESET_FOLDER}/{name}")
    except FileNotFoundError:
        known = ", ".join(p.name for p in list_presets()) or "none"
        raise SpecError(f"preset: {name!r} is not in {resources_dir() / PRESET_FOLDER}; use one of {known}.") from None


def preset_exists(name: str) -> bool:
    try:
        preset_path(name)
    except SpecError:
        return False
    return True


def _header(text: str) -> str:
    """The comment block at the top of a TOML file, joined into one paragraph."""
    lines = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped.startswith("#"):
            break
        lines.append(stripped.lstrip("#").strip())
    return " ".join(part for part in lines if part)


def _first_sentence(paragraph: str) -> str:
    """Up to the first '.', '!' or '?' followed by a space (not in 'e.g.', 'i.e.', 'vs.', 'et al.')."""
    for match in re.finditer(r"[.!?](?=\s)", paragraph):
        if not re.search(r"(\be\.g|\bi\.e|\bvs|\bal|\bcf)\.$", paragraph[: match.end()]):
            return paragraph[: match.end()]
    return paragraph


def preset_description(name: str) -> str:
    """The first sentence of the preset's top comment ('' when it has none)."""
    return _first_sentence(_header(preset_path(name).read_text(encoding="utf-8")))


def list_presets() -> list[Preset]:
    """Every preset in ``resources/presets/``, sorted by file name."""
    folder = resources_dir() / PRESET_FOLDER
    if not folder.is_dir():
        return []
    out = []
    for path in sorted(folder.glob("*.toml")):
        text = path.read_text(encoding="utf-8")
        try:
            sweep = "sweep" in tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            sweep = False  # load_preset names the error
        out.append(Preset(path.name, _first_sentence(_header(text)), sweep))
    return out


def load_preset(name: str) -> ExperimentSpec:
    """The preset's experiment spec, read as any experiment file (errors name the file and the setting).

    A sweep preset needs a version of the lab with sweeps (an ``ExperimentSpec.sweep`` field): without
    it the SpecError says so.
    """
    path = preset_path(name)
    if "sweep" not in {f.name for f in fields(ExperimentSpec)}:
        try:
            is_sweep = "sweep" in tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            is_sweep = False  # load_spec gives the message
        if is_sweep:
            raise SpecError(f"{path}: a sweep preset ([sweep]); this version of NTK Lab runs single experiments only.")
    return load_spec(path)
