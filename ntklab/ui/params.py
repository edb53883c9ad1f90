"""The settings form (a pyqtgraph ParameterTree) and its two adapters to and from ExperimentSpec."""

from __future__ import annotations

import re

from pyqtgraph.parametertree import Parameter, registerParameterType
from pyqtgraph.parametertree.parameterTypes.str import StrParameterItem
from PySide6.QtCore import Signal
from PySide6.QtGui import QBrush, QPalette
from PySide6.QtWidgets import QApplication, QToolButton

from ntklab.core import ACTIVATIONS, ARCHITECTURES, PARAMETERIZATIONS, PRESETS, TRAINABLE
from ntklab.core.data import LABEL_KINDS, PLANE_CLASSIFICATION, PLANE_PRESETS
from ntklab.core.expression import MAX_DIM
from ntklab.core.training import LINEARIZATIONS
from ntklab.session.spec import MAX_DEGREE, PRECISIONS, SOURCES
from ntklab.session import ExperimentSpec, SpecError, spec_from_dict, spec_to_dict

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
OUTPUT_SCALE_RANGE = (1e-3, 1e3)  # the form's α range (files may hold 1e-6 … 1e6: the row widens to show them)

# What each regime setting does to the regime (tooltips; one or two lines each)
MODEL_TIPS = {
    "parameterization": (
        "How weights and the learning rate scale with the width n (Yang & Hu 2021, abc table in the README).\n"
        "ntk: W = w/√n; as n → ∞ the kernel freezes: training is kernel regression with NTK ∞ "
        "(Jacot et al. 2018).\n"
        "standard: W ~ N(0, σ²/n); the same kernel limit, but its learning rate must shrink with n.\n"
        "mup (μP): features move by O(1) at any width: no fixed kernel, no NTK ∞ / NNGP curve.\n"
        "mean_field: one hidden layer (depth 1), readout ~1/n (Mei et al. 2018): features move, no kernel "
        "limit; for depth ≠ 1 use mup."),
    "architecture": ("mlp: a plain stack of Dense layers; resnet: an input Dense, then blocks "
                     "h ← h + s·Dense(φ(h)) (Du et al. 2019): deep residual nets keep a well-conditioned kernel."),
    "branch_scale": ("s·√depth: each residual branch is scaled by s = branch_scale/√depth. Small: blocks near the "
                     "identity (a shallow net's kernel); large: like a plain deep net."),
    "output_scale": ("α: the model is α·f (α·(f − f(θ₀)) when centered), trained on "
                     "‖α f − y‖²/(2n α²).\n"
                     "Large α: lazy, the network follows its linearization; small α: features move "
                     "(Chizat, Oyallon & Bach 2019). Arrows step 1…9 per decade."),
    "centered": ("Subtract the initial output: f_α = α·(f(θ) − f(θ₀)) starts at 0, so a large α does not "
                 "blow up the initial function (Chizat et al. 2019)."),
    "w_std": "σ_w: weight standard deviation (× 1/√fan-in); √2 keeps ReLU signals at unit scale.",
    "b_std": "σ_b: bias standard deviation; 0 makes the kernel depend on angles only.",
}
DATA_TIPS = {
    "source": ("Where the data comes from: preset (1-D targets), plane (2-D targets), circle, sphere, expression "
               "(your formula), csv (your file), digits (UCI 8×8 handwritten digits, ±1 labels)."),
    "preset": "The 1-D target on [x min, x max].",
    "plane_target": "The 2-D target on [x min, x max]²; checker gives ±1 labels (accuracies are reported).",
    "frequencies": "Frequencies k of the target Σ a_k cos kθ + b_k sin kθ, comma-separated, each once (e.g. 1, 3).",
    "amplitudes": "a_k, one per frequency, comma-separated (e.g. 1, 0.5).",
    "sin_amplitudes": "b_k, one per frequency, or empty for none.",
    "degree": "ℓ: the target is the zonal harmonic P_ℓ of the polar angle; the NTK learns low degrees first.",
    "expression": ("Your target as a formula of x (= x1), x1 … x_d: numbers, + − * / **, pi, e, sin cos tan "
                   "exp log sqrt abs sign tanh …, min, max, where(c, a, b). Checked as you type; never "
                   "evaluated as code."),
    "dim": "d: the number of inputs x1 … x_d (1: a curve, 2: images, more: predicted vs true).",
    "csv_path": "Your CSV file (comma, semicolon or tab separated, UTF-8); … chooses it.",
    "input_columns": ("Input columns: header names or 0-based indices, comma-separated; empty: every column but "
                      "the target. Quote a name that looks like a number (\"2019\")."),
    "target_column": "The target column: a header name or a 0-based index; empty: the last column.",
    "standardize": "Scale inputs (and a non-±1 target) to zero mean and unit variance with the training rows.",
    "csv_sha256": "The file's SHA-256 (64 hex digits): a file whose contents changed is refused; empty: no check.",
    "digits_positive": "Digits labelled +1, comma-separated (e.g. 5, 6, 7, 8, 9).",
    "digits_negative": "Digits labelled −1, none of the +1 ones; the other digits are left out.",
    "n_train": "Training points (rows, images).",
    "n_test": "Test points; test targets are noiseless (the clean target).",
    "noise": "Standard deviation of Gaussian noise on the training targets.",
    "seed": "The seed that draws the inputs, the noise, the split and random labels.",
    "x_min": "Lower end of the input range.",
    "x_max": "Upper end of the input range.",
    "n_grid": "Points the plots evaluate (line, circle: n; plane: ⌊√n⌋ per side).",
    "random_labels": ("Replace the training targets by random labels (test keeps the clean target): a net that fits "
                      "them generalizes at chance (Zhang et al. 2017)."),
    "label_kind": "sign: ±1 labels with probability ½ each; gaussian: N(0, 1) labels.",
}
SOURCE_ROWS = {  # the data rows that belong to one source: shown only for it
    "preset": ("preset", "x_min", "x_max"),
    "plane": ("plane_target", "x_min", "x_max"),
    "circle": ("frequencies", "amplitudes", "sin_amplitudes"),
    "sphere": ("degree",),
    "expression": ("expression", "dim", "x_min", "x_max"),
    "csv": ("csv_path", "input_columns", "target_column", "standardize", "csv_sha256"),
    "digits": ("digits_positive", "digits_negative"),
}
LIST_ROWS = {"frequencies": "int", "amplitudes": "float", "sin_amplitudes": "float", "input_columns": "column",
             "digits_positive": "int", "digits_negative": "int"}
