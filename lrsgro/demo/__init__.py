"""The embedded demo of ``lrsgro demo``: seeded scenes painted by code, with DOTA labels.

Shipping a generator instead of pixels keeps the package small. :func:`generate_scenes` writes a
few UHR GeoTIFFs with DOTA labels that the build can turn into a benchmark without any download.
"""

from lrsgro.demo.scene import DemoScene, generate_scene, generate_scenes, season_of
from lrsgro.demo.truth import SceneTruth, TruthObject, read_truth

__all__ = ["DemoScene", "SceneTruth", "TruthObject", "generate_scene", "generate_scenes", "read_truth", "season_of"]
