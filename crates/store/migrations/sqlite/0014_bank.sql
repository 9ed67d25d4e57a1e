-- The participant banks Bauhinia hosts (crates/bank): their customers' accounts and the
-- payments those customers make and receive through FPS. Balances are not here: every
-- account is an account of the banks' ledger (ledger 2, its own writer), and money moves only
-- as that ledger's transfers. A payment row is the bank's record of a customer's order and of
-- how far it has gone; every step's ledger and switch transfer id is derived from the
-- payment's id, so re-running an unfinished payment after a crash repeats nothing.

-- Banks whose books are kept here (a participant code of the switch).
CREATE TABLE bank_hosted (
    code TEXT PRIMARY KEY,
    created_at_s INTEGER NOT NULL
) STRICT;

CREATE TABLE bank_accounts (
    seq INTEGER PRIMARY KEY,
    -- `004-100000001`: the bank's code and nine digits.
    number TEXT NOT NULL UNIQUE,
    bank TEXT NOT NULL REFERENCES bank_hosted (code),
    -- `resident:<id>` (the identity module's resident id).
    owner TEXT NOT NULL,
    -- The name on the account, as the bank holds it (shown masked to others).
    holder_name TEXT NOT NULL,
    currency TEXT NOT NULL CHECK (currency IN ('HKD', 'CNY')),
    kind TEXT NOT NULL CHECK (kind IN ('savings', 'wallet', 'ecny_wallet')),
    -- The account's id on the banks' ledger (16 big-endian bytes).
    ledger_id BLOB NOT NULL UNIQUE,
    status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    created_at_s INTEGER NOT NULL
) STRICT;

CREATE INDEX bank_accounts_owner ON bank_accounts (owner, seq);

-- The proxies a customer registered through the bank, as the customer's own list (the
-- switch's register holds the real entry): only masks and the keyed hash.
CREATE TABLE bank_proxies (
    seq INTEGER PRIMARY KEY,
    account TEXT NOT NULL REFERENCES bank_accounts (number),
    kind TEXT NOT NULL,
    key_hash BLOB NOT NULL,
    masked TEXT NOT NULL,
    created_at_s INTEGER NOT NULL,
    UNIQUE (account, key_hash)
) STRICT;

CREATE TABLE bank_payments (
    seq INTEGER PRIMARY KEY,
    -- The payment's id (a UUID): the customer's order id for a payment out; derived from the
    -- switch's transfer id for a payment in.
    id TEXT NOT NULL UNIQUE,
    -- Our customer's account: the payer's (out) or the payee's (in).
    account TEXT NOT NULL REFERENCES bank_accounts (number),
    direction TEXT NOT NULL CHECK (direction IN ('out', 'in')),
    state TEXT NOT NULL CHECK (state IN ('initiated', 'settled', 'failed')),
    -- The other side: participant code, masked name, and the masked proxy or account number.
    counterparty_bank TEXT NOT NULL,
    counterparty_name TEXT NOT NULL,
    counterparty_address TEXT NOT NULL,
    -- For a payment out: the payee's address sealed to the payment (the proxy is never kept
    -- in clear), so an unfinished payment can be completed after a restart.
    payee_sealed BLOB,
    currency TEXT NOT NULL CHECK (currency IN ('HKD', 'CNY')),
    amount INTEGER NOT NULL CHECK (amount > 0),
    purpose TEXT NOT NULL,
    reference TEXT NOT NULL,
    -- The switch's transfer (a UUID).
    fps_transfer TEXT NOT NULL,
    -- Why it failed (a stable code), when it did.
    reason TEXT,
    created_at_s INTEGER NOT NULL,
    updated_at_s INTEGER NOT NULL
) STRICT;

CREATE INDEX bank_payments_account ON bank_payments (account, seq);
CREATE INDEX bank_payments_unfinished ON bank_payments (state) WHERE state = 'initiated';
