-- Consents of the data exchange (crates/exchange/src/consent): the consents themselves, their
-- lifecycle history, and every use (fetch) made under them.
--
-- A status changes only by one conditional UPDATE (`... WHERE id = $1 AND status = $2`) in
-- the same transaction as its `exchange_consent_events` row and its audit event, so two racing
-- changes cannot both win. A use is recorded in the same write transaction that counts the
-- uses in the frequency window, after the consent row is locked by bumping `uses_total`.

CREATE TABLE exchange_consents (
    -- A UUID.
    id TEXT PRIMARY KEY NOT NULL,
    -- The resident who approves and manages it: the owner, or a company's representative.
    approver TEXT NOT NULL,
    -- The owning company, when a company is the owner.
    company TEXT,
    consumer TEXT NOT NULL,
    -- Every term as JSON (`ConsentTerms`), written once, at the request.
    terms TEXT NOT NULL,
    status TEXT NOT NULL
        CHECK (status IN ('PENDING', 'ACTIVE', 'PAUSED', 'REVOKED', 'EXPIRED', 'REJECTED')),
    created_at_s INTEGER NOT NULL,
    approval_deadline_s INTEGER NOT NULL,
    valid_until_s INTEGER NOT NULL,
    updated_at_s INTEGER NOT NULL,
    -- The signed consent artefact (compact JWS), from approval on.
    artefact TEXT,
    -- Incremented by every change.
    version INTEGER NOT NULL,
    -- Every use ever recorded (the counter row a use locks).
    uses_total INTEGER NOT NULL
) STRICT;

CREATE INDEX exchange_consents_approver ON exchange_consents (approver, created_at_s);
CREATE INDEX exchange_consents_consumer ON exchange_consents (consumer, created_at_s);
CREATE INDEX exchange_consents_due ON exchange_consents (status, valid_until_s);
CREATE INDEX exchange_consents_pending ON exchange_consents (status, approval_deadline_s);

-- The providers a consent names, to list a provider's consents.
CREATE TABLE exchange_consent_providers (
    provider TEXT NOT NULL,
    consent TEXT NOT NULL REFERENCES exchange_consents (id),
    PRIMARY KEY (provider, consent)
) STRICT;

-- The lifecycle history, oldest first by `id`. Append-only: triggers refuse changes.
CREATE TABLE exchange_consent_events (
    id INTEGER PRIMARY KEY,
    consent TEXT NOT NULL REFERENCES exchange_consents (id),
    at_s INTEGER NOT NULL,
    -- `request` or the action: approve, reject, pause, resume, revoke, expire.
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL
) STRICT;

CREATE INDEX exchange_consent_events_consent ON exchange_consent_events (consent, id);

CREATE TRIGGER exchange_consent_events_no_update BEFORE UPDATE ON exchange_consent_events
BEGIN
    SELECT RAISE(ABORT, 'exchange_consent_events is append-only');
END;
CREATE TRIGGER exchange_consent_events_no_delete BEFORE DELETE ON exchange_consent_events
BEGIN
    SELECT RAISE(ABORT, 'exchange_consent_events is append-only');
END;

-- Every fetch served under a consent: for the frequency limit and the owner's dashboard.
CREATE TABLE exchange_consent_uses (
    id INTEGER PRIMARY KEY,
    consent TEXT NOT NULL REFERENCES exchange_consents (id),
    at_s INTEGER NOT NULL,
    provider TEXT NOT NULL,
    -- A JSON array of product ids.
    products TEXT NOT NULL,
    -- The data range asked, Unix seconds.
    range_from_s INTEGER NOT NULL,
    range_to_s INTEGER NOT NULL
) STRICT;

CREATE INDEX exchange_consent_uses_consent ON exchange_consent_uses (consent, at_s);
