"""Schemathesis hooks for tests/openapi.rs: signs every request with CypherLink's
CL1-HMAC-SHA256 scheme (plugins/src/auth/mod.rs), so the fuzzer reaches the success paths of
the ledger API and the anchoring API instead of stopping at their 401.

The test loads this file through SCHEMATHESIS_HOOKS and passes the test key in
CYPHERLINK_SIGN_KEY_ID and CYPHERLINK_SIGN_SECRET; without them requests go unsigned (the
services that take no signature). With CYPHERLINK_OPENAPI_ANSWERS set, every answer's
operation and status is appended to that file (`GET /v1/items/{id}/certificate 202`), so the
test can see that the signed operations were answered past their 401.

Why a requests auth object rather than headers set on the case: schemathesis serializes the
case's body only when it sends it. A `before_call` hook may add transport arguments, and
`requests` calls an `auth` object on the prepared request after the body is encoded, with the
path and query as the request line will carry them. The signature is computed over those
bytes, and the body is left as exactly those bytes, so what is signed is what is sent.
"""

import hashlib
import hmac
import os
import secrets
import time

import requests
import schemathesis

ANSWERS = os.environ.get("CYPHERLINK_OPENAPI_ANSWERS", "")
KEY_ID = os.environ.get("CYPHERLINK_SIGN_KEY_ID", "")
SECRET = os.environ.get("CYPHERLINK_SIGN_SECRET", "")
SCHEME = "CL1-HMAC-SHA256"


def body_bytes(body):
    """The bytes `requests` will send for a prepared body."""
    if body is None:
        return b""
    if isinstance(body, (bytes, bytearray)):
        return bytes(body)
    if isinstance(body, str):
        return body.encode("utf-8")
    if hasattr(body, "read"):
        return body_bytes(body.read())
    # A generator or other iterable of chunks (sent chunked otherwise).
    return b"".join(body_bytes(chunk) for chunk in body)


class Cl1Signature(requests.auth.AuthBase):
    """Signs a prepared request: method, path with query as sent, timestamp, a fresh nonce and
    the SHA-256 of the body bytes."""

    def __init__(self, key_id, secret):
        self.key_id = key_id
        self.secret = secret.encode("utf-8")

    def __call__(self, request):
        body = body_bytes(request.body)
        # Send exactly the bytes that are hashed, with their length (requests recomputes
        # Content-Length after the auth step; a chunked body becomes a sized one).
        if request.body is not None:
            request.body = body
        request.headers.pop("Transfer-Encoding", None)
        timestamp = str(int(time.time()))
        nonce = secrets.token_hex(16)
        canonical = "\n".join(
            [
                SCHEME,
                request.method.upper(),
                request.path_url,
                timestamp,
                nonce,
                hashlib.sha256(body).hexdigest(),
            ]
        )
        signature = hmac.new(self.secret, canonical.encode("utf-8"), hashlib.sha256).hexdigest()
        request.headers["CypherLink-Key-Id"] = self.key_id
        request.headers["CypherLink-Timestamp"] = timestamp
        request.headers["CypherLink-Nonce"] = nonce
        request.headers["CypherLink-Signature"] = signature
        return request


@schemathesis.hook
def before_call(context, case, kwargs):
    """Every request of the run is signed, whatever its generated signature headers were."""
    if KEY_ID and SECRET:
        kwargs["auth"] = Cl1Signature(KEY_ID, SECRET)


@schemathesis.hook
def after_call(context, case, response):
    """Records which operation got which status."""
    if ANSWERS:
        with open(ANSWERS, "a", encoding="utf-8") as answers:
            answers.write(f"{case.operation.label} {response.status_code}\n")
