-- eDDA mandates on the accounts of the hosted banks' customers (crates/bank): the link from
-- the switch's mandate (`fps_mandates`, which holds its kind, limits and status and keeps the
-- account references sealed) to the debtor's and the creditor's accounts here, so the
-- debtor's bank lists a customer's mandates and the creditor's bank collects under one.
CREATE TABLE bank_mandates (
    seq INTEGER PRIMARY KEY,
    -- The mandate's id at the switch (a UUID).
    id TEXT NOT NULL UNIQUE,
    debtor_account TEXT NOT NULL REFERENCES bank_accounts (number),
    creditor_account TEXT NOT NULL REFERENCES bank_accounts (number),
    created_at_s INTEGER NOT NULL
) STRICT;

CREATE INDEX bank_mandates_debtor ON bank_mandates (debtor_account, seq);
