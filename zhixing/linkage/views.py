"""The agencies' callback endpoint of the gateway protocol: ``POST .../v1/answers``.

No session or token guards it. The agency's Ed25519 signature over the body authenticates
each message, so the view is exempt from CSRF checks, which protect browser sessions.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from zhixing.linkage import gateway, keys
from zhixing.linkage.models import Agency

logger = logging.getLogger(__name__)


def _error(status: int, error: str, detail: str) -> JsonResponse:
    return JsonResponse({"error": error, "detail": detail}, status=status)


@csrf_exempt
@require_POST
def receive_answers(request: HttpRequest) -> JsonResponse:
    """Verify and store a message of answers that an agency sends by callback."""
    try:
        signer = keys.parse_signer(request.headers.get(keys.SIGNER_HEADER, ""))
    except UnicodeDecodeError:
        signer = ""
    agency = Agency.objects.filter(code=signer, active=True).first() if signer else None
    if agency is None:
        logger.warning("Rejected answers from an unknown signer")
        return _error(401, "invalid_signature", "The signer is not a known, active agency.")
    try:
        receipt = gateway.receive_answers(
            agency, request.body, request.headers.get(keys.SIGNATURE_HEADER, "")
        )
    except gateway.InvalidSignatureError as error:
        return _error(401, "invalid_signature", str(error))
    except gateway.InvalidMessageError as error:
        logger.warning("Rejected answers from agency %s: %s", agency.code, error)
        return _error(400, "invalid_request", f"The answer message is invalid: {error}.")
    return JsonResponse(receipt.as_reply())
