-- Consented data exchange: the gateway's own signing keys and the request ids it has seen.
-- Times are Unix seconds.

-- The gateway's ES256 signing keys (consent artefacts, audit checkpoints). The private key is
-- stored only sealed (PKCS#8 DER, XChaCha20-Poly1305 under a key derived from the master key,
-- bound to `exchange.signing_key/<kid>`). At most one key is active; a rotation retires the
-- previous one, which stays published (and verifying) until expires_at_s.
CREATE TABLE exchange_keys (
    kid TEXT PRIMARY KEY NOT NULL,
    public_jwk TEXT NOT NULL,
    private_sealed BYTEA NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'retired')),
    created_at_s BIGINT NOT NULL,
    retired_at_s BIGINT,
    expires_at_s BIGINT,
    CHECK ((status = 'retired') = (retired_at_s IS NOT NULL AND expires_at_s IS NOT NULL))
);

CREATE UNIQUE INDEX exchange_keys_one_active ON exchange_keys (status) WHERE status = 'active';

-- Replay protection: every (key id, request id) of a signed request between participants,
-- kept until its signature's iat window has passed (after which the request is refused as
-- stale anyway, and the row is purged).
CREATE TABLE exchange_seen_requests (
    kid TEXT NOT NULL,
    jti TEXT NOT NULL,
    expires_at_s BIGINT NOT NULL,
    PRIMARY KEY (kid, jti)
);

CREATE INDEX exchange_seen_requests_expiry ON exchange_seen_requests (expires_at_s);
