"""NTK Lab: watch neural networks in the kernel regime."""

__version__ = "0.1.0"