LIST_WORDS = {"int": "integers", "float": "numbers", "column": "column names or 0-based indices"}


class PathParameterItem(StrParameterItem):
    """A path typed in, or chosen with its "…" button (the parameter's ``sigPickRequested``: the
    controller opens the dialog, in the last folder used)."""

    def __init__(self, param, depth):
        super().__init__(param, depth)
        self.pick_button = QToolButton()
        self.pick_button.setText("…")
        self.pick_button.setToolTip("Choose a file")
        self.pick_button.clicked.connect(lambda: param.sigPickRequested.emit(param))
        self.layoutWidget.layout().insertWidget(2, self.pick_button)


class PathParameter(Parameter):
    """A file path row with a "…" button."""

    itemClass = PathParameterItem
    sigPickRequested = Signal(object)


class LiveTextParameterItem(StrParameterItem):
    """A text row whose value follows each keystroke (not only Enter): the form checks it as it is typed."""

    def makeWidget(self):
        w = super().makeWidget()
        w.sigChanged = w.textChanged
        return w


class LiveTextParameter(Parameter):
    itemClass = LiveTextParameterItem


registerParameterType("path", PathParameter, override=True)
registerParameterType("live_str", LiveTextParameter, override=True)


def list_text(values) -> str:
    """A list setting as the form shows it: "1, 3"; a name that reads as a number, or holds a comma, is quoted."""
    out = []
    for v in values:
        if isinstance(v, str) and (re.fullmatch(r"\s*[-+\d.eE]+\s*", v) or "," in v or v != v.strip() or v == ""):
            out.append(f'"{v}"')
        else:
            out.append(str(v))
    return ", ".join(out)


