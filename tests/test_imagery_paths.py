"""Tests of lrsgro.imagery.paths: image paths stay inside the image root; finding images by id."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lrsgro.errors import ImageError
from lrsgro.imagery import find_image, resolve_image_path


@pytest.fixture
def image_root(tmp_path: Path) -> Path:
    root = tmp_path / "images"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "a.png").write_bytes(b"png")
    (tmp_path / "secret.png").write_bytes(b"outside")
    return root


def test_resolve_plain_relative_path(image_root: Path) -> None:
    assert resolve_image_path(image_root, "sub/a.png") == (image_root / "sub" / "a.png").resolve()


def test_resolve_allows_dotdot_inside_root(image_root: Path) -> None:
    assert resolve_image_path(image_root, "sub/../sub/a.png") == (image_root / "sub" / "a.png").resolve()


def test_resolve_rejects_dotdot_escape(image_root: Path) -> None:
    with pytest.raises(ImageError, match=r"climbs above the image root") as caught:
        resolve_image_path(image_root, "../secret.png")

    assert "'../secret.png'" in str(caught.value)
    assert str(image_root) in str(caught.value)


def test_resolve_rejects_absolute_path(image_root: Path) -> None:
    outside = image_root.parent / "secret.png"

    with pytest.raises(ImageError, match="absolute"):
        resolve_image_path(image_root, str(outside))


def test_resolve_rejects_symlink_outward(image_root: Path) -> None:
    os.symlink(image_root.parent / "secret.png", image_root / "link.png")
    os.symlink(image_root.parent, image_root / "up")

    with pytest.raises(ImageError, match="symbolic link"):
        resolve_image_path(image_root, "link.png")
    with pytest.raises(ImageError, match="symbolic link"):
        resolve_image_path(image_root, "up/secret.png")


def test_resolve_allows_symlink_inside_root(image_root: Path) -> None:
    os.symlink(image_root / "sub" / "a.png", image_root / "alias.png")

    assert resolve_image_path(image_root, "alias.png") == (image_root / "sub" / "a.png").resolve()


def test_resolve_missing_image(image_root: Path) -> None:
    with pytest.raises(ImageError, match="not found"):
        resolve_image_path(image_root, "sub/b.png")

    assert resolve_image_path(image_root, "sub/b.png", must_exist=False) == (image_root / "sub" / "b.png").resolve()


def test_resolve_rejects_empty_path(image_root: Path) -> None:
    with pytest.raises(ImageError, match="empty"):
        resolve_image_path(image_root, "  ")


def test_find_image_any_extension_case(tmp_path: Path) -> None:
    (tmp_path / "P0001.PNG").write_bytes(b"x")
    (tmp_path / "P0002.Tif").write_bytes(b"x")
    (tmp_path / "P0003.jpeg").write_bytes(b"x")

    assert find_image(tmp_path, "P0001").name == "P0001.PNG"
    assert find_image(tmp_path, "P0002").name == "P0002.Tif"
    assert find_image(tmp_path, "P0003").name == "P0003.jpeg"


def test_find_image_prefers_tiff(tmp_path: Path) -> None:
    (tmp_path / "scene.png").write_bytes(b"x")
    (tmp_path / "scene.tif").write_bytes(b"x")

    assert find_image(tmp_path, "scene").name == "scene.tif"


def test_find_image_lists_tried_names(tmp_path: Path) -> None:
    (tmp_path / "other.png").write_bytes(b"x")

    with pytest.raises(ImageError) as caught:
        find_image(tmp_path, "P9999")

    message = str(caught.value)
    for name in ("P9999.tif", "P9999.tiff", "P9999.png", "P9999.jpg", "P9999.jpeg"):
        assert name in message


def test_find_image_rejects_escaping_id(tmp_path: Path) -> None:
    (tmp_path / "secret.png").write_bytes(b"x")
    images = tmp_path / "images"
    images.mkdir()

    with pytest.raises(ImageError, match="climbs above"):
        find_image(images, "../secret")


def test_find_image_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="folder not found"):
        find_image(tmp_path / "absent", "P0001")
