-- Consented data exchange (crates/exchange): the participants directory — the trust list of
-- institutions that may provide or consume data —, their published signing keys, which
-- participant provides which data product, and the developer sandbox's own provider keys.

CREATE TABLE exchange_participants (
    -- A lower-case slug chosen at registration (`bank-004`, `companies-registry`).
    id TEXT PRIMARY KEY NOT NULL,
    name_en TEXT NOT NULL,
    name_zh_hant TEXT NOT NULL,
    name_zh_hans TEXT NOT NULL,
    roles TEXT NOT NULL CHECK (roles IN ('provider', 'consumer', 'both')),
    licence TEXT NOT NULL CHECK (licence IN ('bank', 'digital_bank', 'stored_value_facility',
        'virtual_insurer', 'virtual_asset_platform', 'government_department',
        'commercial_data_provider')),
    -- The FPS participant code of a bank or stored-value facility that is one, else NULL.
    fps_code TEXT,
    status TEXT NOT NULL CHECK (status IN ('active', 'suspended')),
    created_at_s INTEGER NOT NULL,
    updated_at_s INTEGER NOT NULL
) STRICT;

CREATE INDEX exchange_participants_licence ON exchange_participants (licence, status);

-- Public keys (ES256, P-256 JWKs; never a private part). A key replaced by a rotation keeps
-- verifying until `verify_until_s`; a current key has it NULL.
CREATE TABLE exchange_participant_keys (
    participant TEXT NOT NULL REFERENCES exchange_participants (id),
    kid TEXT NOT NULL,
    -- The public JWK as JSON.
    jwk TEXT NOT NULL,
    added_at_s INTEGER NOT NULL,
    verify_until_s INTEGER,
    PRIMARY KEY (participant, kid)
) STRICT;

-- Which participant provides which data product (products are defined in the code).
CREATE TABLE exchange_product_providers (
    product TEXT NOT NULL,
    participant TEXT NOT NULL REFERENCES exchange_participants (id),
    PRIMARY KEY (product, participant)
) STRICT;

CREATE INDEX exchange_product_providers_participant ON exchange_product_providers (participant);

-- The signing keys of the sandbox's built-in providers (demo participants only): the private
-- half sealed by the vault, bound to participant and kid. Its public half is in
-- `exchange_participant_keys`.
CREATE TABLE exchange_sandbox_keys (
    participant TEXT NOT NULL REFERENCES exchange_participants (id),
    kid TEXT NOT NULL,
    private_sealed BLOB NOT NULL,
    created_at_s INTEGER NOT NULL,
    PRIMARY KEY (participant, kid)
) STRICT;
