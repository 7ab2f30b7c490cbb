"""Default texts of the document templates, which the data migration stores as version 1.

The texts follow the structure of printed enforcement documents: the court's name, the title,
the document number, the parties, the facts, the legal basis, the measure with its asset,
amount and period, and the closing that the seal covers. The legal basis names the Civil
Procedure Law and the Supreme People's Court's 2004 rules on seizure, distraint and freezing
(《最高人民法院关于人民法院民事执行中查封、扣押、冻结财产的规定》) without article numbers.

NOTE: the article numbers of the Civil Procedure Law changed with its 2021 and 2023
amendments, so the default texts cite the law without them. A court adds the articles of the
version in force on the template page, where every text can be changed without code.

``DEFAULTS_V1`` is what migration 0002 stored, and ``ADDED_IN_0003`` the kinds that migration
0003 added. ``CHANGED_IN_0004`` contains version 2 of the kinds whose contact line or row printed
the label 联系电话 with an empty phone: it now prints the label only when the officer has a
phone. ``DEFAULTS`` is the current default of every kind. Change a default text with a new
constant and a new data migration, so that the old migrations keep storing what they stored.
"""

# The texts are Chinese documents with full-width punctuation.
# ruff: noqa: E501

from __future__ import annotations

from zhixing.documents.kinds import DocumentKind as Kind

_PARTIES = """\
< 申请执行人：{{ applicant.name }}{% if applicant.document_number %}，{{ applicant.document_label }}{{ applicant.document_number }}{% endif %}。
< 被执行人：{{ debtor.name }}{% if debtor.document_number %}，{{ debtor.document_label }}{{ debtor.document_number }}{% endif %}{% if debtor.address %}，住所{{ debtor.address }}{% endif %}。
"""

_RULING_OPENING = """\
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
"""

_NOTICE_BASIS = """\
关于申请执行人{{ applicant.name }}与被执行人{{ debtor.name }}{{ case_cause }}一案，本院作出的{{ ruling_number }}执行裁定书已经发生法律效力。依照《中华人民共和国民事诉讼法》的有关规定，请你单位协助执行下列事项：
"""

_NOTICE_CLOSING = """\
@ {{ court.name }}
@ {{ date|cn_date }}
~ 联系人：{{ officer.name }}　　联系电话：{{ officer.phone }}
"""

_DEBTOR = "被执行人{{ debtor.name }}（{{ debtor.document_label }}：{{ debtor.document_number }}）"

RULING_FREEZE = (
    "# {{ court.name }}\n## {{ title }}\n> {{ ruling_number }}\n"
    + _PARTIES
    + _RULING_OPENING
    + "冻结被执行人{{ debtor.name }}在{{ measure.bank }}开立的账号为{{ measure.account }}的账户内的存款，"
    "以人民币{{ measure.amount|yuan }}元为限，冻结期限为{{ measure.period }}，"
    "自{{ measure.start|ymd }}起至{{ measure.end|ymd }}止。\n" + _RULING_CLOSING
)

RULING_DEDUCT = (
    "# {{ court.name }}\n## {{ title }}\n> {{ ruling_number }}\n"
    + _PARTIES
    + _RULING_OPENING
    + "扣划被执行人{{ debtor.name }}在{{ measure.bank }}开立的账号为{{ measure.account }}的账户内的存款"
    "人民币{{ measure.amount|yuan }}元。\n" + _RULING_CLOSING
)

RULING_SEIZE = (
    "# {{ court.name }}\n## {{ title }}\n> {{ ruling_number }}\n"
    + _PARTIES
    + _RULING_OPENING
    + "查封被执行人{{ debtor.name }}名下位于{{ measure.location }}的不动产"
    "（不动产权证书号：{{ measure.certificate }}），查封期限为{{ measure.period }}，"
    "自{{ measure.start|ymd }}起至{{ measure.end|ymd }}止。\n" + _RULING_CLOSING
)

NOTICE_QUERY = (
    _NOTICE_HEAD
    + "本院在执行申请执行人{{ applicant.name }}与被执行人{{ debtor.name }}{{ case_cause }}一案中，"
    "依照《中华人民共和国民事诉讼法》的有关规定，请你单位协助查询下列事项：\n"
    "查询" + _DEBTOR + "{{ measure.scope }}。\n"
    "请将查询结果书面回复本院。\n" + _NOTICE_CLOSING
)

