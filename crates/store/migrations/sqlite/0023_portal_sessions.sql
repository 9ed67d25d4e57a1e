-- The portal as a relying party of the built-in OpenID Provider (the owner's pages of the
-- consented data exchange, /exchange): logins under way and the portal's own sessions.
-- Times are Unix seconds. No bearer secret is stored: the login's state and the session's
-- token only as SHA-256, the PKCE verifier only sealed by the vault.

-- A login between the redirect to /oauth2/authorize and the callback. Deleted when the
-- callback takes it (so a state is used at most once) or when it has expired.
CREATE TABLE portal_logins (
    state_hash BLOB PRIMARY KEY NOT NULL CHECK (length(state_hash) = 32),
    nonce TEXT NOT NULL,
    verifier_sealed BLOB NOT NULL,
    next TEXT NOT NULL,
    created_at_s INTEGER NOT NULL,
    expires_at_s INTEGER NOT NULL
) STRICT;

CREATE INDEX portal_logins_expiry ON portal_logins (expires_at_s);

-- Signed-in portal sessions: an idle timeout (last_seen_at_s) and an absolute one
-- (expires_at_s); ended_at_s once the resident signs out.
CREATE TABLE portal_sessions (
    token_hash BLOB PRIMARY KEY NOT NULL CHECK (length(token_hash) = 32),
    id TEXT NOT NULL UNIQUE,
    resident_id TEXT NOT NULL REFERENCES identity_residents (id),
    created_at_s INTEGER NOT NULL,
    last_seen_at_s INTEGER NOT NULL,
    expires_at_s INTEGER NOT NULL,
    ended_at_s INTEGER
) STRICT;

CREATE INDEX portal_sessions_expiry ON portal_sessions (expires_at_s);
