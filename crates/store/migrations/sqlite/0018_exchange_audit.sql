-- The consented data exchange's tamper-evident audit chain (crates/exchange/src/chain): every
-- consent event and every data access is one record, appended in the transaction of the
-- change, each carrying the SHA-256 of its predecessor, so altering, deleting, inserting or
-- reordering a record breaks the chain where it happened. The byte layout of the hash is in
-- docs/exchange-audit.md. Append-only: the triggers are defence in depth, not the protection
-- (the hashes and signed checkpoints are).
CREATE TABLE exchange_audit_records (
    -- Gap-free from 1, assigned by the appender under the write lock.
    seq INTEGER PRIMARY KEY,
    at_s INTEGER NOT NULL,
    -- Dotted: `consent.approved`, `data.fetched`, …
    kind TEXT NOT NULL,
    -- Who acted: `participant:<id>`, `owner:<id>`, `system`.
    actor TEXT NOT NULL,
    -- The data owner's opaque id, when the record concerns one (their usage log).
    owner TEXT,
    consent TEXT,
    -- Canonical JSON (keys sorted, no whitespace); the hash covers exactly these bytes.
    detail TEXT NOT NULL,
    prev_hash BLOB NOT NULL,
    hash BLOB NOT NULL
) STRICT;

CREATE INDEX exchange_audit_records_owner ON exchange_audit_records (owner, seq)
    WHERE owner IS NOT NULL;

-- The head of the chain (one row), read and updated by every append in its transaction.
CREATE TABLE exchange_audit_head (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    seq INTEGER NOT NULL,
    hash BLOB NOT NULL
) STRICT;

INSERT INTO exchange_audit_head (one, seq, hash) VALUES (1, 0, zeroblob(32));

-- Signed checkpoints: ES256 over (seq, hash) of the head, every N records and on demand.
CREATE TABLE exchange_audit_checkpoints (
    seq INTEGER PRIMARY KEY,
    hash BLOB NOT NULL,
    at_s INTEGER NOT NULL,
    kid TEXT NOT NULL,
    signature BLOB NOT NULL
) STRICT;

-- The public keys checkpoints were signed with (a public JWK per kid). A verifier should
-- prefer the gateway's published keys: whoever can rewrite this database can rewrite these.
CREATE TABLE exchange_audit_keys (
    kid TEXT PRIMARY KEY,
    public_jwk TEXT NOT NULL,
    added_at_s INTEGER NOT NULL
) STRICT;

CREATE TRIGGER exchange_audit_records_no_update BEFORE UPDATE ON exchange_audit_records
BEGIN
    SELECT RAISE(ABORT, 'exchange_audit_records is append-only');
END;

CREATE TRIGGER exchange_audit_records_no_delete BEFORE DELETE ON exchange_audit_records
BEGIN
    SELECT RAISE(ABORT, 'exchange_audit_records is append-only');
END;

CREATE TRIGGER exchange_audit_checkpoints_no_update BEFORE UPDATE ON exchange_audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'exchange_audit_checkpoints is append-only');
END;

CREATE TRIGGER exchange_audit_checkpoints_no_delete BEFORE DELETE ON exchange_audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'exchange_audit_checkpoints is append-only');
END;

CREATE TRIGGER exchange_audit_keys_no_update BEFORE UPDATE ON exchange_audit_keys
BEGIN
    SELECT RAISE(ABORT, 'exchange_audit_keys is append-only');
END;

CREATE TRIGGER exchange_audit_keys_no_delete BEFORE DELETE ON exchange_audit_keys
BEGIN
    SELECT RAISE(ABORT, 'exchange_audit_keys is append-only');
END;
