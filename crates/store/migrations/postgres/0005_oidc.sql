-- 智方便 as an OpenID Provider. Portable types only (see store::dialect): times are Unix
-- seconds, JSON is TEXT. Secrets (codes, tokens, client secrets, request URIs, browser binding
-- cookies) are stored only as SHA-256 or keyed hashes; private keys only sealed.

-- The ID-token signing keys. One active key per algorithm; a retired key stays published in
-- the JWKS until `expires_at`, so tokens it signed keep verifying.
CREATE TABLE identity_signing_keys (
    kid TEXT PRIMARY KEY NOT NULL,
    alg TEXT NOT NULL CHECK (alg IN ('ES256', 'PS256', 'RS256')),
    private_sealed BYTEA NOT NULL,
    public_jwk TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    retired_at BIGINT,
    expires_at BIGINT
);

-- Services (relying parties). `registration` is the validated registration document.
CREATE TABLE identity_clients (
    client_id TEXT PRIMARY KEY NOT NULL,
    profile TEXT NOT NULL CHECK (profile IN ('basic', 'fapi2')),
    registration TEXT NOT NULL,
    secret_hash BYTEA,
    status TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Pushed authorization requests (RFC 9126): single use, short-lived.
CREATE TABLE identity_par (
    request_uri_hash BYTEA PRIMARY KEY NOT NULL,
    client_id TEXT NOT NULL,
    params TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);

-- An authorization request between /authorize and the redirect back: waiting for login and
-- consent, on this device or in the app (cross-device). Bound to the browser that opened it.
CREATE TABLE identity_interactions (
    id TEXT PRIMARY KEY NOT NULL,
    browser_hash BYTEA NOT NULL,
    client_id TEXT NOT NULL,
    request TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'cancelled', 'completed')),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    resident_id TEXT,
    decision TEXT,
    decided_at BIGINT
);

-- What a resident granted a service: the family of every code and token issued from it.
CREATE TABLE identity_grants (
    id TEXT PRIMARY KEY NOT NULL,
    resident_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    consent_id TEXT,
    scope TEXT NOT NULL,
    claims TEXT NOT NULL,
    auth_time BIGINT NOT NULL,
    acr TEXT NOT NULL,
    amr TEXT NOT NULL,
    session_id TEXT,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT,
    revoked_reason TEXT
);
CREATE INDEX identity_grants_resident ON identity_grants (resident_id);

CREATE TABLE identity_codes (
    code_hash BYTEA PRIMARY KEY NOT NULL,
    grant_id TEXT NOT NULL REFERENCES identity_grants (id),
    client_id TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    nonce TEXT,
    dpop_jkt TEXT,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);

-- Access and refresh tokens. A refresh token is used once (rotation); presenting a used one
-- revokes its grant.
CREATE TABLE identity_tokens (
    token_hash BYTEA PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
    grant_id TEXT NOT NULL REFERENCES identity_grants (id),
    client_id TEXT NOT NULL,
    jkt TEXT,
    scope TEXT NOT NULL,
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX identity_tokens_grant ON identity_tokens (grant_id);

-- Seen JWT ids (client assertions, DPoP proofs), kept until they expire: a replay is a
-- primary-key conflict.
CREATE TABLE identity_jti (
    scope TEXT NOT NULL,
    jti TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (scope, jti)
);
CREATE INDEX identity_jti_expiry ON identity_jti (expires_at);

-- Consent receipts: what a resident released to which service, for what purpose; revocable.
CREATE TABLE identity_consents (
    id TEXT PRIMARY KEY NOT NULL,
    resident_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    fields TEXT NOT NULL,
    purpose TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX identity_consents_resident ON identity_consents (resident_id, client_id);
