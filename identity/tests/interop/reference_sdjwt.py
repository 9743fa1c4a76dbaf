"""Cross-check with the IETF SD-JWT reference implementation (PyPI `sd-jwt` 0.10.4, the
library that generated the drafts' examples), which this crate shares no code with.

  python3 reference_sdjwt.py issue > ../fixtures/reference_presentation.json
      The reference issues an EdDSA SD-JWT (fixed keys: Ed25519 seeds of 32 bytes 0x01 for the
      issuer, 0x02 for the holder) and presents three claims with key binding; the Rust test
      `interop::reference_presentation_verifies` checks the saved output.
  cargo run -p identity --example present | python3 reference_sdjwt.py verify
      The reference verifies a presentation made by this crate and prints what it disclosed.

Needs: pip install sd-jwt==0.10.4 (it brings jwcrypto).
"""

import base64
import json
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from jwcrypto.jwk import JWK
from sd_jwt.common import SDObj
from sd_jwt.holder import SDJWTHolder
from sd_jwt.issuer import SDJWTIssuer
import sd_jwt.verifier
from sd_jwt.verifier import SDJWTVerifier

ISS = "did:cypher:SanM6HZNLWJLUCcGZpBczR"
KID = ISS + "#key-1"
AUD = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
NONCE = "n-0S6_WzA2Mj"


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def key(seed_byte):
    private = Ed25519PrivateKey.from_private_bytes(bytes([seed_byte]) * 32)
    x = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    d = bytes([seed_byte]) * 32
    return JWK(kty="OKP", crv="Ed25519", x=b64(x), d=b64(d))


def issue():
    issuer_key, holder_key = key(1), key(2)
    claims = {
        "iss": ISS,
        "iat": 1796083200,
        "exp": 1796083200 + 365 * 86400,
        "vct": "https://cypherlink.example/kyc/v1",
        SDObj("given_name"): "Erika",
        SDObj("age_over_18"): True,
        "address": {SDObj("locality"): "Berlin", SDObj("country"): "DE"},
        "nationalities": [SDObj("DE"), SDObj("FR")],
    }
    issuer = SDJWTIssuer(
        claims,
        issuer_key,
        holder_key,
        sign_alg="EdDSA",
        add_decoy_claims=True,
        extra_header_parameters={"typ": "dc+sd-jwt", "kid": KID},
    )
    holder = SDJWTHolder(issuer.sd_jwt_issuance)
    holder.create_presentation(
        {"age_over_18": True, "address": {"country": True}, "nationalities": [False, True]},
        nonce=NONCE,
        aud=AUD,
        holder_key=holder_key,
        sign_alg="EdDSA",
    )
    print(json.dumps({"issuance": issuer.sd_jwt_issuance, "presentation": holder.sd_jwt_presentation}, indent=1))


def verify():
    presentation = sys.stdin.read().strip()
    issuer_key = key(1)
    public = JWK.from_json(issuer_key.export_public())
    # sd-jwt 0.10.4's verifier checks the key binding JWT with its default algorithm (ES256)
    # whatever the caller wants; point that default at EdDSA.
    sd_jwt.verifier.DEFAULT_SIGNING_ALG = "EdDSA"
    verifier = SDJWTVerifier(presentation, lambda iss, header: public, expected_aud=AUD, expected_nonce=NONCE)
    print(json.dumps(verifier.get_verified_payload(), indent=1, sort_keys=True))


if __name__ == "__main__":
    {"issue": issue, "verify": verify}[sys.argv[1]]()