NOTICE_FREEZE = (
    _NOTICE_HEAD
    + _NOTICE_BASIS
    + "冻结"
    + _DEBTOR
    + "在你单位开立的账号为{{ measure.account }}的账户内的存款，以人民币{{ measure.amount|yuan }}元为限，"
    "冻结期限为{{ measure.period }}，自{{ measure.start|ymd }}起至{{ measure.end|ymd }}止。\n"
    "冻结期限届满，本院未办理续行冻结手续的，冻结的效力消灭。\n"
    "< 附：{{ ruling_number }}执行裁定书\n" + _NOTICE_CLOSING
)

NOTICE_RENEW_FREEZE = (
    _NOTICE_HEAD
    + _NOTICE_BASIS
    + "续行冻结"
    + _DEBTOR
    + "在你单位开立的账号为{{ measure.account }}的账户内的存款，以人民币{{ measure.amount|yuan }}元为限。"
    "原冻结依据为本院{{ measure.previous.document_number }}协助执行通知书，原冻结期限"
    "自{{ measure.previous.start|ymd }}起至{{ measure.previous.end|ymd }}止。"
    "续行冻结期限为{{ measure.period }}，自{{ measure.start|ymd }}起至{{ measure.end|ymd }}止。\n"
    "< 附：{{ ruling_number }}执行裁定书\n" + _NOTICE_CLOSING
)

NOTICE_RELEASE_FREEZE = (
    _NOTICE_HEAD
    + _NOTICE_BASIS
    + "解除对"
    + _DEBTOR
    + "在你单位开立的账号为{{ measure.account }}的账户内存款人民币{{ measure.amount|yuan }}元的冻结"
    "（原冻结依据为本院{{ measure.previous.document_number }}协助执行通知书，原冻结期限"
    "自{{ measure.previous.start|ymd }}起至{{ measure.previous.end|ymd }}止）。\n"
    "< 附：{{ ruling_number }}执行裁定书\n" + _NOTICE_CLOSING
)

NOTICE_DEDUCT = (
    _NOTICE_HEAD
    + _NOTICE_BASIS
    + "扣划"
    + _DEBTOR
    + "在你单位开立的账号为{{ measure.account }}的账户内的存款人民币{{ measure.amount|yuan }}元，"
    "划至本院执行款专户。\n"
    "< 户名：{{ measure.payee.name }}\n"
    "< 账号：{{ measure.payee.account }}\n"
    "< 开户行：{{ measure.payee.bank }}\n"
    "< 附：{{ ruling_number }}执行裁定书\n" + _NOTICE_CLOSING
)

NOTICE_SEIZE_REAL_ESTATE = (
    _NOTICE_HEAD
    + _NOTICE_BASIS
    + "查封"
    + _DEBTOR
    + "名下位于{{ measure.location }}的不动产（不动产权证书号：{{ measure.certificate }}），"
    "查封期限为{{ measure.period }}，自{{ measure.start|ymd }}起至{{ measure.end|ymd }}止。\n"
    "查封期间，未经本院准许，不得办理该不动产的转移、抵押等登记手续。\n"
    "< 附：{{ ruling_number }}执行裁定书\n" + _NOTICE_CLOSING
)

NOTICE_RELEASE_REAL_ESTATE = (
    _NOTICE_HEAD
    + _NOTICE_BASIS
    + "解除对"
    + _DEBTOR
    + "名下位于{{ measure.location }}的不动产（不动产权证书号：{{ measure.certificate }}）的查封"
    "（原查封依据为本院{{ measure.previous.document_number }}协助执行通知书，原查封期限"
    "自{{ measure.previous.start|ymd }}起至{{ measure.previous.end|ymd }}止）。\n"
    "< 附：{{ ruling_number }}执行裁定书\n" + _NOTICE_CLOSING
)

_VEHICLE = (
    "名下号牌号码为{{ measure.plate }}的机动车（车辆类型：{{ measure.vehicle_type }}，"
    "品牌型号：{{ measure.model }}，车辆识别代号：{{ measure.vin }}）"
)

NOTICE_SEIZE_VEHICLE = (
    _NOTICE_HEAD
    + _NOTICE_BASIS
    + "查封"
    + _DEBTOR
    + _VEHICLE
    + "，查封期限为{{ measure.period }}，自{{ measure.start|ymd }}起至{{ measure.end|ymd }}止。\n"
    "查封期间，未经本院准许，不得办理该车辆的转移、抵押等登记手续。\n"
    "< 附：{{ ruling_number }}执行裁定书\n" + _NOTICE_CLOSING
)

NOTICE_RELEASE_VEHICLE = (
    _NOTICE_HEAD
    + _NOTICE_BASIS
    + "解除对"
    + _DEBTOR
    + _VEHICLE
    + "的查封（原查封依据为本院{{ measure.previous.document_number }}协助执行通知书，"
    "原查封期限自{{ measure.previous.start|ymd }}起至{{ measure.previous.end|ymd }}止）。\n"
    "< 附：{{ ruling_number }}执行裁定书\n" + _NOTICE_CLOSING
)

