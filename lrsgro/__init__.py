"""lrsgro: build, review, publish and evaluate LRS-GRO, a VQA benchmark for UHR remote sensing."""

__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    # The version is looked up on first use: importlib.metadata pulls in the email package,
    # about 1.5 MiB that a process reading pixels would otherwise carry.
    if name != "__version__":
        raise AttributeError(f"module 'lrsgro' has no attribute {name!r}")

    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("lrsgro")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0.0.0+unknown"
