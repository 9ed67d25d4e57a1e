-- 数码企业身份 CorpID (crates/corpid): businesses, the residents who represent them and in
-- which role, time-bound delegations from a client business to an agent business, and the
-- licences a business keeps. Ids are opaque UUIDs in text; times are Unix seconds; dates
-- `YYYY-MM-DD`; addresses and directors JSON kept as text (one query text for both dialects).
-- Every change is written in one transaction with its audit event.

CREATE TABLE corpid_businesses (
    id TEXT PRIMARY KEY NOT NULL,
    -- The Business Registration number: exactly 8 digits.
    brn TEXT NOT NULL UNIQUE CHECK (length(brn) = 8 AND brn NOT GLOB '*[^0-9]*'),
    kind TEXT NOT NULL CHECK (kind IN ('company', 'registered_business')),
    form TEXT NOT NULL CHECK (form IN ('private_limited_by_shares', 'public_limited_by_shares',
        'limited_by_guarantee', 'registered_non_hong_kong', 'sole_proprietorship', 'partnership')),
    status TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'dissolved')),
    name_en TEXT NOT NULL,
    name_zh TEXT,
    address TEXT NOT NULL CHECK (json_valid(address)),
    -- Incorporation (company) or commencement (registered business).
    registered_on TEXT NOT NULL,
    directors TEXT NOT NULL CHECK (json_valid(directors)),
    -- How many authorised signatories approve a corporate signature.
    signatories_required INTEGER NOT NULL CHECK (signatories_required IN (1, 2)),
    -- Bumped by every change to who represents the business: on PostgreSQL the UPDATE locks
    -- the row, so two changes to one business (two revocations of its last two
    -- administrators) queue instead of both passing the last-administrator check.
    revision INTEGER NOT NULL DEFAULT 0,
    created_at_s INTEGER NOT NULL,
    updated_at_s INTEGER NOT NULL
) STRICT;

-- One role per resident per business; a revoked role is deleted (its history is the audit log).
CREATE TABLE corpid_representatives (
    business_id TEXT NOT NULL REFERENCES corpid_businesses (id),
    resident_id TEXT NOT NULL REFERENCES identity_residents (id),
    role TEXT NOT NULL CHECK (role IN ('administrator', 'authorised_signatory', 'user')),
    granted_by TEXT NOT NULL,
    granted_at_s INTEGER NOT NULL,
    PRIMARY KEY (business_id, resident_id)
) STRICT, WITHOUT ROWID;

-- The login lookup: a resident's businesses, without touching the table.
CREATE INDEX corpid_representatives_by_resident
    ON corpid_representatives (resident_id, business_id, role);

CREATE TABLE corpid_delegations (
    id TEXT PRIMARY KEY NOT NULL,
    agent_id TEXT NOT NULL REFERENCES corpid_businesses (id),
    client_id TEXT NOT NULL REFERENCES corpid_businesses (id),
    role TEXT NOT NULL CHECK (role IN ('authorised_signatory', 'user')),
    valid_from_s INTEGER NOT NULL,
    valid_until_s INTEGER NOT NULL,
    revoked_at_s INTEGER,
    created_by TEXT NOT NULL,
    created_at_s INTEGER NOT NULL,
    CHECK (agent_id <> client_id),
    CHECK (valid_until_s > valid_from_s)
) STRICT;

CREATE INDEX corpid_delegations_by_agent ON corpid_delegations (agent_id, valid_until_s);
CREATE INDEX corpid_delegations_by_client ON corpid_delegations (client_id, valid_until_s);

CREATE TABLE corpid_licences (
    id TEXT PRIMARY KEY NOT NULL,
    business_id TEXT NOT NULL REFERENCES corpid_businesses (id),
    licence_type TEXT NOT NULL,
    number TEXT NOT NULL,
    issuer TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    valid_until TEXT,
    status TEXT NOT NULL CHECK (status IN ('valid', 'suspended', 'revoked', 'expired')),
    shared INTEGER NOT NULL CHECK (shared IN (0, 1)),
    updated_at_s INTEGER NOT NULL,
    UNIQUE (business_id, issuer, number)
) STRICT;
