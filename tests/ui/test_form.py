"""The settings form for regimes and data sources: every setting has a row and round-trips through it
(apply_spec → spec_from_params), lists are edited as text, rows that do not apply are hidden or grey
with the reason, the expression is checked while it is typed, the CSV row's "…" chooses a file."""

import numpy as np
import pytest
from PySide6.QtWidgets import QFileDialog

from ntklab.session import ExperimentSpec, SpecError, spec_to_dict
from ntklab.ui.app import create_window
from ntklab.ui.params import (
    OUTPUT_SCALE_RANGE,
    SOURCE_ROWS,
    apply_spec,
    list_text,
    make_parameters,
    parse_list,
    spec_from_params,
)

BASE = ExperimentSpec()
SPECS = {  # every setting of model and data away from its default, source by source
    "regimes": BASE.with_changes(model={"parameterization": "mup", "architecture": "resnet", "branch_scale": 0.5,
                                        "output_scale": 0.01, "centered": True},
                                 train={"trainable": "hidden", "precision": "float64", "linearization": "parameter"}),
    "mean_field": BASE.with_changes(model={"parameterization": "mean_field", "depth": 1, "output_scale": 100.0}),
    "alpha_from_a_file": BASE.with_changes(model={"output_scale": 1e-5}),  # beyond the form's 1e-3: kept
    "plane": BASE.with_changes(data={"source": "plane", "plane_target": "checker", "n_grid": 4096, "x_min": -3.0,
                                     "x_max": 1.5, "random_labels": True, "label_kind": "gaussian"}),
    "circle": BASE.with_changes(data={"source": "circle", "frequencies": [2, 5, 0], "amplitudes": [1.5, -0.25, 2],
                                      "sin_amplitudes": [0.1, 0.2, 0.0], "noise": 0.1, "n_grid": 500}),
    "sphere": BASE.with_changes(data={"source": "sphere", "degree": 7, "seed": 3, "n_test": 50}),
    "expression": BASE.with_changes(data={"source": "expression", "expression": "x1*x2 + sin(x3)", "dim": 3}),
    "csv": BASE.with_changes(data={"source": "csv", "csv_path": "/tmp/houses.csv",
                                   "input_columns": ["area", 4, "2019", "a,b"], "target_column": "price",
                                   "standardize": False, "csv_sha256": "ab" * 32}),
    "csv_index": BASE.with_changes(data={"source": "csv", "csv_path": "x.csv", "target_column": 3}),
    "digits": BASE.with_changes(data={"source": "digits", "digits_positive": [3], "digits_negative": [8, 1],
                                      "n_train": 300}),
}


@pytest.fixture
def form(qtbot):
    from pyqtgraph.parametertree import ParameterTree

    root = make_parameters()
    tree = ParameterTree(showHeader=False)
    tree.setParameters(root, showTop=False)  # widgets exist: a spin box would clamp a value out of range
    qtbot.addWidget(tree)
    yield root  # (the tree lives as long as the test)
    tree.clear()


def test_every_setting_has_a_row(form):
    apply_spec(form, BASE)
    assert form.opts["settings_without_widget"] == {}
    for section, values in spec_to_dict(BASE).items():
        names = {c.name() for c in form.child(section).children()}
        assert set(values) <= names, set(values) - names


@pytest.mark.parametrize("name", list(SPECS))
def test_every_setting_round_trips_through_the_form(form, name):
    spec = SPECS[name]
    apply_spec(form, spec)
    assert spec_from_params(form) == spec
    apply_spec(form, BASE)  # and back: nothing of the previous spec sticks
    assert spec_from_params(form) == BASE


def test_output_scale_is_a_log_spin_box_from_1e_3_to_1e3(form, qtbot):
    row = form.child("model", "output_scale")
    assert tuple(row.opts["limits"]) == OUTPUT_SCALE_RANGE and row.opts["dec"]
    box = list(row.items)[0].widget
    for start, step, after in ((1.0, -1, 0.9), (0.01, 1, 0.02), (20.0, -2, 9.0), (0.001, -1, 0.001), (1e3, 1, 1e3)):
        box.setValue(start)
        box.stepBy(step)
        assert box.value() == pytest.approx(after)  # 1…9 per decade, both ways, within 1e-3…1e3
    qtbot.waitUntil(lambda: row.value() == pytest.approx(1e3), timeout=2_000)  # the row follows the box
    box.setValue(5e3)
    assert box.value() == pytest.approx(1e3)


def test_lists_are_text_and_bad_items_name_the_field():
    assert list_text((1, 3)) == "1, 3" and list_text(()) == ""
    assert parse_list(' area , 4, "2019" , "a,b"', "column", "data.input_columns") == ("area", 4, "2019", "a,b")
    assert parse_list("1.5, -0.25, 2e-1", "float", "data.amplitudes") == (1.5, -0.25, 0.2)
    for text, kind, field in (("1, x", "int", "data.frequencies"), ("1,,2", "int", "data.digits_positive"),
                              ('a"b', "column", "data.input_columns"), ("1.5.2", "float", "data.amplitudes")):
        with pytest.raises(SpecError, match=field.replace(".", r"\.")):
            parse_list(text, kind, field)


def test_a_bad_list_is_named_in_the_banner(qtbot):
    w, c = create_window()
    qtbot.addWidget(w)
    try:
        w.params.child("data", "source").setValue("circle")
        w.params.child("data", "frequencies").setValue("1, three")
        assert not w.banner.isHidden() and "frequencies k (data.frequencies)" in w.banner.text()
        w.params.child("data", "frequencies").setValue("1, 3, 5")
        assert "data.amplitudes" in w.banner.text()  # three frequencies, two amplitudes: named
        w.params.child("data", "amplitudes").setValue("1, 0.5, 0.25")
        assert w.banner.isHidden()
    finally:
        c.shutdown()


