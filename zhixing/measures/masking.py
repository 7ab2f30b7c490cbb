"""A measure's asset as pages and the API show it: a person's home masked, as on the assets page.

A measure copies its asset's label when it is made (``ControlMeasure.asset_label``): the bank,
or the location of real estate, or the description. The location of a natural person's real
estate is where they live, so it is shown only to the administrative division
(广州市越秀区****), under the rule of the assets page
(:func:`zhixing.inquiry.display.masks_location`), until a user who may see it reveals it. Each
reveal is audited (:func:`zhixing.measures.services.record_location_read`). The sealed ruling
and notice print the location in full, because the registry needs it.
"""

from __future__ import annotations

from zhixing.cases.models import Party
from zhixing.courts.masking import mask_address
from zhixing.inquiry.display import PERSONAL_LOCATION_TYPES
from zhixing.measures.models import ControlMeasure


def masks_location(measure: ControlMeasure) -> bool:
    """Return whether the measure's asset label is a person's location, masked until revealed.

    The caller loads ``measure.party``. The label of such an asset whose record had no location
    is its description, which is masked as well, because the label does not say which it is.
    """
    return measure.asset_type in PERSONAL_LOCATION_TYPES and measure.party.kind == Party.Kind.PERSON


def shown_asset_label(measure: ControlMeasure, *, reveal: bool = False) -> str:
    """Return the asset label as pages show it: a person's location masked unless ``reveal``."""
    label = measure.asset_label
    if label and not reveal and masks_location(measure):
        return mask_address(label)
    return label
