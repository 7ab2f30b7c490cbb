"""The legal documents of control measures: their context, rendering and the court's seal.

Each document is rendered from the documents app's active template of its kind, or, for the
kinds that app does not have yet, from :mod:`zhixing.measures.fallback_texts`. The court's
seal goes where the template put the seal lines, with :func:`zhixing.esign.signing.seal_pdf`.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from reportlab.platypus.doctemplate import LayoutError

from zhixing.cases.identity import DocumentType
from zhixing.cases.models import CaseParty, EnforcementCase, Party
from zhixing.courts.models import Court, User
from zhixing.documents.models import DocumentTemplate
from zhixing.documents.numbers import document_number
from zhixing.documents.rendering import DocumentTemplateError, render_source
from zhixing.documents.typed_text import markup_values
from zhixing.esign import signing
from zhixing.inquiry.models import AssetRecord
from zhixing.measures.fallback_texts import FALLBACK_TEXTS
from zhixing.measures.rules import period_text

logger = logging.getLogger(__name__)

# Printed where a record lacks a value that the document names.
UNKNOWN = "不详"


@dataclass(frozen=True)
class SealedDocument:
    """A rendered and sealed document, ready to be stored."""

    kind: str
    title: str
    template_version: int | None
    pdf: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.pdf).hexdigest()


def _document_label(party: Party) -> str:
    if party.document_type == DocumentType.RESIDENT_ID:
        return "公民身份号码"
    if party.document_type in DocumentType._value2member_map_:
        return DocumentType(party.document_type).label
    return "证件号码"


def _party(case: EnforcementCase, party: Party | None) -> dict[str, Any]:
    if party is None:
        return {"name": "", "kind": "", "document_label": "", "document_number": "", "address": ""}
    return {
        "name": party.name,
        "kind": party.kind,
        "document_label": _document_label(party),
        "document_number": party.document_number,
        "address": case.address_of(party),
    }


def asset_property(asset: AssetRecord) -> str:
    """Describe the asset in Chinese as documents name it, e.g. 位于…的不动产 with its number."""
    raw = asset.raw if isinstance(asset.raw, dict) else {}
    if asset.record_type == "real_estate":
        return (
            f"位于{raw.get('location') or UNKNOWN}的不动产"
            f"（不动产权证书号：{raw.get('certificate_number') or UNKNOWN}）"
        )
    if asset.record_type == "vehicle":
        return (
            f"号牌号码为{raw.get('plate') or UNKNOWN}的机动车"
            f"（品牌型号：{raw.get('model') or UNKNOWN}，"
            f"车辆识别代号：{raw.get('vin') or UNKNOWN}）"
        )
    if asset.record_type == "ship":
        return (
            f"船名为{raw.get('name') or UNKNOWN}的船舶"
            f"（船舶登记号：{raw.get('registration_number') or UNKNOWN}）"
        )
    return asset.description or asset.identifier


def asset_fields(asset: AssetRecord) -> dict[str, Any]:
    """Return the asset's values that the stored templates name, by record type."""
    raw = asset.raw if isinstance(asset.raw, dict) else {}
    if asset.record_type in ("bank_account", "provident_fund"):
        # A provident fund record names no institution: the fund centre is the agency.
        return {"bank": asset.institution or asset.agency.name, "account": asset.identifier}
    if asset.record_type == "real_estate":
        return {
            "location": raw.get("location") or UNKNOWN,
            "certificate": raw.get("certificate_number") or UNKNOWN,
        }
    if asset.record_type == "vehicle":
        return {
            "plate": raw.get("plate") or UNKNOWN,
            # NOTE: vehicle records of the protocol carry no vehicle type (车辆类型).
            "vehicle_type": raw.get("vehicle_type") or UNKNOWN,
            "model": raw.get("model") or UNKNOWN,
            "vin": raw.get("vin") or UNKNOWN,
        }
    return {}


# Printed names of the kinds of enforcement basis.
_BASIS_DOCUMENTS = {
    "judgment": "民事判决书",
    "ruling": "民事裁定书",
    "mediation": "民事调解书",
    "payment_order": "支付令",
    "arbitral_award": "仲裁裁决书",
    "notarised_debt": "公证债权文书",
    "administrative_decision": "行政决定书",
    "criminal_judgment": "刑事判决书",
}


def _first_applicant(case: EnforcementCase) -> Party | None:
    return (
        Party.objects.filter(case_roles__case=case, case_roles__role=CaseParty.Role.APPLICANT)
        .order_by("case_roles__id")
        .first()
    )


