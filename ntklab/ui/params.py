"""The settings form (a pyqtgraph ParameterTree) and its two adapters to and from ExperimentSpec."""

from __future__ import annotations

import re

from pyqtgraph.parametertree import Parameter
from PySide6.QtGui import QBrush, QPalette
from PySide6.QtWidgets import QApplication

from ntklab.core import ACTIVATIONS, PRESETS, TRAINABLE
from ntklab.core.training import LINEARIZATIONS
from ntklab.session.spec import PRECISIONS
from ntklab.session import ExperimentSpec, spec_from_dict, spec_to_dict

ACTIVATION_PARAMS = {  # every activation parameter the form knows, with its spin-box options
    "alpha": dict(type="float", value=0.01, step=0.01),
    "a": dict(type="float", value=1.0, step=0.1),
    "b": dict(type="float", value=1.0, step=0.1),
    "c": dict(type="float", value=0.0, step=0.1),
    "approximate": dict(type="bool", value=False),
}

SHOW = {"network": True, "linearization": True, "ntk_inf": True, "nngp": True, "by_trace": False}
SHOW_TITLES = {"network": "network", "linearization": "linearization", "ntk_inf": "NTK ∞ (gradient flow)",
               "nngp": "NNGP posterior ±2σ", "by_trace": "eigenvalues ÷ trace"}
SECTIONS = ("model", "data", "train", "infinite", "spectra")
ETA_CRIT_TIP = ("The largest stable learning rate η_crit = 2n/λ_max(Θ̂₀) for the loss ‖f − y‖²/(2n) "
                "(n training points), from the empirical NTK at initialization: above it gradient descent "
                "on the linearized network diverges along the top eigenvector.")


def make_parameters(spec: ExperimentSpec | None = None) -> Parameter:
    """The form's parameter tree, filled from ``spec`` (defaults when None)."""
    spec = spec or ExperimentSpec()
    sections = [
        dict(name="model", title="Architecture", type="group", children=[
            dict(name="depth", title="depth (hidden layers)", type="int", limits=(0, 32)),
            dict(name="width", type="int", limits=(1, 65536), step=32),
            dict(name="activation", type="list", limits=list(ACTIVATIONS)),
            dict(name="activation_params", title="activation parameters", type="group", children=[
                dict(name=k, **opts) for k, opts in ACTIVATION_PARAMS.items()]),
            dict(name="w_std", title="W std", type="float", limits=(0, None), step=0.1, decimals=6),
            dict(name="b_std", title="b std", type="float", limits=(0, None), step=0.1, decimals=6),
            dict(name="parameterization", type="list", limits=["ntk", "standard"]),
        ]),
        dict(name="data", title="Data", type="group", children=[
            dict(name="preset", title="target", type="list", limits=list(PRESETS)),
            dict(name="n_train", title="training points", type="int", limits=(1, 100000)),
            dict(name="n_test", title="test points", type="int", limits=(1, 100000)),
            dict(name="noise", title="noise std", type="float", limits=(0, None), step=0.05),
            dict(name="seed", title="data seed", type="int", limits=(0, 2**31 - 1)),
            dict(name="x_min", title="x min", type="float", step=0.5),
            dict(name="x_max", title="x max", type="float", step=0.5),
        ]),
        dict(name="train", title="Training", type="group", children=[
            dict(name="learning_rate", title="learning rate", type="float", limits=(1e-9, None),
                 step=0.01, decimals=6),
            dict(name="eta_crit", title="η_crit = 2n/λ_max(Θ̂₀)", type="str", value="…", readonly=True,
                 tip=ETA_CRIT_TIP),
            dict(name="steps", type="int", limits=(1, 10**8), step=100),
            dict(name="seed", title="init seed", type="int", limits=(0, 2**31 - 1)),
            dict(name="snapshots", type="int", limits=(1, 100000)),
            dict(name="kernel_every", title="kernel & spectra every (snapshots)", type="int",
                 limits=(1, 100000)),
            dict(name="trainable", title="layers trained", type="list", limits=list(TRAINABLE),
                 tip="all: every layer; readout: only the last layer (random features, the NNGP kernel at "
                     "infinite width); hidden: every layer but the readout"),
            dict(name="precision", type="list", limits=list(PRECISIONS),
                 tip="float32 (fast) or float64 (slower; resolves small eigenvalues and slow loss rates). "
                     "The same seed gives the same initial network in both."),
            dict(name="linearization", title="linearization trained in", type="list", limits=list(LINEARIZATIONS),
                 tip="function space: f_lin = f(θ₀) + Θ̂₀(x, X)·b, exact for gradient descent and O(n²) per step; "
                     "parameter space: a JVP and its transpose per step (the reference)"),
        ]),
        dict(name="infinite", title="Infinite width", type="group", children=[
            dict(name="enabled", title="compute NTK ∞ and NNGP", type="bool"),
            dict(name="nngp_diag_reg", title="NNGP diag reg (× tr K / n)", type="float",
                 limits=(0, None), step=1e-4, decimals=8),
        ]),
        dict(name="spectra", title="Spectra", type="group", children=[
            dict(name="enabled", title="compute spectral views", type="bool"),
            dict(name="eigenfunctions", title="eigenfunctions shown", type="int", limits=(1, 16)),
        ]),
        dict(name="show", title="Show", type="group", children=[
            dict(name=k, title=SHOW_TITLES[k], type="bool", value=v, default=v) for k, v in SHOW.items()]),
    ]
    root = Parameter.create(name="settings", type="group", children=sections)
    apply_spec(root, ExperimentSpec())
    for p in _leaves(root):  # the defaults: each row's reset button returns to them
        if not p.readonly():
            p.setDefault(p.value())
    apply_spec(root, spec)
    return root