@pytest.mark.parametrize("source", list(SOURCE_ROWS))
def test_switching_the_source_shows_its_rows_only(form, source):
    data = form.child("data")
    data.child("source").setValue(source)
    from ntklab.ui.params import update_visibility

    update_visibility(form)
    own = {n for rows in SOURCE_ROWS.values() for n in rows}
    shown = {c.name() for c in data.children() if c.opts.get("visible", True)}
    assert shown & own == set(SOURCE_ROWS[source])
    assert {"source", "n_train", "n_test", "seed", "random_labels", "label_kind"} <= shown  # every source's
    noise, grid = data.child("noise"), data.child("n_grid")
    assert noise.opts["enabled"] == (source not in ("csv", "digits"))
    assert grid.opts["enabled"] == (source in ("preset", "plane", "circle", "expression"))
    if not grid.opts["enabled"]:
        assert "predicted vs true" in grid.opts["tip"]


def test_grey_rows_say_why(form):
    from ntklab.ui.params import update_visibility

    model, data = form.child("model"), form.child("data")
    assert not model.child("branch_scale").opts["enabled"] and "resnet" in model.child("branch_scale").opts["tip"]
    model.child("architecture").setValue("resnet")
    update_visibility(form)
    assert model.child("branch_scale").opts["enabled"] and "√depth" in model.child("branch_scale").opts["tip"]
    assert not data.child("label_kind").opts["enabled"]
    data.child("random_labels").setValue(True)
    update_visibility(form)
    assert data.child("label_kind").opts["enabled"]
    data.child("source").setValue("plane")
    data.child("plane_target").setValue("checker")
    update_visibility(form)
    assert not data.child("noise").opts["enabled"] and "±1 labels" in data.child("noise").opts["tip"]
    data.child("source").setValue("digits")
    update_visibility(form)
    assert "real data" in data.child("noise").opts["tip"]  # greyed for another reason: the reason follows
    data.child("source").setValue("expression")
    data.child("dim").setValue(3)
    update_visibility(form)
    assert not data.child("n_grid").opts["enabled"]  # d > 2: drawn as points


def test_regime_rows_explain_the_regime(form):
    tips = {name: form.child("model", name).opts["tip"] for name in
            ("parameterization", "architecture", "output_scale", "centered")}
    assert "lazy" in tips["output_scale"] and "Chizat" in tips["output_scale"]
    assert "features move by O(1) at any width" in tips["parameterization"]
    assert "no fixed kernel" in tips["parameterization"] and "depth 1" in tips["parameterization"]
    assert "f(θ₀)" in tips["centered"]
    assert form.child("data", "expression").opts["tip"] and form.child("data", "csv_path").opts["tip"]


def test_mean_field_beyond_depth_1_is_refused_with_the_fix(form):
    form.child("model", "parameterization").setValue("mean_field")
    with pytest.raises(SpecError, match="model.parameterization.*one hidden layer.*use 'mup'"):
        spec_from_params(form)
    form.child("model", "depth").setValue(1)
    assert spec_from_params(form).model.parameterization == "mean_field"


def test_the_expression_is_checked_while_it_is_typed(qtbot):
    w, c = create_window()
    qtbot.addWidget(w)
    w.show()
    try:
        data = w.params.child("data")
        data.child("source").setValue("expression")
        row = data.child("expression")
        edit = list(row.items)[0].widget
        edit.clear()
        qtbot.keyClicks(edit, "sin(2x")  # no Enter: every keystroke is checked
        assert row.value() == "sin(2x"
        assert not w.banner.isHidden() and "column 5, '2'" in w.banner.text() and "2*x" in w.banner.text()
        qtbot.keyClicks(edit, ")")
        assert "column 5, '2'" in w.banner.text()  # "2x": a product needs *
        edit.clear()
        qtbot.keyClicks(edit, "sin(2*x)")
        assert w.banner.isHidden()
        qtbot.keyClicks(edit, " + __import__")
        assert "__import__" in w.banner.text() and "column 12" in w.banner.text()
    finally:
        c.shutdown()


def test_the_csv_row_chooses_a_file_in_the_last_folder(qtbot, monkeypatch, tmp_path):
    w, c = create_window()
    qtbot.addWidget(w)
    try:
        data = w.params.child("data")
        data.child("source").setValue("csv")
        offered = []
        chosen = tmp_path / "tables" / "houses.csv"
        chosen.parent.mkdir()
        chosen.write_text("area,rooms,price\n1,2,3\n4,5,6\n7,8,9\n")

        def answer(parent, caption, directory="", *args, **kwargs):
            offered.append(directory)
            return str(chosen), ""

        monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(answer))
        item = list(data.child("csv_path").items)[0]
        item.pick_button.click()
        assert data.child("csv_path").value() == str(chosen)
        item.pick_button.click()
        assert offered[1] == str(chosen.parent)  # the folder is remembered
        data.child("n_train").setValue(2)
        assert spec_from_params(w.params).data.csv_path == str(chosen) and w.banner.isHidden()
    finally:
        c.shutdown()


def test_file_values_beyond_the_forms_ranges_are_kept(form):
    spec = BASE.with_changes(model={"output_scale": 1e6})
    apply_spec(form, spec)
    assert spec_from_params(form).model.output_scale == 1e6
    apply_spec(form, BASE)
    assert tuple(form.child("model", "output_scale").opts["limits"]) == OUTPUT_SCALE_RANGE  # back to the form's
    assert np.isclose(spec_from_params(form).model.output_scale, 1.0)