def base_context(
    *,
    case: EnforcementCase,
    debtor: Party,
    court: Court,
    officer: User | None,
    agency_name: str,
    ruling_sequence: int,
    day: datetime.date,
    measure: dict[str, Any],
) -> dict[str, Any]:
    """Return the context that every measure document gets, with ``measure`` as its measure.

    The case records no cause of action (案由), collegial panel or clerk, so ``case_cause``
    and the clerk's name are empty and the case officer signs the ruling alone.

    The strings come from records: the parties and the enforcement basis as typed for the
    case, and the asset as the agency described it. Each goes into the template as one line of
    markup (:func:`zhixing.documents.typed_text.markup_text`), so that a line break or a "|" in
    it cannot add a paragraph, a table or a seal line to the document.
    """
    officer_name = (officer.full_name or officer.username) if officer is not None else ""
    printed = document_number(case.case_number)
    context = {
        "court": {"name": court.name, "code": court.code or ""},
        "case_number": printed,
        "document_number": printed,
        "ruling_number": document_number(case.case_number, ruling_sequence),
        # NOTE: the case has no cause of action (案由); documents read "…与被执行人…一案".
        "case_cause": "",
        "date": day,
        "applicant": _party(case, _first_applicant(case)),
        "debtor": _party(case, debtor),
        "basis": {
            "court": case.basis_court,
            "document_number": case.basis_document_number,
            "document_kind": _BASIS_DOCUMENTS.get(case.basis_kind, "法律文书"),
        },
        "claim_amount": case.claim_amount,
        "signatories": [{"role": "审 判 员", "name": officer_name}],
        "clerk": {"name": ""},
        "officer": {"name": officer_name, "phone": officer.phone if officer is not None else ""},
        "agency": {"name": agency_name},
        "measure": measure,
    }
    one_line: dict[str, Any] = markup_values(context)
    return one_line


def measure_values(
    *,
    asset: AssetRecord,
    verb: str,
    amount: Decimal | None,
    months: int | None,
    start: datetime.date | None,
    end: datetime.date | None,
    previous: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Return the ``measure`` part of a document's context."""
    values: dict[str, Any] = {
        **asset_fields(asset),
        "property": asset_property(asset),
        "verb": verb,
        "amount": amount if amount is not None else Decimal("0.00"),
        "period": period_text(months) if months else "",
        "start": start,
        "end": end,
    }
    if previous is not None:
        values["previous"] = previous
    return values


def deduction_payee(court: Court) -> dict[str, str]:
    """Return the court's account for enforcement money that a deduction pays into.

    NOTE: courts have no bank account in the platform yet, so the account and the bank are
    printed empty; the notice needs them before a bank can carry out a deduction.
    """
    return {"name": f"{court.name}执行款专户", "account": "", "bank": ""}


def render_document(code: str, context: dict[str, Any]) -> tuple[str, int | None, Any]:
    """Render the document ``code``; return its title, template version and rendering.

    The stored template of the documents app is used when that app has the kind, the text
    of :mod:`zhixing.measures.fallback_texts` otherwise. Raises ``DocumentTemplateError``.
    """
    author = context["court"]["name"]
    try:
        template = DocumentTemplate.objects.active(code)
    except LookupError:
        title, body = FALLBACK_TEXTS[code]
        return title, None, render_source(title, body, context, author=author)
    rendered = render_source(template.title, template.body, context, author=author)
    return template.title, template.version or None, rendered


def seal_user(actor: User, court: Court) -> User | None:
    """Return the user recorded as applying ``court``'s seal for ``actor``'s measure.

    Staff of the court who may apply its seal apply it themselves. For a commander, or for
    a commander of a court above, the platform applies it for the measure that the purpose
    binding allowed, with no user on the seal record; the measure records who asked.
    """
    if actor.court_id == court.pk and actor.has_role(*signing.SEAL_ROLES):
        return actor
    # TODO: require the approval of a bureau head of ``court`` once the approvals app exists.
    return None


def render_and_seal(
    code: str, context: dict[str, Any], *, court: Court, actor: User
) -> SealedDocument:
    """Render the document ``code`` with ``context`` and seal it with ``court``'s seal.

    Raises ``ValidationError`` on the field ``documents`` when the template does not render
    or does not fit the page, or when the court cannot seal yet, and ``PermissionDenied`` from
    the esign app.
    """
    try:
        title, version, rendered = render_document(code, context)
    except DocumentTemplateError as error:
        logger.error("Document %s of court %s does not render: %s", code, court.pk, error)
        raise ValidationError(
            {
                "documents": _(
                    "The document template %(code)s does not render (%(error)s); ask an "
                    "administrator to correct it."
                )
                % {"code": code, "error": error}
            }
        ) from error
    except LayoutError as error:
        # ReportLab raises LayoutError when one table row is taller than a page. The default
        # measure templates print no value in a table, but a court's edited template may.
        logger.error("Document %s of court %s does not fit the page: %s", code, court.pk, error)
        raise ValidationError(
            {
                "documents": _(
                    "The document %(code)s cannot be laid out: a table row of the template is "
                    "taller than a page with this measure's values. Ask an administrator to "
                    "move long values out of the table."
                )
                % {"code": code}
            }
        ) from error
    page, x1, y1, x2, y2 = rendered.seal_box
    try:
        sealed = signing.seal_pdf(
            rendered.pdf,
            court=court,
            user=seal_user(actor, court),
            box=(x1, y1, x2, y2),
            page=page,
            reason=title,
        )
    except signing.SealingError as error:
        logger.error("Document %s of court %s cannot be sealed: %s", code, court.pk, error)
        raise ValidationError({"documents": str(error)}) from error
    logger.info("Sealed document %s of court %s: %s bytes", code, court.pk, len(sealed))
    return SealedDocument(kind=code, title=title, template_version=version, pdf=sealed)