EXIT_RESTRICTION_DECISION = """\
# {{ court.name }}
## {{ title }}
> {{ document_number }}
< 被限制出境人：{{ measure.person.name }}，{{ measure.person.sex }}，{{ measure.person.birth_date|ymd }}出生，{{ measure.person.document_label }}{{ measure.person.document_number }}{% if measure.person.role %}，系本案{{ measure.person.role }}{% endif %}。
本院在执行申请执行人{{ applicant.name }}与被执行人{{ debtor.name }}{{ case_cause }}一案中，被执行人{{ debtor.name }}未履行{{ basis.court }}{{ basis.document_number }}{{ basis.document_kind }}确定的义务。{% if measure.on_application %}申请执行人{{ applicant.name }}申请对{{ measure.person.name }}限制出境。{% endif %}依照《中华人民共和国民事诉讼法》的有关规定，决定如下：
对{{ measure.person.name }}限制出境，期限为{{ measure.period }}，自{{ measure.start|ymd }}起至{{ measure.end|ymd }}止。
本决定送达后立即执行。
@ {{ court.name }}
@ {{ date|cn_date }}
~ 联系人：{{ officer.name }}　　联系电话：{{ officer.phone }}
"""

BORDER_CONTROL_REQUEST = """\
# {{ court.name }}
## {{ title }}
> {{ document_number }}
< {{ agency.name }}：
本院在执行申请执行人{{ applicant.name }}与被执行人{{ debtor.name }}{{ case_cause }}一案中，已作出{{ measure.decision_number }}限制出境决定书。依照《中华人民共和国民事诉讼法》的有关规定，请你单位协助对下列人员实施边境控制：
| 姓名 | {{ measure.person.name }} | 性别 | {{ measure.person.sex }} |
| 出生日期 | {{ measure.person.birth_date|ymd }} | 国籍 | {{ measure.person.nationality }} |
| 证件种类 | {{ measure.person.document_kind }} | 证件号码 | {{ measure.person.document_number }} |
| 控制期限 | {{ measure.period }}，自{{ measure.start|ymd }}起至{{ measure.end|ymd }}止 |
| 控制口岸 | {{ measure.ports }} |
| 控制措施 | {{ measure.action }} |
| 法律文书 | {{ measure.decision_number }}限制出境决定书 |
| 承办人 | {{ officer.name }} | 联系电话 | {{ officer.phone }} |
控制期限届满前需要续控的，本院将另行通知；被限制出境人履行完毕法律文书确定的义务的，本院将及时通知解除控制。
< 附：{{ measure.decision_number }}限制出境决定书
@ {{ court.name }}
@ {{ date|cn_date }}
"""

BORDER_CONTROL_LIFTING = """\
# {{ court.name }}
## {{ title }}
> {{ document_number }}
< {{ agency.name }}：
{{ measure.decision_court }}在执行申请执行人{{ applicant.name }}与被执行人{{ debtor.name }}{{ case_cause }}一案中作出{{ measure.decision_number }}限制出境决定书，本院已通知你单位对下列人员实施边境控制。现{{ measure.decision_court }}决定解除对其出境的限制。依照《中华人民共和国民事诉讼法》的有关规定，请你单位协助解除对下列人员的边境控制：
| 姓名 | {{ measure.person.name }} | 性别 | {{ measure.person.sex }} |
| 出生日期 | {{ measure.person.birth_date|ymd }} | 国籍 | {{ measure.person.nationality }} |
| 证件种类 | {{ measure.person.document_kind }} | 证件号码 | {{ measure.person.document_number }} |
| 原控制期限 | {{ measure.period }}，自{{ measure.start|ymd }}起至{{ measure.end|ymd }}止 |
| 控制口岸 | {{ measure.ports }} |
| 解除日期 | {{ measure.lifted_on|ymd }} |
| 法律文书 | {{ measure.decision_number }}限制出境决定书 |
| 承办人 | {{ officer.name }} | 联系电话 | {{ officer.phone }} |
@ {{ court.name }}
@ {{ date|cn_date }}
"""