_ITEM = re.compile(r'\s*(?:"([^"]*)"|([^,"]*?))\s*(?:,|$)')


def parse_list(text: str, kind: str, field: str) -> tuple:
    """The form's text of a list setting back to values; a bad item is a SpecError naming the field."""
    items, pos, text = [], 0, text.strip()
    while pos < len(text):
        match = _ITEM.match(text, pos)
        if match is None or match.end() == pos:
            raise SpecError(f"{field}: {text!r} is not valid; write {LIST_WORDS[kind]} separated by commas.")
        quoted, plain = match.groups()
        pos = match.end()
        if quoted is None and plain == "":
            raise SpecError(f"{field}: {text!r} has an empty item; write {LIST_WORDS[kind]} separated by commas.")
        items.append(_item(quoted, plain, kind, field))
    return tuple(items)


def _item(quoted, plain, kind: str, field: str):
    if kind == "column":
        if quoted is not None:
            return quoted
        return int(plain) if re.fullmatch(r"\d+", plain) else plain
    text = plain if quoted is None else quoted
    try:
        return int(text) if kind == "int" else float(text)
    except ValueError:
        raise SpecError(f"{field}: {text!r} is not valid; write {LIST_WORDS[kind]} separated by commas, "
                        f"e.g. {'1, 3' if kind == 'int' else '1.0, 0.5'}.") from None


def parse_column(text: str, field: str = "data.target_column"):
    """One column: a name, a 0-based index, or '' (the default)."""
    values = parse_list(text, "column", field)
    if len(values) > 1:
        raise SpecError(f"{field}: {text!r} is not valid; give one column (a name or a 0-based index).")
    return values[0] if values else ""


