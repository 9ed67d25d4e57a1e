-- 智方便 passkeys, sign-in sessions, one-time enrolment codes and lockouts. (0005 is kept for
-- the OpenID Provider's tables.)

-- A resident's passkeys. `credential` is the webauthn-rs Passkey (public key, counter, flags) as
-- JSON; `credential_id` the authenticator's id for it, which no two passkeys may share.
CREATE TABLE identity_passkeys (
    id TEXT PRIMARY KEY NOT NULL,
    resident_id TEXT NOT NULL REFERENCES identity_residents (id),
    credential_id BYTEA NOT NULL UNIQUE,
    credential JSONB NOT NULL,
    name TEXT NOT NULL CHECK (char_length(name) BETWEEN 1 AND 64),
    created_at TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ
);

CREATE INDEX identity_passkeys_resident ON identity_passkeys (resident_id, created_at);

-- A WebAuthn ceremony between its start and its finish: the challenge and policy webauthn-rs
-- must check the answer against. Deleted when finished (so it is used at most once) or expired.
CREATE TABLE identity_webauthn_ceremonies (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('enrol', 'register', 'authenticate')),
    resident_id TEXT REFERENCES identity_residents (id),
    state JSONB NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX identity_webauthn_ceremonies_expiry ON identity_webauthn_ceremonies (expires_at);

-- Signed-in sessions. The cookie's token is never stored: only its SHA-256.
CREATE TABLE identity_sessions (
    token_hash BYTEA PRIMARY KEY NOT NULL CHECK (length(token_hash) = 32),
    id TEXT NOT NULL UNIQUE,
    resident_id TEXT NOT NULL REFERENCES identity_residents (id),
    auth_time TIMESTAMPTZ NOT NULL,
    acr TEXT NOT NULL,
    amr JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    ended_at TIMESTAMPTZ
);

CREATE INDEX identity_sessions_expiry ON identity_sessions (expires_at);

-- The one live enrolment code of a resident (a new one replaces it), as a keyed hash.
CREATE TABLE identity_enrolment_codes (
    resident_id TEXT PRIMARY KEY NOT NULL REFERENCES identity_residents (id),
    code_hash BYTEA NOT NULL CHECK (length(code_hash) = 32),
    issued_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at TIMESTAMPTZ
);

-- Failed attempts per resident and scope: enrolment (wrong codes) and login (passkey answers
-- that did not verify). Enough failures lock that scope for a while.
CREATE TABLE identity_lockouts (
    resident_id TEXT NOT NULL REFERENCES identity_residents (id),
    scope TEXT NOT NULL CHECK (scope IN ('enrolment', 'login')),
    failures BIGINT NOT NULL CHECK (failures >= 0),
    locked_until TIMESTAMPTZ,
    PRIMARY KEY (resident_id, scope)
);
