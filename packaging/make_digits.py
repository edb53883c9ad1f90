"""Builds ``resources/data/digits.npz`` from the copy of the UCI digits that scikit-learn ships.

The source is ``sklearn/datasets/data/digits.csv.gz`` (the 1797 test images of E. Alpaydin and
C. Kaynak's "Optical Recognition of Handwritten Digits", UCI Machine Learning Repository, 1998,
https://doi.org/10.24432/C50P49, CC BY 4.0; see ``resources/data/LICENSE-digits.txt``): one row
per image, 64 pixel counts in 0..16 (8×8, row by row), then the digit 0..9.

scikit-learn is not a dependency of NTK Lab; run this once in a throw-away environment::

    python -m venv /tmp/skl-venv && /tmp/skl-venv/bin/pip install scikit-learn
    /tmp/skl-venv/bin/python packaging/make_digits.py

It writes ``pixels`` (1797, 64) uint8, ``labels`` (1797,) uint8 and ``source`` (a one-line
string: the file, its SHA-256 and the scikit-learn version), and checks the result against
``sklearn.datasets.load_digits()``.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.metadata
import importlib.util
import sys
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent.parent / "resources" / "data" / "digits.npz"


def source_file() -> Path:
    """The digits CSV inside the installed scikit-learn, found without importing it."""
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("scikit-learn is not installed here; see this script's docstring.")
    return Path(spec.submodule_search_locations[0]) / "datasets" / "data" / "digits.csv.gz"


def main() -> int:
    path = source_file()
    raw = path.read_bytes()
    table = np.loadtxt(gzip.decompress(raw).decode("ascii").splitlines(), delimiter=",", dtype=np.int64)
    if table.shape != (1797, 65):
        sys.exit(f"{path}: expected 1797 rows of 65 values, got {table.shape}.")
    pixels, labels = table[:, :64], table[:, 64]
    if pixels.min() < 0 or pixels.max() > 16 or set(labels.tolist()) != set(range(10)):
        sys.exit(f"{path}: pixels outside 0..16 or labels outside 0..9.")
    version = importlib.metadata.version("scikit-learn")
    source = (f"scikit-learn {version} sklearn/datasets/data/digits.csv.gz, "
              f"sha256 {hashlib.sha256(raw).hexdigest()}")

    from sklearn.datasets import load_digits  # the same data through the library's own loader

    reference = load_digits()
    assert np.array_equal(reference.data, pixels) and np.array_equal(reference.target, labels)

    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, pixels=pixels.astype(np.uint8), labels=labels.astype(np.uint8),
                        source=np.array(source))
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes) from {source}")
    print("counts per digit:", np.bincount(labels).tolist())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
