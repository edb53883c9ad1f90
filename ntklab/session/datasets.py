"""The run's data set from its ``[data]`` settings: the pure sources of the core, plus the files
(the user's CSV, the shipped digits) read and checked here."""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ntklab.appinfo import resource
from ntklab.core.data import (
    Dataset,
    make_circle_dataset,
    make_dataset,
    make_expression_dataset,
    make_plane_dataset,
    make_sphere_dataset,
    make_table_dataset,
    with_random_labels,
)
from ntklab.core.expression import parse_expression
from ntklab.session.spec import DataSpec, SpecError

CSV_MAX_BYTES = 64 * 2**20  # a larger file is refused before it is read
CSV_MAX_ROWS = 100_000  # data rows; counted while the file streams in, refused past this
DIGITS_RESOURCE = "data/digits.npz"


def build_dataset(data: DataSpec, dtype) -> Dataset:
    """The :class:`Dataset` described by a ``DataSpec``, in ``dtype``; every problem with the
    settings or the files is a :class:`SpecError` naming the ``data.*`` field."""
    try:
        out = _build(data, dtype)
        if data.random_labels:
            out = with_random_labels(out, data.seed, data.label_kind)
    except SpecError:
        raise
    except ValueError as exc:  # the core's messages start with the setting's name
        raise SpecError(f"data.{exc}") from None
    return out


def _build(d: DataSpec, dtype) -> Dataset:
    if d.source == "preset":
        return make_dataset(d.preset, d.n_train, d.n_test, d.noise, d.seed, d.x_min, d.x_max,
                            n_grid=d.n_grid, dtype=dtype)
    if d.source == "plane":
        return make_plane_dataset(d.plane_target, d.n_train, d.n_test, d.noise, d.seed, d.x_min, d.x_max,
                                  n_grid=d.n_grid, dtype=dtype)
    if d.source == "circle":
        return make_circle_dataset(d.frequencies, d.amplitudes, d.sin_amplitudes, d.n_train, d.n_test, d.noise,
                                   d.seed, n_grid=d.n_grid, dtype=dtype)
    if d.source == "sphere":
        return make_sphere_dataset(d.degree, d.n_train, d.n_test, d.noise, d.seed, dtype=dtype)
    if d.source == "expression":
        return make_expression_dataset(parse_expression(d.expression, d.dim), d.n_train, d.n_test, d.noise,
                                       d.seed, d.x_min, d.x_max, n_grid=d.n_grid, dtype=dtype)
    if d.source == "csv":
        return _csv_dataset(d, dtype)
    if d.source == "digits":
        return _digits_dataset(d, dtype)
    raise SpecError(f"data.source: {d.source!r} is not valid.")  # DataSpec has checked it


# --- digits --------------------------------------------------------------------------------------


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """The shipped UCI digits: pixels (1797, 64) uint8 in 0..16 and labels (1797,) uint8."""
    with np.load(resource(DIGITS_RESOURCE), allow_pickle=False) as f:
        return f["pixels"], f["labels"]


def _digits_dataset(d: DataSpec, dtype) -> Dataset:
    """±1 labels (``digits_positive`` +1, ``digits_negative`` −1, other digits left out); pixels
    standardized with the training images' statistics, then each image scaled to norm √64 = 8."""
    pixels, labels = load_digits()
    keep = np.isin(labels, d.digits_positive + d.digits_negative)
    x = pixels[keep].astype(np.float64)
    y = np.where(np.isin(labels[keep], d.digits_positive), 1.0, -1.0)

    def digits(ds):
        ds = sorted(ds)
        return f"{ds[0]}–{ds[-1]}" if ds == list(range(ds[0], ds[-1] + 1)) and len(ds) > 2 else ",".join(map(str, ds))

    try:
        return make_table_dataset(
            x, y, d.n_train, d.n_test, d.seed, standardize_inputs=True, sphere=True, classification=True,
            description=f"digits {digits(d.digits_positive)} (+1) vs {digits(d.digits_negative)} (−1), "
                        f"{d.n_train} of {len(x)} images",
            source_settings={"source": "digits", "resource": DIGITS_RESOURCE,
                             "digits_positive": list(d.digits_positive),
                             "digits_negative": list(d.digits_negative), "rows": int(len(x))},
            dtype=dtype,
        )
    except ValueError as exc:
        raise SpecError(f"data.{str(exc).rstrip('.')}; the digits {sorted(d.digits_positive + d.digits_negative)} "
                        f"have {len(x)} images.") from None


