"""An independent implementation of the exchange's data-blind envelope and detached JWS, with
nothing but Python's `cryptography` package, written from docs/exchange-encryption.md.

Reads one JSON object on stdin and writes one on stdout:

  {"open": [case, ...]}  each case: consumer_secret, consumer_nonce, aad (base64url), envelope
                         (the JSON text), signature (the detached JWS), jwk (the signer's public
                         JWK), request_jti. Verifies the signature over the envelope's bytes,
                         then decrypts. Answers {"open": [{"ok": true, "plaintext": b64} |
                         {"ok": false, "error": "..."}, ...]}.
  {"seal": case}         case: consumer (the key material JSON text), aad, plaintext (base64url),
                         request_jti, and optionally provider_secret and provider_nonce (else
                         random). Encrypts to the consumer, signs the envelope with a fresh P-256
                         key, answers {"envelope": text, "signature": value, "jwk": {...}}.
"""

import base64
import json
import os
import struct
import sys
import time

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.hazmat.primitives.asymmetric.x25519 import (
    X25519PrivateKey,
    X25519PublicKey,
)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SCHEME = "X25519-HKDF-SHA256-A256GCM"
HKDF_INFO = b"bauhinia-exchange/v1 aes-256-gcm key"
MAX_SKEW_S = 300


