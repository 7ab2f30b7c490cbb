"""The seal image: size, transparent background, red ring, star and name."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from zhixing.documents.seal_image import seal_png


def _open(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


def _is_red(pixel: tuple[int, int, int, int]) -> bool:
    red, green, blue, alpha = pixel
    return alpha > 200 and red > 180 and green < 90 and blue < 90


@pytest.mark.parametrize("size", [64, 300, 600])
def test_seal_size_and_mode(size):
    image = _open(seal_png("广州市越秀区人民法院", size))
    assert image.format == "PNG"
    assert image.size == (size, size)
    assert image.mode == "RGBA"


def test_seal_background_transparent():
    image = _open(seal_png("广州市越秀区人民法院"))
    for corner in [(0, 0), (599, 0), (0, 599), (599, 599), (300, 520)]:
        assert image.getpixel(corner)[3] == 0, corner


def test_seal_ring_star_and_name_red():
    image = _open(seal_png("广州市越秀区人民法院"))
    pixels = list(image.get_flattened_data())
    red = sum(1 for pixel in pixels if _is_red(pixel))
    transparent = sum(1 for pixel in pixels if pixel[3] == 0)
    assert red > 0.08 * len(pixels)
    assert transparent > 0.5 * len(pixels)
    # The star's centre, the ring on the left and right, and no colour but red.
    assert _is_red(image.getpixel((300, 300)))
    assert _is_red(image.getpixel((31, 300)))
    assert _is_red(image.getpixel((568, 300)))
    opaque = [pixel for pixel in pixels if pixel[3] > 200]
    assert all(pixel[0] > 150 and pixel[1] < 120 and pixel[2] < 120 for pixel in opaque)


def test_seal_name_on_upper_arc():
    with_name = _open(seal_png("广州市越秀区人民法院"))
    other_name = _open(seal_png("深圳市罗湖区人民法院"))
    # The names differ in the upper half, and the lower half under the star is empty.
    upper = (60, 40, 540, 200)
    assert with_name.crop(upper).tobytes() != other_name.crop(upper).tobytes()
    lower = with_name.crop((200, 440, 400, 520))
    assert all(pixel[3] == 0 for pixel in lower.get_flattened_data())


@pytest.mark.parametrize("size", [10, 5000])
def test_seal_size_out_of_range(size):
    with pytest.raises(ValueError, match="size_px"):
        seal_png("广州市越秀区人民法院", size)


def test_seal_empty_name_rejected():
    with pytest.raises(ValueError, match="court_name"):
        seal_png("  ")
