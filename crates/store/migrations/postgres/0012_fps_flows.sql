-- FPS payment flows (crates/fps/src/flows): requests to pay, eDDA mandates, direct debits under
-- them, and returns and refunds of settled transfers. Money moves only through the ledger; these
-- tables hold each flow's state and, for limits, the usage reserved in the same transaction as
-- the row that reserves it. Ids are the clients' UUIDs (text); `fingerprint` is a keyed hash of
-- the request that created the row, so a retry with another body is told apart. Account
-- references are kept only sealed by the vault.
CREATE TABLE fps_requests (
    seq BIGSERIAL PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    payee TEXT NOT NULL,
    payer TEXT NOT NULL,
    currency TEXT NOT NULL,
    amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
    reference TEXT NOT NULL,
    payee_masked_name TEXT NOT NULL,
    expires_at_s BIGINT NOT NULL,
    -- pending, settling (a payment is being settled), paid, declined, cancelled, expired
    status TEXT NOT NULL,
    -- The transfer that pays it (set while settling and once paid).
    transfer_id TEXT,
    fingerprint BYTEA NOT NULL,
    created_at_s BIGINT NOT NULL,
    updated_at_s BIGINT NOT NULL
);

CREATE INDEX fps_requests_payee ON fps_requests (payee, seq);
CREATE INDEX fps_requests_payer ON fps_requests (payer, seq);
CREATE INDEX fps_requests_due ON fps_requests (status, expires_at_s);

CREATE TABLE fps_mandates (
    seq BIGSERIAL PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    -- standard (set up by the debtor's bank) or simplified (by the creditor's bank)
    kind TEXT NOT NULL,
    creditor TEXT NOT NULL,
    creditor_reference_sealed BYTEA NOT NULL,
    debtor TEXT NOT NULL,
    debtor_reference_sealed BYTEA NOT NULL,
    debtor_masked_name TEXT NOT NULL,
    currency TEXT NOT NULL,
    per_debit_minor BIGINT NOT NULL CHECK (per_debit_minor > 0),
    -- day, week, month or year (Hong Kong calendar)
    period TEXT NOT NULL,
    period_limit_minor BIGINT NOT NULL CHECK (period_limit_minor > 0),
    -- YYYY-MM-DD, inclusive
    valid_from TEXT NOT NULL,
    valid_until TEXT,
    -- pending, active, suspended, cancelled, rejected
    status TEXT NOT NULL,
    fingerprint BYTEA NOT NULL,
    created_at_s BIGINT NOT NULL,
    updated_at_s BIGINT NOT NULL
);

CREATE INDEX fps_mandates_creditor ON fps_mandates (creditor, seq);
CREATE INDEX fps_mandates_debtor ON fps_mandates (debtor, seq);

-- What a mandate has collected (or holds reserved) in one period, checked against its limit by
-- a conditional update.
CREATE TABLE fps_mandate_usage (
    mandate_id TEXT NOT NULL,
    period_start TEXT NOT NULL,
    used_minor BIGINT NOT NULL CHECK (used_minor >= 0),
    PRIMARY KEY (mandate_id, period_start)
);

CREATE TABLE fps_debits (
    seq BIGSERIAL PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    mandate_id TEXT NOT NULL,
    creditor TEXT NOT NULL,
    debtor TEXT NOT NULL,
    currency TEXT NOT NULL,
    amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
    reference TEXT NOT NULL,
    collection_date TEXT NOT NULL,
    period_start TEXT NOT NULL,
    -- pending (usage reserved, settling), settled, refused
    status TEXT NOT NULL,
    reason TEXT,
    fingerprint BYTEA NOT NULL,
    created_at_s BIGINT NOT NULL,
    updated_at_s BIGINT NOT NULL
);

CREATE INDEX fps_debits_mandate ON fps_debits (mandate_id, seq);

-- Returns and refunds of a settled transfer (`original_id`), paid back by its creditor.
CREATE TABLE fps_returns (
    seq BIGSERIAL PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    -- return or refund
    kind TEXT NOT NULL,
    original_id TEXT NOT NULL,
    -- The original's creditor, who pays back, and its debtor, who is paid.
    creditor TEXT NOT NULL,
    debtor TEXT NOT NULL,
    currency TEXT NOT NULL,
    amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
    reason_code TEXT,
    reference TEXT NOT NULL,
    -- pending (amount reserved, settling), settled, refused
    status TEXT NOT NULL,
    refusal TEXT,
    fingerprint BYTEA NOT NULL,
    created_at_s BIGINT NOT NULL,
    updated_at_s BIGINT NOT NULL
);

CREATE INDEX fps_returns_original ON fps_returns (original_id, seq);

-- How much of an original transfer is returned or refunded (or reserved to be), never more
-- than the original: a conditional update.
CREATE TABLE fps_return_totals (
    original_id TEXT PRIMARY KEY,
    original_minor BIGINT NOT NULL,
    returned_minor BIGINT NOT NULL CHECK (returned_minor >= 0 AND returned_minor <= original_minor)
);
