-- 智方便 passkeys, sign-in sessions, one-time enrolment codes and lockouts. (0005 is kept for
-- the OpenID Provider's tables.) Times are UTC text in one fixed-width format,
-- 'YYYY-MM-DDTHH:MM:SS.mmmZ', so comparing two of them as text compares the instants.

-- A resident's passkeys. `credential` is the webauthn-rs Passkey (public key, counter, flags) as
-- JSON; `credential_id` the authenticator's id for it, which no two passkeys may share.
CREATE TABLE identity_passkeys (
    id TEXT PRIMARY KEY NOT NULL,
    resident_id TEXT NOT NULL REFERENCES identity_residents (id),
    credential_id BLOB NOT NULL UNIQUE,
    credential TEXT NOT NULL CHECK (json_valid(credential)),
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    created_at TEXT NOT NULL,
    last_used_at TEXT
) STRICT;

CREATE INDEX identity_passkeys_resident ON identity_passkeys (resident_id, created_at);

-- A WebAuthn ceremony between its start and its finish: the challenge and policy webauthn-rs
-- must check the answer against. Deleted when finished (so it is used at most once) or expired.
CREATE TABLE identity_webauthn_ceremonies (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('enrol', 'register', 'authenticate')),
    resident_id TEXT REFERENCES identity_residents (id),
    state TEXT NOT NULL CHECK (json_valid(state)),
    expires_at TEXT NOT NULL
) STRICT;

CREATE INDEX identity_webauthn_ceremonies_expiry ON identity_webauthn_ceremonies (expires_at);

-- Signed-in sessions. The cookie's token is never stored: only its SHA-256.
CREATE TABLE identity_sessions (
    token_hash BLOB PRIMARY KEY NOT NULL CHECK (length(token_hash) = 32),
    id TEXT NOT NULL UNIQUE,
    resident_id TEXT NOT NULL REFERENCES identity_residents (id),
    auth_time TEXT NOT NULL,
    acr TEXT NOT NULL,
    amr TEXT NOT NULL CHECK (json_valid(amr)),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    ended_at TEXT
) STRICT;

CREATE INDEX identity_sessions_expiry ON identity_sessions (expires_at);

-- The one live enrolment code of a resident (a new one replaces it), as a keyed hash.
CREATE TABLE identity_enrolment_codes (
    resident_id TEXT PRIMARY KEY NOT NULL REFERENCES identity_residents (id),
    code_hash BLOB NOT NULL CHECK (length(code_hash) = 32),
    issued_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT
) STRICT;

-- Failed attempts per resident and scope: enrolment (wrong codes) and login (passkey answers
-- that did not verify). Enough failures lock that scope for a while.
CREATE TABLE identity_lockouts (
    resident_id TEXT NOT NULL REFERENCES identity_residents (id),
    scope TEXT NOT NULL CHECK (scope IN ('enrolment', 'login')),
    failures INTEGER NOT NULL CHECK (failures >= 0),
    locked_until TEXT,
    PRIMARY KEY (resident_id, scope)
) STRICT;
