"""lrsgro: build, review, publish and evaluate LRS-GRO, a VQA benchmark for UHR remote sensing."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("lrsgro")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
