-- Requests to pay that customers of the hosted banks made (crates/bank): the payee's bank's
-- record of who asked whom for what. The request itself — its status, its expiry, the
-- transfer that paid it — is the switch's (`fps_requests`); this row links it to the payee's
-- account and, for the payer's bank, to the proxy it was addressed to. The payer's proxy is
-- kept only as the proxy register's keyed hash, and shown only masked.
CREATE TABLE bank_requests (
    seq BIGSERIAL PRIMARY KEY,
    -- The request's id at the switch (a UUID).
    id TEXT NOT NULL UNIQUE,
    -- The payee's account (our customer's), which the payment credits.
    payee_account TEXT NOT NULL REFERENCES bank_accounts (number),
    -- The payer's bank (participant code), the keyed hash of the proxy the request was
    -- addressed to, the payer's masked name and the masked proxy.
    payer_bank TEXT NOT NULL,
    payer_hash BYTEA NOT NULL,
    payer_masked_name TEXT NOT NULL,
    payer_address TEXT NOT NULL,
    currency TEXT NOT NULL CHECK (currency IN ('HKD', 'CNY')),
    amount BIGINT NOT NULL CHECK (amount > 0),
    reference TEXT NOT NULL,
    created_at_s BIGINT NOT NULL
);

CREATE INDEX bank_requests_payee ON bank_requests (payee_account, seq);
CREATE INDEX bank_requests_payer ON bank_requests (payer_hash, seq);
