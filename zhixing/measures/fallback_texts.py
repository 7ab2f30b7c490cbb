"""Texts of the documents that the documents app has no template kind for yet.

The documents app has templates for freezes, deductions, the seizure of real estate and of
vehicles, but none for the ruling of a vehicle seizure, for distraint (扣押) or for the renewal
of a seizure. These texts fill the gap in the same line format (see
:mod:`zhixing.documents.markup`) and with the same context as the stored templates.
``measure.property`` describes the asset and ``measure.verb`` is 查封 or 扣押.

TODO: move them into the documents app as document kinds with a data migration, so that
administrators can edit them; :func:`zhixing.measures.documents.render_document` then renders
the stored templates instead, without a change here.
"""

# The texts are Chinese documents with full-width punctuation.
# ruff: noqa: E501

from __future__ import annotations

_PARTIES = """\
< 申请执行人：{{ applicant.name }}{% if applicant.document_number %}，{{ applicant.document_label }}{{ applicant.document_number }}{% endif %}。
< 被执行人：{{ debtor.name }}{% if debtor.document_number %}，{{ debtor.document_label }}{{ debtor.document_number }}{% endif %}{% if debtor.address %}，住所{{ debtor.address }}{% endif %}。
本院在执行申请执行人{{ applicant.name }}与被执行人{{ debtor.name }}{{ case_cause }}一案中，{{ basis.court }}作出的{{ basis.document_number }}{{ basis.document_kind }}已经发生法律效力，被执行人{{ debtor.name }}未按执行通知履行该法律文书确定的义务。依照《中华人民共和国民事诉讼法》和《最高人民法院关于人民法院民事执行中查封、扣押、冻结财产的规定》的有关规定，裁定如下：
"""

_RULING_CLOSING = """\
本裁定送达后立即生效。
{% for person in signatories %}> {{ person.role }}　{{ person.name }}
{% endfor %}@ {{ date|cn_date }}
> 书 记 员　{{ clerk.name }}
"""

_NOTICE_HEAD = """\
# {{ court.name }}
## {{ title }}
> {{ document_number }}
< {{ agency.name }}：
关于申请执行人{{ applicant.name }}与被执行人{{ debtor.name }}{{ case_cause }}一案，本院作出的{{ ruling_number }}执行裁定书已经发生法律效力。依照《中华人民共和国民事诉讼法》的有关规定，请你单位协助执行下列事项：
"""

_NOTICE_CLOSING = """\
< 附：{{ ruling_number }}执行裁定书
@ {{ court.name }}
@ {{ date|cn_date }}
~ 联系人：{{ officer.name }}{% if officer.phone %}　　联系电话：{{ officer.phone }}{% endif %}
"""

_DEBTOR = "被执行人{{ debtor.name }}（{{ debtor.document_label }}：{{ debtor.document_number }}）"

RULING_SEIZE_VEHICLE = (
    "# {{ court.name }}\n## {{ title }}\n> {{ ruling_number }}\n"
    + _PARTIES
    + "查封被执行人{{ debtor.name }}名下{{ measure.property }}，查封期限为{{ measure.period }}，"
    "自{{ measure.start|ymd }}起至{{ measure.end|ymd }}止。\n" + _RULING_CLOSING
)

RULING_DISTRAIN = (
    "# {{ court.name }}\n## {{ title }}\n> {{ ruling_number }}\n"
    + _PARTIES
    + "扣押被执行人{{ debtor.name }}名下{{ measure.property }}，扣押期限为{{ measure.period }}，"
    "自{{ measure.start|ymd }}起至{{ measure.end|ymd }}止。\n" + _RULING_CLOSING
)

NOTICE_DISTRAIN = (
    _NOTICE_HEAD + "扣押" + _DEBTOR + "名下{{ measure.property }}，扣押期限为{{ measure.period }}，"
    "自{{ measure.start|ymd }}起至{{ measure.end|ymd }}止。\n"
    "扣押期间，未经本院准许，不得办理该财产的转移、抵押等登记手续。\n" + _NOTICE_CLOSING
)

NOTICE_RENEW_SEIZURE = (
    _NOTICE_HEAD
    + "续行{{ measure.verb }}"
    + _DEBTOR
    + "名下{{ measure.property }}。原{{ measure.verb }}依据为本院{{ measure.previous.document_number }}"
    "协助执行通知书，原{{ measure.verb }}期限自{{ measure.previous.start|ymd }}起"
    "至{{ measure.previous.end|ymd }}止。续行{{ measure.verb }}期限为{{ measure.period }}，"
    "自{{ measure.start|ymd }}起至{{ measure.end|ymd }}止。\n"
    "续行{{ measure.verb }}期间，未经本院准许，不得办理该财产的转移、抵押等登记手续。\n"
    + _NOTICE_CLOSING
)

NOTICE_RELEASE_DISTRAINT = (
    _NOTICE_HEAD
    + "解除对"
    + _DEBTOR
    + "名下{{ measure.property }}的扣押（原扣押依据为本院{{ measure.previous.document_number }}"
    "协助执行通知书，原扣押期限自{{ measure.previous.start|ymd }}起"
    "至{{ measure.previous.end|ymd }}止）。\n" + _NOTICE_CLOSING
)

# Code: (title, body), as the documents app's defaults are written.
FALLBACK_TEXTS: dict[str, tuple[str, str]] = {
    "ruling_seize_vehicle": ("执行裁定书", RULING_SEIZE_VEHICLE),
    "ruling_distrain": ("执行裁定书", RULING_DISTRAIN),
    "assistance_notice_distrain": ("协助执行通知书", NOTICE_DISTRAIN),
    "assistance_notice_renew_seizure": ("协助执行通知书", NOTICE_RENEW_SEIZURE),
    "assistance_notice_release_distraint": ("协助执行通知书", NOTICE_RELEASE_DISTRAINT),
}
