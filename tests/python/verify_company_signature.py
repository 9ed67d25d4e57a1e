"""Verify a Bauhinia company signature with pyca/cryptography alone (no Bauhinia code).

Usage: verify_company_signature.py SIGNATURE_FILE ROOT_PEM [--document-hash HEX]

SIGNATURE_FILE holds the JWS JSON general serialization (docs/signing.md, "Company
signatures"); ROOT_PEM the root CA certificate. Checks, for every entry of `signatures`: alg,
typ and signer; the ES256 signature (r || s) over ASCII(protected "." payload) with the key of
x5c[0]; that each certificate of x5c is issued by the next and the last by the root; that every
certificate was valid at signed_at; the document-signing extended key usage; that the company
certificate names the payload's BRN and each person's certificate the approval's signer id;
the order of signatures the payload's type requires; and, if given, the document hash.

Exit status: 0 valid, 1 invalid (the reason on standard error), 2 usage or unreadable input.
Revocation and the records behind a signature are Bauhinia's to answer
(POST /api/corpid/v1/signing/verify, GET /api/corpid/v1/signing/status/{serial}).
"""

import base64
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
TYP = "bauhinia-corpid-signature+jws"


class Invalid(Exception):
    pass


def b64url(text):
    if "=" in text:
        raise Invalid("base64url must not be padded")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def serial_number(certificate):
    values = certificate.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
    return values[0].value if values else None


def check_entry(index, entry, payload_b64, root, at, expected_signer, expected_name):
    header = json.loads(b64url(entry["protected"]))
    if header.get("alg") != "ES256" or header.get("typ") != TYP:
        raise Invalid(f"signature {index}: unexpected header {header!r}")
    if header.get("signer") != expected_signer:
        raise Invalid(f"signature {index}: expected a {expected_signer} signature")
    chain = [x509.load_der_x509_certificate(base64.b64decode(c, validate=True)) for c in header["x5c"]]
    if not chain:
        raise Invalid(f"signature {index}: x5c is empty")
    leaf = chain[0]
    raw = b64url(entry["signature"])
    if len(raw) != 64:
        raise Invalid(f"signature {index}: an ES256 signature is 64 bytes, not {len(raw)}")
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    key = leaf.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise Invalid(f"signature {index}: the key is not ECDSA P-256")
    try:
        key.verify(der, f"{entry['protected']}.{payload_b64}".encode("ascii"), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise Invalid(f"signature {index} does not verify with its certificate") from None
    path = chain + [root]
    try:
        for child, parent in zip(path, path[1:]):
            child.verify_directly_issued_by(parent)
    except (ValueError, TypeError, InvalidSignature) as e:
        raise Invalid(f"signature {index}: the chain does not lead to the root: {e}") from None
    for certificate in path:
        if not certificate.not_valid_before_utc <= at <= certificate.not_valid_after_utc:
            raise Invalid(f"signature {index}: a certificate was not valid at signed_at")
    usages = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    if DOCUMENT_SIGNING not in usages:
        raise Invalid(f"signature {index}: the certificate is not for document signing")
    if serial_number(leaf) != expected_name:
        raise Invalid(f"signature {index}: the certificate names {serial_number(leaf)!r}, not {expected_name!r}")
    return leaf


def verify(text, root, document_hash=None):
    general = json.loads(text)
    if set(general) != {"payload", "signatures"}:
        raise Invalid("not the JWS JSON general serialization")
    payload = json.loads(b64url(general["payload"]))
    at = datetime.datetime.fromtimestamp(payload["signed_at"], datetime.timezone.utc)
    kind = payload["type"]
    approvals = payload["approvals"]
    expected = []
    if kind in ("personal", "integrated"):
        expected += [("person", a["signer"]) for a in approvals]
    if kind in ("corporate", "integrated"):
        expected.append(("company", payload["business"]["brn"]))
    if len(general["signatures"]) != len(expected):
        raise Invalid(f"a {kind} signature holds {len(expected)} signatures")
    leaves = [
        check_entry(i, entry, general["payload"], root, at, signer, name)
        for i, (entry, (signer, name)) in enumerate(zip(general["signatures"], expected))
    ]
    if document_hash is not None and payload["document_hash"] != document_hash.lower():
        raise Invalid("the signed document hash is not the one given")
    return payload, leaves


def main(argv):
    args = argv[1:]
    document_hash = None
    if "--document-hash" in args:
        i = args.index("--document-hash")
        document_hash = args[i + 1]
        del args[i : i + 2]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        with open(args[0], encoding="ascii") as f:
            text = f.read()
        with open(args[1], "rb") as f:
            root = x509.load_pem_x509_certificate(f.read())
    except (OSError, ValueError) as e:
        print(f"unreadable input: {e}", file=sys.stderr)
        return 2
    try:
        payload, leaves = verify(text, root, document_hash)
    except Invalid as e:
        print(f"INVALID: {e}", file=sys.stderr)
        return 1
    except (ValueError, KeyError, TypeError) as e:
        print(f"INVALID: malformed signature: {e}", file=sys.stderr)
        return 1
    subjects = "; ".join(leaf.subject.rfc4514_string() for leaf in leaves)
    print(
        f"VALID: {payload['type']} signature for {payload['business']['brn']} "
        f"{payload['business']['name_en']!r} on {payload['document_name']!r} "
        f"(sha256 {payload['document_hash']}) at {payload['signed_at']} by {subjects}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