# --- CSV -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CsvTable:
    """The numbers of a CSV file's chosen columns; ``names`` of the inputs, ``target`` the target's."""

    x: np.ndarray  # (R, k) float64
    y: np.ndarray  # (R,) float64
    names: tuple[str, ...]
    target: str
    path: Path
    sha256: str


def _read_bytes(path: Path) -> tuple[bytes, str]:
    """The file's bytes and SHA-256, streamed: the size cap is checked before reading and the row
    cap while reading, so a huge file is refused without being loaded."""
    field = "data.csv_path"
    if not path.exists():
        raise SpecError(f"{field}: no such file {str(path)!r}; check the path (a relative path starts "
                        f"from the folder NTK Lab runs in, {Path.cwd()}).")
    if not path.is_file():
        raise SpecError(f"{field}: {str(path)!r} is not a file; give the path of a CSV file.")
    size = path.stat().st_size
    if size == 0:
        raise SpecError(f"{field}: {str(path)!r} is empty; give a CSV file with a header and rows of numbers.")
    if size > CSV_MAX_BYTES:
        raise SpecError(f"{field}: {str(path)!r} is {size / 2**20:.1f} MiB; files up to "
                        f"{CSV_MAX_BYTES // 2**20} MiB and {CSV_MAX_ROWS} rows are read; use a smaller sample.")
    digest, chunks, lines = hashlib.sha256(), [], 0
    try:
        with path.open("rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
                chunks.append(chunk)
                lines += chunk.count(b"\n")
                if lines > CSV_MAX_ROWS + 2:  # a header and a last line without its newline
                    raise SpecError(f"{field}: {str(path)!r} has more than {CSV_MAX_ROWS} rows; at most "
                                    f"{CSV_MAX_ROWS} are read (kernels grow as rows²); use a sample of the file.")
    except OSError as exc:
        raise SpecError(f"{field}: {str(path)!r} cannot be read ({exc.strerror}); check its permissions.") from None
    return b"".join(chunks), digest.hexdigest()


def _decode(raw: bytes, path: Path) -> str:
    field = "data.csv_path"
    if b"\x00" in raw:
        raise SpecError(f"{field}: {str(path)!r} holds binary data (NUL bytes), not CSV text; "
                        "export the table as CSV (comma-separated, UTF-8).")
    try:
        return codecs.decode(raw, "utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SpecError(f"{field}: {str(path)!r} is not UTF-8 text (byte 0x{raw[exc.start]:02x} on line {line}); "
                        "save it as CSV with UTF-8 encoding.") from None


def _resolve(column, header: list[str], has_header: bool, field: str) -> int:
    n = len(header)
    if isinstance(column, int):
        if column >= n:
            raise SpecError(f"{field}: {column} is not valid; the file has {n} columns, indices 0 to {n - 1}.")
        return column
    if column in header and has_header:
        return header.index(column)
    listed = ", ".join(repr(h) for h in header) if has_header else f"none (no header row; use indices 0 to {n - 1})"
    raise SpecError(f"{field}: {column!r} is not a column of the file; its columns are {listed}.")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_csv(d: DataSpec) -> CsvTable:
    """Reads ``data.csv_path`` and its chosen columns as numbers; every problem is a SpecError with
    the field, and for a bad value its row (1-based data row and file line) and column."""
    path = Path(d.csv_path).expanduser()
    raw, sha = _read_bytes(path)
    if d.csv_sha256 and d.csv_sha256.lower() != sha:
        raise SpecError(f"data.csv_sha256: the file {str(path)!r} has SHA-256 {sha}, not the recorded "
                        f"{d.csv_sha256.lower()}: it changed since the experiment was saved. Restore it, "
                        "or clear data.csv_sha256 to use the file as it is now.")
    text = _decode(raw, path)
    lines = [(i + 1, line) for i, line in enumerate(text.splitlines()) if line.strip()]
    if not lines:
        raise SpecError(f"data.csv_path: {str(path)!r} has no rows; give a CSV file with rows of numbers.")
    first = lines[0][1]
    delimiter = next((c for c in (",", ";", "\t") if c in first), None)
    if delimiter is None:
        raise SpecError(f"data.csv_path: {str(path)!r} has one column only; a CSV needs input columns and a "
                        "target column separated by commas.")
    rows = list(csv.reader(io.StringIO("\n".join(line for _, line in lines)), delimiter=delimiter))
    header = [h.strip() for h in rows[0]]
    has_header = not all(_is_number(h) for h in header)
    names = header if has_header else [str(i) for i in range(len(header))]
    body = list(zip((n for n, _ in lines[1:] if has_header), rows[1:])) if has_header else list(zip((n for n, _ in lines), rows))
    if not body:
        raise SpecError(f"data.csv_path: {str(path)!r} has a header but no data rows.")
    target = len(names) - 1 if d.target_column == "" else _resolve(d.target_column, names, has_header, "data.target_column")
    if d.input_columns:
        inputs = [_resolve(c, names, has_header, "data.input_columns") for c in d.input_columns]
        if target in inputs:
            raise SpecError(f"data.input_columns: {names[target]!r} is the target column; leave it out of the inputs.")
    else:
        inputs = [i for i in range(len(names)) if i != target]
    if not inputs:
        raise SpecError(f"data.input_columns: the file has no column besides the target {names[target]!r}; "
                        "a CSV needs at least one input column.")
    used = inputs + [target]
    values = np.empty((len(body), len(used)))
    for r, (line_no, row) in enumerate(body):
        if len(row) != len(names):
            raise SpecError(f"data.csv_path: row {r + 1} (line {line_no}) has {len(row)} fields, the header "
                            f"{len(names)}; every row needs a value in every column.")
        for j, c in enumerate(used):
            cell = row[c].strip()
            where = f"data.csv_path: row {r + 1} (line {line_no}), column {names[c]!r}"
            if cell == "":
                raise SpecError(f"{where}: missing value; fill it in or remove the row.")
            try:
                v = float(cell)
            except ValueError:
                raise SpecError(f"{where}: {cell[:40]!r} is not a number; fix the value or remove the row.") from None
            if not math.isfinite(v):
                raise SpecError(f"{where}: {cell!r} is not a finite number; fix the value or remove the row.")
            values[r, j] = v
    return CsvTable(x=values[:, :-1], y=values[:, -1], names=tuple(names[i] for i in inputs), target=names[target],
                    path=path.resolve(), sha256=sha)


def _csv_dataset(d: DataSpec, dtype) -> Dataset:
    """Rows split by ``data.seed``: ``n_train`` train, ``n_test`` of the rest test (fewer when the
    file has fewer rows). A ±1 target is a classification and is never standardized."""
    table = read_csv(d)
    classification = bool(np.all(np.isin(table.y, (-1.0, 1.0))))
    try:
        return make_table_dataset(
            table.x, table.y, d.n_train, d.n_test, d.seed,
            standardize_inputs=d.standardize, standardize_target=d.standardize and not classification,
            classification=classification,
            description=f"{table.path.name}: {', '.join(table.names)} → {table.target}, "
                        f"{d.n_train} of {len(table.y)} rows",
            source_settings={"source": "csv", "csv_path": str(table.path), "csv_sha256": table.sha256,
                             "input_columns": list(table.names), "target_column": table.target,
                             "standardize": d.standardize, "rows": int(len(table.y))},
            dtype=dtype,
        )
    except ValueError as exc:
        raise SpecError(f"data.{str(exc).rstrip('.')}; {table.path.name} has {len(table.y)} rows.") from None
