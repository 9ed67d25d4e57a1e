-- The ledger engine (crates/fps/src/ledger) and the FPS switch's participants.
--
-- A ledger is one engine instance (1 = the FPS settlement ledger); its writer is the only
-- writer of its rows. Amounts are integer minor units; times are Unix nanoseconds assigned by
-- the writer, strictly increasing within a ledger. Ids are 128-bit, stored as 16 big-endian
-- bytes, so time-ordered ids (UUIDv7) append to the id index instead of scattering over it.

CREATE TABLE ledger_accounts (
    ledger BIGINT NOT NULL,
    id BYTEA NOT NULL CHECK (length(id) = 16),
    currency TEXT NOT NULL CHECK (currency IN ('HKD', 'CNY')),
    code BIGINT NOT NULL,
    -- How far below zero (credits - debits) the account may go; NULL: no limit (the RTGS side).
    debit_cap BIGINT CHECK (debit_cap IS NULL OR debit_cap >= 0),
    debits_pending BIGINT NOT NULL DEFAULT 0,
    debits_posted BIGINT NOT NULL DEFAULT 0,
    credits_pending BIGINT NOT NULL DEFAULT 0,
    credits_posted BIGINT NOT NULL DEFAULT 0,
    created_at_ns BIGINT NOT NULL,
    PRIMARY KEY (ledger, id)
);

-- Every transfer the writer answered, accepted (result 0) or refused (result > 0): a retry
-- with the same id gets the same answer. Immutable: corrections are new transfers.
CREATE TABLE ledger_transfers (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ledger BIGINT NOT NULL,
    id BYTEA NOT NULL CHECK (length(id) = 16),
    debit_account BYTEA NOT NULL,
    credit_account BYTEA NOT NULL,
    amount BIGINT NOT NULL CHECK (amount >= 0),
    currency TEXT NOT NULL CHECK (currency IN ('HKD', 'CNY')),
    -- 0 single-phase, 1 pending, 2 post a pending transfer, 3 void one.
    kind SMALLINT NOT NULL CHECK (kind BETWEEN 0 AND 3),
    pending_id BYTEA,
    timeout_s BIGINT NOT NULL,
    linked BOOLEAN NOT NULL,
    code BIGINT NOT NULL,
    user_data BYTEA,
    reference TEXT NOT NULL,
    actor TEXT NOT NULL,
    result BIGINT NOT NULL,
    timestamp_ns BIGINT NOT NULL,
    UNIQUE (ledger, id)
);

CREATE INDEX ledger_transfers_debit ON ledger_transfers (ledger, debit_account, seq) WHERE result = 0;
CREATE INDEX ledger_transfers_credit ON ledger_transfers (ledger, credit_account, seq) WHERE result = 0;
CREATE INDEX ledger_transfers_pending ON ledger_transfers (ledger, pending_id) WHERE pending_id IS NOT NULL AND result = 0;
CREATE INDEX ledger_transfers_time ON ledger_transfers (ledger, timestamp_ns);

CREATE FUNCTION ledger_transfers_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger_transfers is append-only';
END
$$;

CREATE TRIGGER ledger_transfers_no_change BEFORE UPDATE OR DELETE ON ledger_transfers
    FOR EACH ROW EXECUTE FUNCTION ledger_transfers_append_only();

CREATE TRIGGER ledger_transfers_no_truncate BEFORE TRUNCATE ON ledger_transfers
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_transfers_append_only();

-- Pending transfers whose timeout passed before they were posted or voided.
CREATE TABLE ledger_expiries (
    ledger BIGINT NOT NULL,
    pending_id BYTEA NOT NULL,
    timestamp_ns BIGINT NOT NULL,
    PRIMARY KEY (ledger, pending_id)
);

-- FPS participants: banks and stored-value facilities, by 3-digit participant code.
CREATE TABLE fps_participants (
    code TEXT PRIMARY KEY NOT NULL CHECK (code ~ '^[0-9]{3}$'),
    name_en TEXT NOT NULL,
    name_zh_hant TEXT NOT NULL,
    name_zh_hans TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('bank', 'digital_bank', 'svf')),
    status TEXT NOT NULL CHECK (status IN ('active', 'suspended')),
    created_at_s BIGINT NOT NULL
);

-- Participants' API tokens, stored only as SHA-256.
CREATE TABLE fps_participant_tokens (
    token_sha256 BYTEA PRIMARY KEY NOT NULL,
    participant TEXT NOT NULL REFERENCES fps_participants (code),
    label TEXT NOT NULL,
    created_at_s BIGINT NOT NULL,
    revoked_at_s BIGINT
);
