"""Verify a Bauhinia company signature with pyca/cryptography alone (no Bauhinia code).

Usage: verify_company_signature.py SIGNATURE_FILE ROOT_PEM [--document-hash HEX]
                                   [--status STATUS_FILE]...

SIGNATURE_FILE holds the JWS JSON general serialization (docs/signing.md, "Company
signatures"); ROOT_PEM the root CA certificate. Checks, for every entry of `signatures`: alg,
typ and signer; the ES256 signature (r || s) over ASCII(protected "." payload) with the key of
x5c[0]; that each certificate of x5c is issued by the next and the last by the root; that every
certificate was valid at signed_at; the document-signing extended key usage; that the company
certificate names the payload's BRN and each person's certificate the approval's signer id;
the order of signatures the payload's type requires; and, if given, the document hash.

With --status (one per signature), each file holds the signed certificate status answer
Bauhinia publishes for a certificate (GET /api/corpid/v1/signing/status/{serial}: a compact JWS,
ES256, typ bauhinia-certificate-status+jws, signed by the issuing CA whose certificate is in its
x5c): the answer's signature and its CA's chain to the root are checked, and a certificate
revoked at or before signed_at, or unknown, makes the signature invalid.

Exit status: 0 valid, 1 invalid (the reason on standard error), 2 usage or unreadable input.
The records behind a signature (the request on record, a delegation's history) are Bauhinia's
to answer (POST /api/corpid/v1/signing/verify).
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
STATUS_TYP = "bauhinia-certificate-status+jws"


class Invalid(Exception):
    pass


def b64url(text):
    if "=" in text:
        raise Invalid("base64url must not be padded")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def serial_number(certificate):
    values = certificate.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
    return values[0].value if values else None


def x5c_chain(header, root, what):
    """The certificates of a protected header's x5c, each issued by the next, the last by the root."""
    chain = [x509.load_der_x509_certificate(base64.b64decode(c, validate=True)) for c in header["x5c"]]
    if not chain:
        raise Invalid(f"{what}: x5c is empty")
    path = chain + [root]
    try:
        for child, parent in zip(path, path[1:]):
            child.verify_directly_issued_by(parent)
    except (ValueError, TypeError, InvalidSignature) as e:
        raise Invalid(f"{what}: the chain does not lead to the root: {e}") from None
    return chain


def check_entry(index, entry, payload_b64, root, at, expected_signer, expected_name):
    header = json.loads(b64url(entry["protected"]))
    if header.get("alg") != "ES256" or header.get("typ") != TYP:
        raise Invalid(f"signature {index}: unexpected header {header!r}")
    if header.get("signer") != expected_signer:
        raise Invalid(f"signature {index}: expected a {expected_signer} signature")
    chain = x5c_chain(header, root, f"signature {index}")
    leaf = chain[0]
    es256_verify(
        leaf.public_key(),
        b64url(entry["signature"]),
        f"{entry['protected']}.{payload_b64}".encode("ascii"),
        f"signature {index} (with its certificate)",
    )
    for certificate in chain + [root]:
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


def es256_verify(key, raw, data, what):
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise Invalid(f"{what}: the key is not ECDSA P-256")
    if len(raw) != 64:
        raise Invalid(f"{what}: an ES256 signature is 64 bytes, not {len(raw)}")
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        key.verify(der, data, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise Invalid(f"{what} does not verify") from None


def check_status(text, root):
    """The payload of a signed status answer whose signature and CA chain check out."""
    parts = text.strip().split(".")
    if len(parts) != 3:
        raise Invalid("a status answer is a compact JWS of three parts")
    header = json.loads(b64url(parts[0]))
    if header.get("alg") != "ES256" or header.get("typ") != STATUS_TYP:
        raise Invalid(f"status answer: unexpected header {header!r}")
    chain = x5c_chain(header, root, "status answer")
    es256_verify(chain[0].public_key(), b64url(parts[2]), f"{parts[0]}.{parts[1]}".encode("ascii"), "status answer")
    return json.loads(b64url(parts[1]))


def check_revocation(leaves, statuses, signed_at):
    by_serial = {}
    for status in statuses:
        by_serial[int(status["serial"], 16)] = status
    for index, leaf in enumerate(leaves):
        status = by_serial.get(leaf.serial_number)
        if status is None:
            raise Invalid(f"signature {index}: no status answer for certificate {leaf.serial_number:X}")
        if status["status"] == "good":
            continue
        if status["status"] == "revoked" and status["revoked_at"] > signed_at:
            continue
        raise Invalid(
            f"signature {index}: certificate {leaf.serial_number:X} is {status['status']}"
            + (f" since {status['revoked_at']}, before signed_at {signed_at}" if status.get("revoked_at") else "")
            + (f" ({status['revocation_reason']})" if status.get("revocation_reason") else "")
        )


def main(argv):
    args = argv[1:]
    document_hash = None
    if "--document-hash" in args:
        i = args.index("--document-hash")
        document_hash = args[i + 1]
        del args[i : i + 2]
    status_files = []
    while "--status" in args:
        i = args.index("--status")
        status_files.append(args[i + 1])
        del args[i : i + 2]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        with open(args[0], encoding="ascii") as f:
            text = f.read()
        with open(args[1], "rb") as f:
            root = x509.load_pem_x509_certificate(f.read())
        status_texts = []
        for name in status_files:
            with open(name, encoding="ascii") as f:
                status_texts.append(f.read())
    except (OSError, ValueError) as e:
        print(f"unreadable input: {e}", file=sys.stderr)
        return 2
    try:
        payload, leaves = verify(text, root, document_hash)
        if status_files:
            statuses = [check_status(t, root) for t in status_texts]
            check_revocation(leaves, statuses, payload["signed_at"])
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
