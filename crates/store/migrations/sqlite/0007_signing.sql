-- 智方便 digital signing. Private keys are stored only sealed (PKCS#8 DER encrypted with
-- XChaCha20-Poly1305 under a key derived from the master key, bound to `signing.ca/<id>` or
-- `signing.key/<id>`); certificates are DER. Times are Unix seconds.

-- The installation's certificate authority: one root and one issuing CA signed by it.
CREATE TABLE signing_authorities (
    id TEXT PRIMARY KEY NOT NULL,
    role TEXT NOT NULL UNIQUE CHECK (role IN ('root', 'issuing')),
    certificate_der BLOB NOT NULL,
    private_key_sealed BLOB NOT NULL,
    created_at_s INTEGER NOT NULL
) STRICT;

-- Residents' signing keys and certificates. At most one active key per resident; enrolling
-- again revokes the previous one in the same transaction.
CREATE TABLE signing_keys (
    id TEXT PRIMARY KEY NOT NULL,
    resident_id TEXT NOT NULL REFERENCES identity_residents (id),
    serial TEXT NOT NULL UNIQUE,
    certificate_der BLOB NOT NULL,
    private_key_sealed BLOB NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
    not_before_s INTEGER NOT NULL,
    not_after_s INTEGER NOT NULL,
    created_at_s INTEGER NOT NULL,
    revoked_at_s INTEGER,
    CHECK ((status = 'revoked') = (revoked_at_s IS NOT NULL))
) STRICT;

CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (resident_id) WHERE status = 'active';

-- Document-hash signing requests from services. A request names its resident, or (anonymous
-- signing) carries the keyed lookup hash of the signer's HKID, never both. Only a pending
-- request changes, once.
CREATE TABLE signing_requests (
    id TEXT PRIMARY KEY NOT NULL,
    client_id TEXT NOT NULL,
    resident_id TEXT REFERENCES identity_residents (id),
    hkid_lookup BLOB CHECK (hkid_lookup IS NULL OR length(hkid_lookup) = 32),
    document_name TEXT NOT NULL,
    document_hash BLOB NOT NULL CHECK (length(document_hash) = 32),
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'expired', 'cancelled')),
    created_at_s INTEGER NOT NULL,
    expires_at_s INTEGER NOT NULL,
    decided_at_s INTEGER,
    decided_by TEXT REFERENCES identity_residents (id),
    signing_key_id TEXT REFERENCES signing_keys (id),
    signature TEXT,
    CHECK ((resident_id IS NULL) <> (hkid_lookup IS NULL)),
    CHECK ((status = 'pending') = (decided_at_s IS NULL)),
    CHECK ((status = 'approved') = (signature IS NOT NULL AND signing_key_id IS NOT NULL))
) STRICT;

CREATE INDEX signing_requests_resident ON signing_requests (resident_id, status);
CREATE INDEX signing_requests_hkid ON signing_requests (hkid_lookup, status);
