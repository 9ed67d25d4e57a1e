-- CorpID company signatures (crates/corpid/src/signing): each business's document-signing key
-- (the company "chop") with its certificate from the installation's CA, signing requests from
-- services addressed to a business, and the approvals of its signatories. Private keys are
-- stored only sealed (PKCS#8 DER under the vault, bound to `corpid.key/<id>`); certificates are
-- DER; times are Unix seconds. Every change is written in one transaction with its audit event.

CREATE TABLE corpid_signing_keys (
    id TEXT PRIMARY KEY NOT NULL,
    business_id TEXT NOT NULL REFERENCES corpid_businesses (id),
    -- Upper-case hexadecimal, as `openssl x509 -serial` prints it.
    serial TEXT NOT NULL UNIQUE,
    certificate_der BLOB NOT NULL,
    private_key_sealed BLOB NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
    not_before_s INTEGER NOT NULL,
    not_after_s INTEGER NOT NULL,
    created_at_s INTEGER NOT NULL,
    revoked_at_s INTEGER,
    -- `superseded` (re-keyed), `suspended` or `dissolved` (the business's status moved).
    revocation_reason TEXT CHECK (revocation_reason IN ('superseded', 'suspended', 'dissolved')),
    CHECK ((status = 'revoked') = (revoked_at_s IS NOT NULL)),
    CHECK ((status = 'revoked') = (revocation_reason IS NOT NULL))
) STRICT;

-- At most one key signs for a business at a time.
CREATE UNIQUE INDEX corpid_signing_keys_one_active
    ON corpid_signing_keys (business_id) WHERE status = 'active';

-- A request names the business, never a person: any eligible signatory may approve it.
CREATE TABLE corpid_signing_requests (
    id TEXT PRIMARY KEY NOT NULL,
    client_id TEXT NOT NULL,
    business_id TEXT NOT NULL REFERENCES corpid_businesses (id),
    kind TEXT NOT NULL CHECK (kind IN ('personal', 'corporate', 'integrated')),
    document_name TEXT NOT NULL,
    document_hash BLOB NOT NULL CHECK (length(document_hash) = 32),
    -- Approvals needed: 1 for `personal`; the business's policy when the request was made
    -- otherwise.
    approvals_required INTEGER NOT NULL CHECK (approvals_required IN (1, 2)),
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'expired', 'cancelled')),
    created_at_s INTEGER NOT NULL,
    expires_at_s INTEGER NOT NULL,
    decided_at_s INTEGER,
    decided_by TEXT,
    company_key_id TEXT REFERENCES corpid_signing_keys (id),
    signature TEXT,
    CHECK ((status = 'pending') = (decided_at_s IS NULL)),
    CHECK ((status = 'approved') = (signature IS NOT NULL))
) STRICT;

CREATE INDEX corpid_signing_requests_by_business
    ON corpid_signing_requests (business_id, status, created_at_s);

-- One approval per signatory per request (the same signatory twice is refused by the key).
CREATE TABLE corpid_signing_approvals (
    request_id TEXT NOT NULL REFERENCES corpid_signing_requests (id),
    resident_id TEXT NOT NULL REFERENCES identity_residents (id),
    role TEXT NOT NULL CHECK (role IN ('administrator', 'authorised_signatory')),
    agent_brn TEXT,
    delegation_id TEXT REFERENCES corpid_delegations (id),
    approved_at_s INTEGER NOT NULL,
    PRIMARY KEY (request_id, resident_id),
    CHECK ((agent_brn IS NULL) = (delegation_id IS NULL))
) STRICT, WITHOUT ROWID;
