"""The image of a court's round seal: red ring, five-pointed star, the court's name on the arc.

The image is drawn with Pillow in the document font, on a transparent background, so that it
can be laid over a document's closing. It is a picture for the visible part of an electronic
seal, not the seal itself: the signature that makes a document sealed is made by the esign app.
"""

from __future__ import annotations

import functools
import math
from io import BytesIO

from PIL import Image, ImageDraw, ImageFont

from zhixing.documents import fonts

SEAL_RED = (220, 24, 24, 255)
# Drawing at this multiple of the requested size and scaling down smooths the edges.
_SUPERSAMPLE = 2
MIN_SIZE_PX = 64
MAX_SIZE_PX = 4000


@functools.lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(fonts.font_path(fonts.BOLD)), size)


def _star_points(cx: float, cy: float, outer: float) -> list[tuple[float, float]]:
    """Return the ten corners of a five-pointed star with one point straight up."""
    inner = outer * math.sin(math.radians(18)) / math.sin(math.radians(126))
    points = []
    for index in range(10):
        radius = outer if index % 2 == 0 else inner
        angle = math.radians(-90 + 36 * index)
        points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    return points


def _draw_arc_text(image: Image.Image, text: str, size: int) -> None:
    """Draw ``text`` clockwise along the upper arc, each character upright towards the rim."""
    count = len(text)
    centre = size / 2
    # Longer names get smaller characters so that they fit in the arc.
    scale = 0.15
    if count > 10:
        scale = 0.12
    if count > 14:
        scale = 0.10
    char_size = int(size * scale)
    radius = size / 2 * 0.93 - size * 0.045 - char_size * 0.62
    # The name spans at most 250 degrees, centred on the top of the seal.
    span = min(250.0, 26.0 * count) if count > 1 else 0.0
    font = _font(char_size)
    for index, character in enumerate(text):
        angle = -span / 2 + (span * index / (count - 1) if count > 1 else 0.0)
        tile = Image.new("RGBA", (char_size * 2, char_size * 2), (0, 0, 0, 0))
        ImageDraw.Draw(tile).text(
            (char_size, char_size), character, font=font, fill=SEAL_RED, anchor="mm"
        )
        # Pillow rotates counter-clockwise; a character right of the top leans clockwise.
        tile = tile.rotate(-angle, resample=Image.Resampling.BICUBIC)
        theta = math.radians(angle - 90)
        x = centre + radius * math.cos(theta) - tile.width / 2
        y = centre + radius * math.sin(theta) - tile.height / 2
        image.alpha_composite(tile, (round(x), round(y)))


def seal_png(court_name: str, size_px: int = 600) -> bytes:
    """Draw the round seal of ``court_name`` as a square PNG of ``size_px`` pixels.

    The background is transparent; the ring, star and name are red. Raises ``ValueError`` for a
    size outside 64 to 4000 pixels or an empty name.
    """
    if not MIN_SIZE_PX <= size_px <= MAX_SIZE_PX:
        raise ValueError(
            f"size_px={size_px} is outside {MIN_SIZE_PX}–{MAX_SIZE_PX}; choose a size in pixels "
            "in that range."
        )
    name = court_name.strip()
    if not name:
        raise ValueError("court_name is empty; the seal needs the court's name.")
    size = size_px * _SUPERSAMPLE
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    ring = size * 0.035
    margin = size * 0.035
    draw.ellipse(
        (margin, margin, size - margin, size - margin), outline=SEAL_RED, width=round(ring)
    )
    draw.polygon(_star_points(size / 2, size / 2, size * 0.17), fill=SEAL_RED)
    _draw_arc_text(image, name, size)
    image = image.resize((size_px, size_px), Image.Resampling.LANCZOS)
    output = BytesIO()
    image.save(output, format="PNG", optimize=True)
    return output.getvalue()
