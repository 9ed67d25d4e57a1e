-- The ledger engine (crates/fps/src/ledger) and the FPS switch's participants.
--
-- A ledger is one engine instance (1 = the FPS settlement ledger); its writer is the only
-- writer of its rows. Amounts are integer minor units; times are Unix nanoseconds assigned by
-- the writer, strictly increasing within a ledger. Ids are 128-bit, stored as 16 big-endian
-- bytes, so time-ordered ids (UUIDv7) append to the id index instead of scattering over it.

CREATE TABLE ledger_accounts (
    ledger INTEGER NOT NULL,
    id BLOB NOT NULL CHECK (length(id) = 16),
    currency TEXT NOT NULL CHECK (currency IN ('HKD', 'CNY')),
    code INTEGER NOT NULL,
    -- How far below zero (credits - debits) the account may go; NULL: no limit (the RTGS side).
    debit_cap INTEGER CHECK (debit_cap IS NULL OR debit_cap >= 0),
    debits_pending INTEGER NOT NULL DEFAULT 0,
    debits_posted INTEGER NOT NULL DEFAULT 0,
    credits_pending INTEGER NOT NULL DEFAULT 0,
    credits_posted INTEGER NOT NULL DEFAULT 0,
    created_at_ns INTEGER NOT NULL,
    PRIMARY KEY (ledger, id)
) STRICT;

-- Every transfer the writer answered, accepted (result 0) or refused (result > 0): a retry
-- with the same id gets the same answer. Immutable: corrections are new transfers.
CREATE TABLE ledger_transfers (
    seq INTEGER PRIMARY KEY,
    ledger INTEGER NOT NULL,
    id BLOB NOT NULL CHECK (length(id) = 16),
    debit_account BLOB NOT NULL,
    credit_account BLOB NOT NULL,
    amount INTEGER NOT NULL CHECK (amount >= 0),
    currency TEXT NOT NULL CHECK (currency IN ('HKD', 'CNY')),
    -- 0 single-phase, 1 pending, 2 post a pending transfer, 3 void one.
    kind INTEGER NOT NULL CHECK (kind BETWEEN 0 AND 3),
    pending_id BLOB,
    timeout_s INTEGER NOT NULL,
    linked INTEGER NOT NULL CHECK (linked IN (0, 1)),
    code INTEGER NOT NULL,
    user_data BLOB,
    reference TEXT NOT NULL,
    actor TEXT NOT NULL,
    result INTEGER NOT NULL,
    timestamp_ns INTEGER NOT NULL,
    UNIQUE (ledger, id)
) STRICT;

CREATE INDEX ledger_transfers_debit ON ledger_transfers (ledger, debit_account, seq) WHERE result = 0;
CREATE INDEX ledger_transfers_credit ON ledger_transfers (ledger, credit_account, seq) WHERE result = 0;
CREATE INDEX ledger_transfers_pending ON ledger_transfers (ledger, pending_id) WHERE pending_id IS NOT NULL AND result = 0;
CREATE INDEX ledger_transfers_time ON ledger_transfers (ledger, timestamp_ns);

CREATE TRIGGER ledger_transfers_no_update BEFORE UPDATE ON ledger_transfers
BEGIN
    SELECT RAISE(ABORT, 'ledger_transfers is append-only');
END;

CREATE TRIGGER ledger_transfers_no_delete BEFORE DELETE ON ledger_transfers
BEGIN
    SELECT RAISE(ABORT, 'ledger_transfers is append-only');
END;

-- Pending transfers whose timeout passed before they were posted or voided.
CREATE TABLE ledger_expiries (
    ledger INTEGER NOT NULL,
    pending_id BLOB NOT NULL,
    timestamp_ns INTEGER NOT NULL,
    PRIMARY KEY (ledger, pending_id)
) STRICT;

-- FPS participants: banks and stored-value facilities, by 3-digit participant code.
CREATE TABLE fps_participants (
    code TEXT PRIMARY KEY NOT NULL CHECK (length(code) = 3 AND code NOT GLOB '*[^0-9]*'),
    name_en TEXT NOT NULL,
    name_zh_hant TEXT NOT NULL,
    name_zh_hans TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('bank', 'digital_bank', 'svf')),
    status TEXT NOT NULL CHECK (status IN ('active', 'suspended')),
    created_at_s INTEGER NOT NULL
) STRICT;

-- Participants' API tokens, stored only as SHA-256.
CREATE TABLE fps_participant_tokens (
    token_sha256 BLOB PRIMARY KEY NOT NULL,
    participant TEXT NOT NULL REFERENCES fps_participants (code),
    label TEXT NOT NULL,
    created_at_s INTEGER NOT NULL,
    revoked_at_s INTEGER
) STRICT;
