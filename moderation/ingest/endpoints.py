"""Webhook endpoints: /hooks/meta/ (Facebook Pages and Instagram) and /hooks/x/ (X).

GET is the platform's handshake; POST a delivery. Order of checks on POST:
1. size (400 before reading more than WEBHOOK_MAX_BODY_BYTES),
2. signature over the raw bytes, constant time (403 + a ``security`` log line, nothing stored),
3. UTF-8 JSON object of the platform's shape (400 with the reason),
4. stored verbatim (a duplicate body changes nothing) and acknowledged; a task processes it.
Platforms retry what we do not acknowledge, so the view does nothing slow.
"""

from __future__ import annotations

import hmac
import json
import logging

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from moderation.ingest.webhooks import DeliveryInvalid, delivery_platform, webhook_receive
from moderation.platforms.meta import verify_meta_signature
from moderation.platforms.x import crc_response, verify_x_signature

security_log = logging.getLogger("security")


def _bad(reason: str) -> JsonResponse:
    return JsonResponse({"error": reason}, status=400)


def _client(request) -> str:
    return request.META.get("REMOTE_ADDR", "?")


def _signature_rejected(request, *, source: str, missing: bool, body: bytes) -> HttpResponse:
    """403, nothing stored, and a security log line saying why."""
    security_log.warning(
        "webhook signature rejected source=%s remote=%s reason=%s bytes=%d", source, _client(request),
        "missing" if missing else "mismatch", len(body),
    )
    return HttpResponse("invalid signature", status=403, content_type="text/plain")


def _read_body(request) -> bytes | JsonResponse:
    limit = settings.WEBHOOK_MAX_BODY_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _bad("invalid Content-Length")
    if declared > limit:
        return _bad(f"body too large: the limit is {limit} bytes")
    body = request.read(limit + 1)
    if len(body) > limit:
        return _bad(f"body too large: the limit is {limit} bytes")
    if not body:
        return _bad("empty body")
    return body


def _parse(body: bytes):
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None, "the body is not UTF-8"
    try:
        # strict: raw control characters (a literal NUL byte) inside strings are refused;
        # an escaped \u0000 is valid JSON and is made storable later (audit/text.py).
        return json.loads(text), None
    except ValueError as exc:
        return None, f"malformed JSON: {exc.msg} at position {exc.pos}"


def _store(request, *, source: str, body: bytes):
    payload, error = _parse(body)
    if error:
        return _bad(error)
    try:
        platform = delivery_platform(source, payload)
    except DeliveryInvalid as exc:
        return _bad(str(exc))
    delivery, created = webhook_receive(platform=platform, body=body, headers=dict(request.headers))
    return JsonResponse({"status": "stored" if created else "duplicate", "id": delivery.pk})


@csrf_exempt
@login_not_required
@require_http_methods(["GET", "POST"])
def meta(request):
    if request.method == "GET":
        mode = request.GET.get("hub.mode", "")
        token = request.GET.get("hub.verify_token", "")
        expected = settings.META_VERIFY_TOKEN
        if mode == "subscribe" and expected and hmac.compare_digest(token.encode(), expected.encode()):
            return HttpResponse(request.GET.get("hub.challenge", ""), content_type="text/plain")
        security_log.warning("webhook handshake rejected source=meta remote=%s", _client(request))
        return HttpResponse("verification failed", status=403, content_type="text/plain")
    body = _read_body(request)
    if isinstance(body, HttpResponse):
        return body
    if not verify_meta_signature(body, request.headers.get("X-Hub-Signature-256", "")):
        return _signature_rejected(
            request, source="meta", missing="X-Hub-Signature-256" not in request.headers, body=body
        )
    return _store(request, source="meta", body=body)


@csrf_exempt
@login_not_required
@require_http_methods(["GET", "POST"])
def x(request):
    if request.method == "GET":
        crc_token = request.GET.get("crc_token", "")
        if not crc_token or not settings.X_CONSUMER_SECRET:
            return _bad("crc_token is required")
        return JsonResponse(crc_response(crc_token))
    body = _read_body(request)
    if isinstance(body, HttpResponse):
        return body
    header = request.headers.get("x-twitter-webhooks-signature", "")
    if not verify_x_signature(body, header):
        return _signature_rejected(request, source="x", missing=not header, body=body)
    return _store(request, source="x", body=body)
