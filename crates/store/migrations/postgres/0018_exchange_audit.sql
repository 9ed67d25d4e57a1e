-- The consented data exchange's tamper-evident audit chain (crates/exchange/src/chain): every
-- consent event and every data access is one record, appended in the transaction of the
-- change, each carrying the SHA-256 of its predecessor, so altering, deleting, inserting or
-- reordering a record breaks the chain where it happened. The byte layout of the hash is in
-- docs/exchange-audit.md. Append-only: the triggers are defence in depth, not the protection
-- (the hashes and signed checkpoints are).
CREATE TABLE exchange_audit_records (
    -- Gap-free from 1, assigned by the appender under the head row's lock.
    seq BIGINT PRIMARY KEY,
    at_s BIGINT NOT NULL,
    -- Dotted: `consent.approved`, `data.fetched`, …
    kind TEXT NOT NULL,
    -- Who acted: `participant:<id>`, `owner:<id>`, `system`.
    actor TEXT NOT NULL,
    -- The data owner's opaque id, when the record concerns one (their usage log).
    owner TEXT,
    consent TEXT,
    -- Canonical JSON (keys sorted, no whitespace); the hash covers exactly these bytes.
    detail TEXT NOT NULL,
    prev_hash BYTEA NOT NULL,
    hash BYTEA NOT NULL
);

CREATE INDEX exchange_audit_records_owner ON exchange_audit_records (owner, seq)
    WHERE owner IS NOT NULL;

-- The head of the chain (one row): every append locks it (SELECT … FOR UPDATE) and updates it
-- in its transaction, so concurrent transactions queue instead of forking the chain.
CREATE TABLE exchange_audit_head (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    seq BIGINT NOT NULL,
    hash BYTEA NOT NULL
);

INSERT INTO exchange_audit_head (one, seq, hash) VALUES (1, 0, decode(repeat('00', 32), 'hex'));

-- Signed checkpoints: ES256 over (seq, hash) of the head, every N records and on demand.
CREATE TABLE exchange_audit_checkpoints (
    seq BIGINT PRIMARY KEY,
    hash BYTEA NOT NULL,
    at_s BIGINT NOT NULL,
    kid TEXT NOT NULL,
    signature BYTEA NOT NULL
);

-- The public keys checkpoints were signed with (a public JWK per kid). A verifier should
-- prefer the gateway's published keys: whoever can rewrite this database can rewrite these.
CREATE TABLE exchange_audit_keys (
    kid TEXT PRIMARY KEY,
    public_jwk TEXT NOT NULL,
    added_at_s BIGINT NOT NULL
);

CREATE FUNCTION exchange_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$;

CREATE TRIGGER exchange_audit_records_no_change BEFORE UPDATE OR DELETE ON exchange_audit_records
    FOR EACH ROW EXECUTE FUNCTION exchange_audit_append_only();

CREATE TRIGGER exchange_audit_records_no_truncate BEFORE TRUNCATE ON exchange_audit_records
    FOR EACH STATEMENT EXECUTE FUNCTION exchange_audit_append_only();

CREATE TRIGGER exchange_audit_checkpoints_no_change BEFORE UPDATE OR DELETE
    ON exchange_audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION exchange_audit_append_only();

CREATE TRIGGER exchange_audit_checkpoints_no_truncate BEFORE TRUNCATE
    ON exchange_audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION exchange_audit_append_only();

CREATE TRIGGER exchange_audit_keys_no_change BEFORE UPDATE OR DELETE ON exchange_audit_keys
    FOR EACH ROW EXECUTE FUNCTION exchange_audit_append_only();

CREATE TRIGGER exchange_audit_keys_no_truncate BEFORE TRUNCATE ON exchange_audit_keys
    FOR EACH STATEMENT EXECUTE FUNCTION exchange_audit_append_only();
