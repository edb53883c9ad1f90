"""Launches NTK Lab from a source checkout: ``python main.py`` (same options as ``ntklab``)."""

import sys

from ntklab.cli import main

if __name__ == "__main__":
    sys.exit(main())
