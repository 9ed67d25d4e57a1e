-- The FPS addressing service (crates/fps/src/proxy): proxies — a mobile number, an email
-- address, an FPS ID or an HKID — registered by a participant for one of its customers,
-- pointing to one account at that participant.
--
-- No proxy is stored in clear: `key_hash` is a keyed hash (HMAC with a key derived from the
-- master key) of the proxy's kind and canonical text, so the table does not tell who is
-- registered. The participant's account reference is sealed (XChaCha20-Poly1305, bound to the
-- key hash and participant). Of the owner's name only the mask a lookup shows is kept.
--
-- A key has at most one registration per participant and at most one default (the one a
-- lookup answers). An FPS ID's row is never deleted: removal marks it `removed` and it stays
-- the default of its key, so the system never issues that ID again.
CREATE TABLE fps_proxies (
    seq BIGSERIAL PRIMARY KEY,
    key_hash BYTEA NOT NULL CHECK (length(key_hash) = 32),
    kind TEXT NOT NULL CHECK (kind IN ('mobile', 'email', 'fps_id', 'hkid')),
    participant TEXT NOT NULL REFERENCES fps_participants (code),
    account_sealed BYTEA NOT NULL,
    masked_name TEXT NOT NULL,
    is_default BIGINT NOT NULL CHECK (is_default IN (0, 1)),
    status TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'removed')),
    consent_at_s BIGINT NOT NULL,
    consent_version TEXT NOT NULL,
    consent_channel TEXT NOT NULL,
    created_at_s BIGINT NOT NULL,
    updated_at_s BIGINT NOT NULL
);

CREATE UNIQUE INDEX fps_proxies_key ON fps_proxies (key_hash, participant);
CREATE UNIQUE INDEX fps_proxies_default ON fps_proxies (key_hash) WHERE is_default = 1;
