"""Verify a Bauhinia document signature with pyca/cryptography alone (no Bauhinia code).

Usage: verify_signature.py SIGNATURE_FILE ROOT_PEM [--document-hash HEX]

SIGNATURE_FILE holds the compact JWS; ROOT_PEM the root CA certificate (the last certificate of
GET /api/signing/v1/ca.pem). The format is described in docs/signing.md. Checks: alg and typ;
the ES256 signature (r || s) over ASCII(header "." payload) with the key of x5c[0]; that each
certificate of x5c is issued by the next and the last by the root (signatures and names); that
the root is self-signed; that every certificate was within its validity period at signed_at; the
signer certificate's key usage and extended key usage; that the payload's signer is the one the
certificate names; and, if given, the document hash.

Exit status: 0 valid, 1 invalid (the reason on standard error), 2 usage or unreadable input.
The integration tests run this script (scripts/test provides the venv); it is also how a relying
party can check a signature by hand.
"""

import base64
import binascii
import datetime
import json
import sys

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

DOCUMENT_SIGNING = ObjectIdentifier("1.3.6.1.5.5.7.3.36")


class Invalid(Exception):
    pass


def b64url(text):
    if "=" in text:
        raise Invalid("base64url must not be padded")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def check_validity(certificate, at, label):
    if not certificate.not_valid_before_utc <= at <= certificate.not_valid_after_utc:
        raise Invalid(f"{label} certificate was not valid at signed_at {at.isoformat()}")


def verify(jws, root, document_hash=None):
    parts = jws.strip().split(".")
    if len(parts) != 3:
        raise Invalid("a compact JWS has three parts")
    header_b64, payload_b64, signature_b64 = parts
    header = json.loads(b64url(header_b64))
    payload = json.loads(b64url(payload_b64))
    if header.get("alg") != "ES256" or header.get("typ") != "bauhinia-signature+jws":
        raise Invalid(f"unexpected header {header!r}")
    chain = [x509.load_der_x509_certificate(base64.b64decode(c, validate=True)) for c in header["x5c"]]
    if not chain:
        raise Invalid("x5c is empty")
    leaf = chain[0]

    # The signature: raw r || s, 32 bytes each, re-encoded as DER for the library.
    raw = b64url(signature_b64)
    if len(raw) != 64:
        raise Invalid(f"an ES256 signature is 64 bytes, not {len(raw)}")
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    key = leaf.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise Invalid("the signer's key is not ECDSA P-256")
    try:
        key.verify(der, f"{header_b64}.{payload_b64}".encode("ascii"), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise Invalid("the signature does not verify with the signer's certificate") from None

    # The chain: each certificate issued by the next, the last by the root.
    path = chain + [root]
    try:
        for child, parent in zip(path, path[1:]):
            child.verify_directly_issued_by(parent)
        root.verify_directly_issued_by(root)
    except (InvalidSignature, ValueError, TypeError) as e:
        raise Invalid(f"the certificate chain does not lead to the root: {e}") from None
    for issuer in path[1:]:
        constraints = issuer.extensions.get_extension_for_class(x509.BasicConstraints).value
        if not constraints.ca:
            raise Invalid(f"{issuer.subject.rfc4514_string()} is not a CA")

    # Validity at the time of signing.
    signed_at = datetime.datetime.fromtimestamp(payload["signed_at"], tz=datetime.timezone.utc)
    for i, certificate in enumerate(path):
        check_validity(certificate, signed_at, f"chain[{i}]")

    # What the signer's certificate may do.
    usage = leaf.extensions.get_extension_for_class(x509.KeyUsage)
    if not (usage.critical and usage.value.digital_signature and usage.value.content_commitment):
        raise Invalid("the signer's certificate lacks digitalSignature + nonRepudiation")
    purposes = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    if DOCUMENT_SIGNING not in purposes or ExtendedKeyUsageOID.SERVER_AUTH in purposes:
        raise Invalid("the signer's certificate is not for document signing")

    names = leaf.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
    if [n.value for n in names] != [payload.get("signer")]:
        raise Invalid("the payload's signer is not the one the certificate names")
    if payload.get("hash_alg") != "sha256":
        raise Invalid("hash_alg is not sha256")
    if document_hash is not None and payload["document_hash"] != document_hash.lower():
        raise Invalid("the signed document hash is not the given one")
    return leaf, payload


def main(argv):
    args = argv[1:]
    document_hash = None
    if len(args) == 4 and args[2] == "--document-hash":
        document_hash = args[3]
        args = args[:2]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        with open(args[0], encoding="ascii") as f:
            jws = f.read()
        with open(args[1], "rb") as f:
            root = x509.load_pem_x509_certificate(f.read())
    except (OSError, ValueError) as e:
        print(f"cannot read input: {e}", file=sys.stderr)
        return 2
    try:
        leaf, payload = verify(jws, root, document_hash)
    except Invalid as e:
        print(f"INVALID: {e}", file=sys.stderr)
        return 1
    except (ValueError, KeyError, TypeError, binascii.Error, x509.ExtensionNotFound) as e:
        print(f"INVALID: malformed signature: {e!r}", file=sys.stderr)
        return 1
    print(
        f"VALID: {leaf.subject.rfc4514_string()} signed {payload['document_name']!r} "
        f"(sha256 {payload['document_hash']}) at {payload['signed_at']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