SEIZURE_RENEWAL_FORM = """\
# {{ court.name }}
## {{ title }}
> {{ document_number }}
| 案号 | {{ case_number }} |
| 申请执行人 | {{ applicant.name }} | 被执行人 | {{ debtor.name }} |
| 执行依据 | {{ basis.court }}{{ basis.document_number }}{{ basis.document_kind }} |
| 申请执行标的 | 人民币{{ claim_amount|yuan }}元 |
| 查封财产 | {{ measure.property }} |
| 原查封文书 | {{ measure.previous.document_number }} |
| 原查封期限 | 自{{ measure.previous.start|ymd }}起至{{ measure.previous.end|ymd }}止 |
| 申请续封期限 | {{ measure.period }}，自{{ measure.start|ymd }}起至{{ measure.end|ymd }}止 |
| 续封理由 | {{ measure.reason }} |
| 承办人意见 | {{ measure.officer_opinion }}　　承办人：{{ officer.name }}　{{ date|ymd }} |
| 执行局意见 | 签名：　　　　　　　　日期： |
| 审批意见 | 签名：　　　　　　　　日期： |
~ 续封须在原查封期限届满前办理；查封期限届满未续封的，查封的效力消灭。
@ {{ court.name }}
@ {{ date|cn_date }}
"""

DEFAULTS_V1: dict[str, tuple[str, str]] = {
    Kind.RULING_FREEZE: ("执行裁定书", RULING_FREEZE),
    Kind.RULING_DEDUCT: ("执行裁定书", RULING_DEDUCT),
    Kind.RULING_SEIZE: ("执行裁定书", RULING_SEIZE),
    Kind.ASSISTANCE_NOTICE_QUERY: ("协助查询存款通知书", NOTICE_QUERY),
    Kind.ASSISTANCE_NOTICE_FREEZE: ("协助冻结存款通知书", NOTICE_FREEZE),
    Kind.ASSISTANCE_NOTICE_RENEW_FREEZE: ("协助续行冻结存款通知书", NOTICE_RENEW_FREEZE),
    Kind.ASSISTANCE_NOTICE_RELEASE_FREEZE: ("协助解除冻结存款通知书", NOTICE_RELEASE_FREEZE),
    Kind.ASSISTANCE_NOTICE_DEDUCT: ("协助扣划存款通知书", NOTICE_DEDUCT),
    Kind.ASSISTANCE_NOTICE_SEIZE_REAL_ESTATE: ("协助执行通知书", NOTICE_SEIZE_REAL_ESTATE),
    Kind.ASSISTANCE_NOTICE_RELEASE_REAL_ESTATE: ("协助执行通知书", NOTICE_RELEASE_REAL_ESTATE),
    Kind.ASSISTANCE_NOTICE_SEIZE_VEHICLE: ("协助执行通知书", NOTICE_SEIZE_VEHICLE),
    Kind.ASSISTANCE_NOTICE_RELEASE_VEHICLE: ("协助执行通知书", NOTICE_RELEASE_VEHICLE),
    Kind.EXIT_RESTRICTION_DECISION: ("限制出境决定书", EXIT_RESTRICTION_DECISION),
    Kind.BORDER_CONTROL_REQUEST: ("边控对象通知书", BORDER_CONTROL_REQUEST),
    Kind.SEIZURE_RENEWAL_FORM: ("续封申请审批表", SEIZURE_RENEWAL_FORM),
}

# Kinds added after version 1: the default texts that migration 0003 stored.
ADDED_IN_0003: dict[str, tuple[str, str]] = {
    Kind.BORDER_CONTROL_LIFTING: ("解除限制出境通知书", BORDER_CONTROL_LIFTING),
}

# Version 2: the officer's phone and its label only when the officer has a phone, instead of a
# label followed by nothing. A table row without the phone spans the name over the row.
_CONTACT_V1 = "~ 联系人：{{ officer.name }}　　联系电话：{{ officer.phone }}"
_CONTACT = (
    "~ 联系人：{{ officer.name }}{% if officer.phone %}　　联系电话：{{ officer.phone }}{% endif %}"
)
_OFFICER_ROW_V1 = "| 承办人 | {{ officer.name }} | 联系电话 | {{ officer.phone }} |"
_OFFICER_ROW = (
    "{% if officer.phone %}| 承办人 | {{ officer.name }} | 联系电话 | {{ officer.phone }} |"
    "{% else %}| 承办人 | {{ officer.name }} |{% endif %}"
)


def _phone_when_known(body: str) -> str:
    return body.replace(_CONTACT_V1, _CONTACT).replace(_OFFICER_ROW_V1, _OFFICER_ROW)


# Version 2 of the kinds whose text changed, which migration 0004 stores.
CHANGED_IN_0004: dict[str, tuple[str, str]] = {
    code: (title, _phone_when_known(body))
    for code, (title, body) in {**DEFAULTS_V1, **ADDED_IN_0003}.items()
    if _phone_when_known(body) != body
}

DEFAULTS: dict[str, tuple[str, str]] = {**DEFAULTS_V1, **ADDED_IN_0003, **CHANGED_IN_0004}
