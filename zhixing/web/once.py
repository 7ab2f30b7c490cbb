"""Forms that store something new are handled once per page, however often they are sent.

The page renders a one-time token into the form (``{% once_token %}``). The first POST with
the token records it (:class:`~zhixing.web.models.Submission`) and, when the view redirects to
its result, where that result is. A POST with a token already recorded redirects to the same
result. While the first is still being handled, the second waits a few seconds for it. A POST
that ends without a redirect (a form with errors) frees its token, so the corrected form can be
sent. A POST without a token is handled as before.
"""

from __future__ import annotations

import datetime
import functools
import logging
import re
import time
import uuid
from collections.abc import Callable

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import timezone
from django.utils.translation import gettext as _

from zhixing.web.models import Submission

logger = logging.getLogger(__name__)

FIELD = "once"
_TOKEN = re.compile(r"^[0-9a-f]{32}$")
# How long a second sending waits for the first one's result, and how often it looks.
WAIT_SECONDS = 10.0
POLL_SECONDS = 0.2
# Tokens are kept this long. A form older than that is handled as new.
KEEP = datetime.timedelta(days=1)


def new_token() -> str:
    return uuid.uuid4().hex


def _wait_for_result(token: str) -> str:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        location = Submission.objects.filter(token=token).values_list("location", flat=True).first()
        if location or location is None or time.monotonic() >= deadline:
            return location or ""
        time.sleep(POLL_SECONDS)


def submit_once(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Decorate a view whose POST stores something new, so that each form is handled once."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        token = request.POST.get(FIELD, "") if request.method == "POST" else ""
        if not _TOKEN.match(token) or not request.user.is_authenticated:
            return view(request, *args, **kwargs)
        try:
            with transaction.atomic():
                Submission.objects.create(token=token, user=request.user, path=request.path)
        except IntegrityError:
            location = _wait_for_result(token)
            logger.info("Form %s sent again by user %s", request.path, request.user.pk)
            if location:
                messages.info(request, _("This form was already sent; here is its result."))
                return HttpResponseRedirect(location)
            messages.warning(
                request,
                _("This form is still being handled; check the list before sending it again."),
            )
            return HttpResponseRedirect(request.path)
        Submission.objects.filter(created_at__lt=timezone.now() - KEEP).delete()
        try:
            response = view(request, *args, **kwargs)
        except BaseException:
            Submission.objects.filter(token=token).delete()
            raise
        if response.status_code in (301, 302, 303) and response.get("Location"):
            Submission.objects.filter(token=token).update(location=response["Location"][:500])
        else:
            Submission.objects.filter(token=token).delete()
        return response

    return wrapper
