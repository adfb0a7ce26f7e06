"""The generator behind ``lrsgro demo``: seeded UHR scenes painted by code, with DOTA labels.

The implementation lives in the :mod:`lrsgro.demo` package; this module is the entry point the CLI
imports.
"""

from lrsgro.demo import DemoScene, SceneTruth, generate_scene, generate_scenes, read_truth

__all__ = ["DemoScene", "SceneTruth", "generate_scene", "generate_scenes", "read_truth"]
