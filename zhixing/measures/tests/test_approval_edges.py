"""Edges of the bureau head's approval of measures: late approvals, closing, expiry, races."""

from __future__ import annotations

import datetime
import threading
import time
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from zhixing.cases import services as case_services
from zhixing.measures import services
from zhixing.measures.models import ControlMeasure, MeasureStep
from zhixing.measures.tests.conftest import ACCOUNT, client_for
from zhixing.measures.tests.test_approval import NOW, RENEWAL_DAY, freeze, in_force, set_policy

State = ControlMeasure.State
StepState = MeasureStep.State
# The day after the end of a 12-month freeze made on NOW: the expiry check expires it.
AFTER_END = datetime.datetime(2027, 12, 5, 10, 0, tzinfo=NOW.tzinfo)


@pytest.fixture
def policy(courts):
    return set_policy(courts["粤0104"], measures=True)


@pytest.fixture
def head(make_user):
    return make_user("head_0104", "粤0104", "bureau_head")


def test_queue_estimate_after_late_approval(
    policy, officer, head, case, debtors, make_asset, file_case
):
    """A freeze approved a day after its request reached the bank only on approval.

    The bank's answer at 16:31 on 4 December reports the account frozen. The platform's own
    freeze was requested at 10:00 that day but approved, sealed and sent only on 5 December,
    so the frozen state belongs to another holder: a later freeze has two holders before it.
    """
    approved_on = NOW + datetime.timedelta(days=1)
    waiting = freeze(officer, make_asset(case, debtors[0], ACCOUNT), amount="1000.00")
    services.decide_step(head, waiting.steps.get(), approve=True, now=approved_on)
    other_case = file_case(first=5)
    other_debtor = other_case.parties.filter(case_roles__role="debtor").first()
    frozen = make_asset(other_case, other_debtor, {**ACCOUNT, "state": "frozen"})
    assert waiting.created_at < frozen.answered_at
    assert frozen.answered_at < approved_on
    set_policy(case.court, measures=False)

    later = freeze(officer, frozen, amount="1000.00", now=NOW + datetime.timedelta(days=2))

    assert later.queue_position == 2


def test_page_overlong_reason_message(policy, officer, head, case, debtors, make_asset):
    """A rejection reason over 500 characters is rejected with a message about its length."""
    measure = freeze(officer, make_asset(case, debtors[0], ACCOUNT))

    response = client_for(head).post(
        reverse("measure-decide", args=[measure.pk]),
        {"step": measure.steps.get().pk, "decision": "reject", "note": "理" * 10000},
        follow=True,
    )

    text = response.content.decode()
    assert "Choose to approve or reject the request." not in text
    assert "500" in text
    measure.refresh_from_db()
    assert measure.state == State.AWAITING_APPROVAL


def test_closed_case_nothing_awaiting(policy, officer, head, case, debtors, make_asset):
    """Closing is rejected while a freeze awaits approval, as while one awaits the agency.

    Otherwise the freeze would stay in the bureau head's list, where approving it fails
    because the case is closed.
    """
    freeze(officer, make_asset(case, debtors[0], ACCOUNT))

    with pytest.raises(ValidationError, match="awaiting a bureau head's approval"):
        case_services.close_case(
            actor=None, case=case, mode="completed", on=case_services.today_in_china()
        )

    case.refresh_from_db()
    assert case.closed_on is None


def test_expired_step_shown_as_ended(courts, officer, head, case, debtors, make_asset):
    measure = in_force(officer, make_asset(case, debtors[0], ACCOUNT))
    set_policy(courts["粤0104"], measures=True)
    services.renew_measure(officer, measure, now=RENEWAL_DAY)
    services.check_expiries(AFTER_END)

    detail = client_for(head).get(reverse("measure-detail", args=[measure.pk])).content.decode()
    listed = client_for(head).get(reverse("measure-approvals")).content.decode()

    assert "Ended without a decision on 2027-12-05" in detail
    assert "The measure&#x27;s period ended before the decision." in detail
    assert "Not approved" in listed


class _PausingObjects:
    """A ``ControlMeasure.objects`` that pauses the deciding thread before it locks the measure.

    ``decide_step`` has locked the case by then. The pause lets the other thread's expiry
    check lock the measure, and its query then waits for the lock on the case.
    """

    def __init__(self, decider: list[threading.Thread], case_locked: threading.Event) -> None:
        self.decider = decider
        self.case_locked = case_locked

    def __getattr__(self, name: str) -> Any:
        if name == "select_for_update" and threading.current_thread() in self.decider:
            self.case_locked.set()
            time.sleep(2)
        return getattr(ControlMeasure._default_manager, name)


class _Model:
    def __init__(self, objects: _PausingObjects) -> None:
        self.objects = objects

    def __getattr__(self, name: str) -> Any:
        return getattr(ControlMeasure, name)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_approval_expiry_no_deadlock(courts, officer, head, case, debtors, make_asset, monkeypatch):
    """Approving a release while the expiry check expires its measure ends without an error.

    Both lock the case, then the measure. A single SELECT … FOR UPDATE over the join of the
    measure and its case would lock them in the order of the plan. PostgreSQL would then abort
    one of the two with "deadlock detected", which the page shows as a server error.
    """
    measure = in_force(officer, make_asset(case, debtors[0], ACCOUNT))
    set_policy(courts["粤0104"], measures=True)
    step = services.release_measure(officer, measure, reason="已履行", now=RENEWAL_DAY)
    decider: list[threading.Thread] = []
    case_locked = threading.Event()
    monkeypatch.setattr(services, "ControlMeasure", _Model(_PausingObjects(decider, case_locked)))
    outcomes: dict[str, str] = {}

    def approve() -> None:
        try:
            services.decide_step(head, step, approve=True, now=AFTER_END)
            outcomes["approve"] = "approved"
        except ValidationError as error:
            outcomes["approve"] = " ".join(error.messages)
        except Exception as error:
            outcomes["approve"] = f"error {type(error).__name__}: {error}"
        finally:
            connection.close()

    def expire() -> None:
        try:
            case_locked.wait(10)
            outcomes["expire"] = str(services.check_expiries(AFTER_END))
        except Exception as error:
            outcomes["expire"] = f"error {type(error).__name__}: {error}"
        finally:
            connection.close()

    deciding = threading.Thread(target=approve)
    decider.append(deciding)
    expiring = threading.Thread(target=expire)
    deciding.start()
    expiring.start()
    deciding.join()
    expiring.join()

    assert not [value for value in outcomes.values() if value.startswith("error")], outcomes
