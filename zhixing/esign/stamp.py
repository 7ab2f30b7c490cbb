"""The visible appearance of a seal: the court's red round seal image, filling the box."""

from __future__ import annotations

import io

from PIL import Image
from pyhanko.pdf_utils import layout
from pyhanko.pdf_utils.images import PdfImage
from pyhanko.stamp import StaticStampStyle


def seal_image(court_name: str) -> bytes:
    """Return the court's seal as PNG, drawn by the documents app."""
    from zhixing.documents.seal_image import seal_png

    return seal_png(court_name)


def seal_style(court_name: str) -> StaticStampStyle:
    """Return a pyHanko stamp style that shows only the seal image, scaled to fit the box."""
    image = Image.open(io.BytesIO(seal_image(court_name)))
    image.load()
    return StaticStampStyle(
        background=PdfImage(image),
        background_opacity=1.0,
        border_width=0,
        background_layout=layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MID,
            y_align=layout.AxisAlignment.ALIGN_MID,
            inner_content_scaling=layout.InnerScaling.SHRINK_TO_FIT,
        ),
    )