def make_parameters(spec: ExperimentSpec | None = None) -> Parameter:
    """The form's parameter tree, filled from ``spec`` (defaults when None)."""
    spec = spec or ExperimentSpec()
    mt, dt = MODEL_TIPS, DATA_TIPS
    sections = [
        dict(name="model", title="Architecture", type="group", children=[
            dict(name="depth", title="depth (hidden layers)", type="int", limits=(0, 32)),
            dict(name="width", type="int", limits=(1, 65536), step=32),
            dict(name="activation", type="list", limits=list(ACTIVATIONS)),
            dict(name="activation_params", title="activation parameters", type="group", children=[
                dict(name=k, **opts) for k, opts in ACTIVATION_PARAMS.items()]),
            dict(name="w_std", title="W std", type="float", limits=(0, None), step=0.1, decimals=6, tip=mt["w_std"]),
            dict(name="b_std", title="b std", type="float", limits=(0, None), step=0.1, decimals=6, tip=mt["b_std"]),
            dict(name="parameterization", type="list", limits=list(PARAMETERIZATIONS), tip=mt["parameterization"]),
            dict(name="architecture", type="list", limits=list(ARCHITECTURES), tip=mt["architecture"]),
            dict(name="branch_scale", title="branch scale", type="float", limits=(1e-6, 100), step=0.1,
                 decimals=6, tip=mt["branch_scale"]),
            dict(name="output_scale", title="output scale α", type="float", limits=OUTPUT_SCALE_RANGE,
                 dec=True, step=1, minStep=1e-3, decimals=6, tip=mt["output_scale"]),
            dict(name="centered", title="centered f − f(θ₀)", type="bool", tip=mt["centered"]),
        ]),
        dict(name="data", title="Data", type="group", children=[
            dict(name="source", title="data source", type="list", limits=list(SOURCES), tip=dt["source"]),
            dict(name="preset", title="target", type="list", limits=list(PRESETS), tip=dt["preset"]),
            dict(name="plane_target", title="target (plane)", type="list", limits=list(PLANE_PRESETS),
                 tip=dt["plane_target"]),
            dict(name="frequencies", title="frequencies k", type="str", tip=dt["frequencies"]),
            dict(name="amplitudes", title="cos amplitudes a_k", type="str", tip=dt["amplitudes"]),
            dict(name="sin_amplitudes", title="sin amplitudes b_k", type="str", tip=dt["sin_amplitudes"]),
            dict(name="degree", title="degree ℓ", type="int", limits=(0, MAX_DEGREE), tip=dt["degree"]),
            dict(name="expression", title="target f(x) =", type="live_str", tip=dt["expression"]),
            dict(name="dim", title="inputs d", type="int", limits=(1, MAX_DIM), tip=dt["dim"]),
            dict(name="csv_path", title="CSV file", type="path", tip=dt["csv_path"]),
            dict(name="input_columns", title="input columns", type="str", tip=dt["input_columns"]),
            dict(name="target_column", title="target column", type="str", tip=dt["target_column"]),
            dict(name="standardize", type="bool", tip=dt["standardize"]),
            dict(name="csv_sha256", title="SHA-256 check", type="str", tip=dt["csv_sha256"]),
            dict(name="digits_positive", title="digits +1", type="str", tip=dt["digits_positive"]),
            dict(name="digits_negative", title="digits −1", type="str", tip=dt["digits_negative"]),
            dict(name="n_train", title="training points", type="int", limits=(1, 100000), tip=dt["n_train"]),
            dict(name="n_test", title="test points", type="int", limits=(1, 100000), tip=dt["n_test"]),
            dict(name="noise", title="noise std", type="float", limits=(0, None), step=0.05, tip=dt["noise"]),
            dict(name="seed", title="data seed", type="int", limits=(0, 2**31 - 1), tip=dt["seed"]),
            dict(name="x_min", title="x min", type="float", step=0.5, tip=dt["x_min"]),
            dict(name="x_max", title="x max", type="float", step=0.5, tip=dt["x_max"]),
            dict(name="n_grid", title="plot grid points", type="int", limits=(2, 100000), step=100, tip=dt["n_grid"]),
            dict(name="random_labels", title="random training labels", type="bool", tip=dt["random_labels"]),
            dict(name="label_kind", title="random label kind", type="list", limits=list(LABEL_KINDS),
                 tip=dt["label_kind"]),
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
                 tip="all: every layer; readout: only the last layer, a random-features model (Arora et al. "
                     "2019's weakly-trained net) whose kernel, the last hidden layer's NNGP, cannot move; hidden: "
                     "every layer but the readout"),
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
                _set_row(root.child(section, name), _form_value(name, value))
            else:  # no widget for it (yet): kept as given, merged back by spec_from_params
                kept.setdefault(section, {})[name] = value
    root.opts["settings_without_widget"] = kept
    group = root.child("model", "activation_params")
    for name in ACTIVATION_PARAMS:
        if name in act_params:
            group.child(name).setValue(act_params[name])
    update_visibility(root)


def _form_value(name: str, value):
    """A setting's value as its row holds it (lists and columns as text)."""
    if name in LIST_ROWS:
        return list_text(value)
    if name == "target_column":
        return list_text([value]) if value != "" else ""
    return value


def _set_row(param: Parameter, value) -> None:
    """Sets a row's value; a number outside the row's range (a file may hold one) widens the range
    first, so that the spin box does not clamp it and the spec survives a round trip."""
    limits = param.opts.setdefault("form_limits", param.opts.get("limits"))
    if param.type() in ("int", "float") and limits is not None and isinstance(value, (int, float)):
        lo, hi = limits
        wide = (lo if lo is None else min(lo, value), hi if hi is None else max(hi, value))
        if tuple(param.opts["limits"]) != wide:
            param.setLimits(wide)
    param.setValue(value)


DEPTH0_TIP = "unused at depth 0: the network is a linear model of the inputs (no hidden layer)"
BRANCH_TIP = "used by residual networks only: set architecture = resnet"
NOISE_TIPS = {"csv": "ignored for CSV files: real data bring their own noise",
              "digits": "ignored for the digits: real data bring their own noise",
              "checker": "ignored for checker: its targets are ±1 labels"}
GRID_TIP = "unused: this data is drawn as predicted vs true on the test points, not on a grid"
LABEL_KIND_TIP = "used with random training labels only: turn on random training labels"
SOURCE_TIP = "a setting of data source '{}': ignored by '{}'"


def data_view(data: Parameter) -> str:
    """How the data of the form's Data group is drawn: 'line', 'plane', 'circle' or 'points'."""
    source = data.child("source").value()
    if source == "expression":
        dim = data.child("dim").value()
        return "line" if dim == 1 else "plane" if dim == 2 else "points"
    return {"preset": "line", "plane": "plane", "circle": "circle"}.get(source, "points")


def update_visibility(root: Parameter) -> None:
    """Shows only the rows that apply: the chosen activation's parameters and the chosen data source's
    settings; greys out (with a tooltip saying why) width and activation at depth 0, the branch scale
    of a plain MLP, noise where it is ignored, the grid of point views and the label kind of true labels."""
    valid = ACTIVATIONS[root.child("model", "activation").value()].defaults
    group = root.child("model", "activation_params")
    for name in ACTIVATION_PARAMS:
        group.child(name).setOpts(visible=name in valid)
    group.setOpts(visible=bool(valid))
    model = root.child("model")
    hidden_layers = model.child("depth").value() > 0
    for param in (model.child("width"), model.child("activation"), group, *group.children()):
        set_enabled(param, hidden_layers, DEPTH0_TIP)
    set_enabled(model.child("branch_scale"), model.child("architecture").value() == "resnet", BRANCH_TIP)

    data = root.child("data")
    source = data.child("source").value()
    mine = set(SOURCE_ROWS[source])
    for name in {n for rows in SOURCE_ROWS.values() for n in rows}:
        data.child(name).setOpts(visible=name in mine)
    ignored = "checker" if source == "plane" and data.child("plane_target").value() in PLANE_CLASSIFICATION \
        else source
    set_enabled(data.child("noise"), ignored not in NOISE_TIPS, NOISE_TIPS.get(ignored, ""))
    set_enabled(data.child("n_grid"), data_view(data) != "points", GRID_TIP)
    set_enabled(data.child("label_kind"), bool(data.child("random_labels").value()), LABEL_KIND_TIP)


def set_enabled(param: Parameter, enabled: bool, why: str = "") -> None:
    """Greys a row out (name and value) or back; ``why`` is its tooltip while grey. The rows' items are
    styled every time: a tree made after the row was greyed (the window's) must show it grey too."""
    if param.opts.get("enabled", True) != enabled:
        if enabled:
            param.setOpts(enabled=True, tip=param.opts.pop("tip_enabled", None) or "")
        else:
            param.opts["tip_enabled"] = param.opts.get("tip")
            param.setOpts(enabled=False, tip=why)
    elif not enabled and param.opts.get("tip") != why:  # greyed for another reason now
        param.setOpts(tip=why)
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
    for section, name in [("model", "w_std"), ("model", "b_std"), ("model", "branch_scale"),
                          ("model", "output_scale"), ("data", "noise"), ("data", "x_min"),
                          ("data", "x_max"), ("train", "learning_rate"), ("infinite", "nngp_diag_reg")]:
        data[section][name] = float(data[section][name])
    d = data["data"]
    for name, kind in LIST_ROWS.items():
        if isinstance(d.get(name), str):
            d[name] = parse_list(d[name], kind, f"data.{name}")
    if isinstance(d.get("target_column"), str):
        d["target_column"] = parse_column(d["target_column"])
    d["csv_sha256"] = d.get("csv_sha256", "").strip()
    return spec_from_dict(data)


def _leaves(param: Parameter):
    for child in param.children():
        if child.hasChildren():
            yield from _leaves(child)
        else:
            yield child


def shown(root: Parameter) -> dict[str, bool]:
    return {k: bool(root.child("show", k).value()) for k in SHOW}