class Refused(Exception):
    pass


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64(text: str) -> bytes:
    if "=" in text:
        raise Refused("padded base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def key_and_iv(secret: X25519PrivateKey, own_nonce: bytes, peer_key: bytes, peer_nonce: bytes):
    shared = secret.exchange(X25519PublicKey.from_public_bytes(peer_key))
    if shared == bytes(32):
        raise Refused("low-order key")
    xor = bytes(a ^ b for a, b in zip(own_nonce, peer_nonce))
    key = HKDF(hashes.SHA256(), 32, xor[:20], HKDF_INFO).derive(shared)
    return AESGCM(key), xor[20:]


def material(text: str, members: set) -> dict:
    value = json.loads(text)
    if set(value) != members or value["version"] != 1 or value["scheme"] != SCHEME:
        raise Refused("not a version 1 " + SCHEME + " object")
    return value


def verify_detached(value: str, body: bytes, jwk: dict, request_jti: str) -> dict:
    header_b64, empty, signature_b64 = value.split(".")
    if empty != "":
        raise Refused("not a detached JWS")
    header = json.loads(unb64(header_b64))
    if header.get("alg") != "ES256" or "crit" in header:
        raise Refused("not ES256")
    if header.get("kid") != jwk["kid"] or header.get("irt") != request_jti:
        raise Refused("another key or request")
    if abs(header["iat"] - time.time()) > MAX_SKEW_S:
        raise Refused("stale")
    es256_verify(jwk, header_b64, body, signature_b64)
    return header


def es256_verify(jwk: dict, header_b64: str, body: bytes, signature_b64: str) -> None:
    """The JWS signature (raw r || s) over `header_b64 '.' BASE64URL(body)` with a P-256 JWK."""
    raw = unb64(signature_b64)
    if len(raw) != 64:
        raise Refused("an ES256 signature is 64 bytes")
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    public = ec.EllipticCurvePublicNumbers(
        int.from_bytes(unb64(jwk["x"]), "big"), int.from_bytes(unb64(jwk["y"]), "big"), ec.SECP256R1()
    ).public_key()
    signing_input = (header_b64 + "." + b64(body)).encode("ascii")
    try:
        public.verify(der, signing_input, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise Refused("the signature does not verify")


def verify_webhook(case: dict) -> dict:
    """A notification as docs/exchange-webhooks.md says to check it, with the published JWKS."""
    try:
        header_b64, empty, signature_b64 = case["signature"].split(".")
        if empty != "":
            raise Refused("not a detached JWS")
        header = json.loads(unb64(header_b64))
        if set(header) != {"alg", "kid", "iat", "jti", "htm", "htu"} or header["alg"] != "ES256":
            raise Refused("not the webhook header")
        keys = [k for k in case["jwks"]["keys"] if k.get("kid") == header["kid"]]
        if len(keys) != 1:
            raise Refused("no published key has this kid")
        if abs(header["iat"] - time.time()) > MAX_SKEW_S:
            raise Refused("stale")
        body = unb64(case["body"])
        es256_verify(keys[0], header_b64, body, signature_b64)
        if header["htm"] != "POST" or header["htu"] != case["path"]:
            raise Refused("bound to another endpoint")
        event = json.loads(body)
        if set(event) != {"id", "type", "participant", "consent", "status", "occurred_at"}:
            raise Refused("not a notification")
        return {"ok": True, "id": event["id"], "type": event["type"]}
    except (Refused, ValueError, KeyError) as e:
        return {"ok": False, "error": str(e)}


def open_case(case: dict) -> dict:
    try:
        body = case["envelope"].encode("utf-8")
        verify_detached(case["signature"], body, case["jwk"], case["request_jti"])
        envelope = material(case["envelope"], {"version", "scheme", "key", "nonce", "ciphertext"})
        consumer = X25519PrivateKey.from_private_bytes(unb64(case["consumer_secret"]))
        aead, iv = key_and_iv(
            consumer, unb64(case["consumer_nonce"]), unb64(envelope["key"]), unb64(envelope["nonce"])
        )
        try:
            plaintext = aead.decrypt(iv, unb64(envelope["ciphertext"]), unb64(case["aad"]))
        except InvalidTag:
            raise Refused("the envelope does not decrypt")
        return {"ok": True, "plaintext": b64(plaintext)}
    except (Refused, ValueError, KeyError) as e:
        return {"ok": False, "error": str(e)}


def seal_case(case: dict) -> dict:
    consumer = material(case["consumer"], {"version", "scheme", "key", "nonce"})
    if "provider_secret" in case:
        provider = X25519PrivateKey.from_private_bytes(unb64(case["provider_secret"]))
        nonce = unb64(case["provider_nonce"])
    else:
        provider, nonce = X25519PrivateKey.generate(), os.urandom(32)
    aead, iv = key_and_iv(provider, nonce, unb64(consumer["key"]), unb64(consumer["nonce"]))
    ciphertext = aead.encrypt(iv, unb64(case["plaintext"]), unb64(case["aad"]))
    public = provider.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    envelope = json.dumps(
        {"version": 1, "scheme": SCHEME, "key": b64(public), "nonce": b64(nonce), "ciphertext": b64(ciphertext)},
        separators=(",", ":"),
    )
    signer = ec.generate_private_key(ec.SECP256R1())
    numbers = signer.public_key().public_numbers()
    jwk = {
        "kty": "EC",
        "crv": "P-256",
        "x": b64(numbers.x.to_bytes(32, "big")),
        "y": b64(numbers.y.to_bytes(32, "big")),
        "kid": "python-provider",
    }
    header = {"alg": "ES256", "kid": jwk["kid"], "iat": int(time.time()), "jti": b64(os.urandom(16)),
              "irt": case["request_jti"]}
    header_b64 = b64(json.dumps(header, separators=(",", ":")).encode("utf-8"))
    der = signer.sign((header_b64 + "." + b64(envelope.encode("utf-8"))).encode("ascii"), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    signature = header_b64 + ".." + b64(r.to_bytes(32, "big") + s.to_bytes(32, "big"))
    return {"envelope": envelope, "signature": signature, "jwk": jwk}


def main() -> None:
    request = json.load(sys.stdin)
    if "open" in request:
        answer = {"open": [open_case(case) for case in request["open"]]}
    elif "webhook" in request:
        answer = {"webhook": [verify_webhook(case) for case in request["webhook"]]}
    else:
        answer = seal_case(request["seal"])
    json.dump(answer, sys.stdout)


if __name__ == "__main__":
    main()