def apply_spec(root: Parameter, spec: ExperimentSpec) -> None:
    """Writes ``spec`` into the form (one source of truth: the spec)."""
    values = spec_to_dict(spec)
    act_params = {**ACTIVATIONS[spec.model.activation].defaults, **values["model"].pop("activation_params")}
    kept = {}
    for section, entries in values.items():
        names = {c.name() for c in root.child(section).children()}
        for name, value in entries.items():
            if name in names:
                root.child(section, name).setValue(value)
            else:  # no widget for it (yet): kept as given, merged back by spec_from_params
                kept.setdefault(section, {})[name] = value
    root.opts["settings_without_widget"] = kept
    group = root.child("model", "activation_params")
    for name in ACTIVATION_PARAMS:
        if name in act_params:
            group.child(name).setValue(act_params[name])
    update_visibility(root)


DEPTH0_TIP = "unused at depth 0: the network is a linear model of the inputs (no hidden layer)"


def update_visibility(root: Parameter) -> None:
    """Shows only the parameters the chosen activation takes; greys out width and activation at
    depth 0 (no hidden layer uses them)."""
    valid = ACTIVATIONS[root.child("model", "activation").value()].defaults
    group = root.child("model", "activation_params")
    for name in ACTIVATION_PARAMS:
        group.child(name).setOpts(visible=name in valid)
    group.setOpts(visible=bool(valid))
    hidden_layers = root.child("model", "depth").value() > 0
    for param in (root.child("model", "width"), root.child("model", "activation"), group, *group.children()):
        set_enabled(param, hidden_layers, DEPTH0_TIP)


def set_enabled(param: Parameter, enabled: bool, why: str = "") -> None:
    """Greys a row out (name and value) or back; ``why`` is its tooltip while grey."""
    if param.opts.get("enabled", True) == enabled:
        return
    if enabled:
        param.setOpts(enabled=True, tip=param.opts.pop("tip_enabled", None) or "")
    else:
        param.opts["tip_enabled"] = param.opts.get("tip")
        param.setOpts(enabled=False, tip=why)
    palette = QApplication.palette()
    color = palette.color(QPalette.ColorGroup.Disabled if not enabled else QPalette.ColorGroup.Active,
                          QPalette.ColorRole.Text)
    for item in list(param.items):
        item.setForeground(0, QBrush(color))
        item.setToolTip(0, why if not enabled else (param.opts.get("tip") or ""))
        if hasattr(item, "displayLabel"):
            item.displayLabel.setEnabled(enabled)


_KEY = re.compile(r"(?<![\w./\\(-])(model|data|train|infinite|spectra|show)\.([a-z_0-9]+)(?:\.([a-z_0-9]+))?\b")


def label_keys(text: str, root: Parameter) -> str:
    """Names each setting key of ``text`` as the form does: "train.learning_rate" becomes "learning rate
    (train.learning_rate)" (the form's label, then the file's key); keys without a row stay as they are."""

    def named(match: re.Match) -> str:
        names = [g for g in match.groups() if g]
        try:
            param = root.child(*names)
        except KeyError:
            if len(names) == 3:  # a key and then a word: name the key alone
                return named(_KEY.match(".".join(names[:2]))) + "." + names[2]
            return match.group(0)
        return f"{param.title()} ({match.group(0)})"

    return _KEY.sub(named, text)


def spec_from_params(root: Parameter) -> ExperimentSpec:
    """Reads the form into a new spec; raises SpecError naming the field when a value is bad."""
    data = {}
    for section in SECTIONS:
        data[section] = {**root.opts.get("settings_without_widget", {}).get(section, {}),
                         **{c.name(): c.value() for c in root.child(section).children()
                            if c.name() != "activation_params" and not c.readonly()}}
    valid = ACTIVATIONS[data["model"]["activation"]].defaults
    group = root.child("model", "activation_params")
    data["model"]["activation_params"] = {
        name: (bool(group.child(name).value()) if name == "approximate" else float(group.child(name).value()))
        for name in valid
    }
    for section, name in [("model", "w_std"), ("model", "b_std"), ("data", "noise"), ("data", "x_min"),
                          ("data", "x_max"), ("train", "learning_rate"), ("infinite", "nngp_diag_reg")]:
        data[section][name] = float(data[section][name])
    return spec_from_dict(data)


def _leaves(param: Parameter):
    for child in param.children():
        if child.hasChildren():
            yield from _leaves(child)
        else:
            yield child


def shown(root: Parameter) -> dict[str, bool]:
    return {k: bool(root.child("show", k).value()) for k in SHOW}
