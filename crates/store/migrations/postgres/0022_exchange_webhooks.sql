-- Webhooks of the data exchange (crates/exchange/src/webhooks): where each participant wants to
-- hear of its consents and fetches, and each notification's delivery.
--
-- A notification is enqueued in the transaction of the change it tells of (a consent's status,
-- a fetch served), one row per participant concerned that has an endpoint; a participant without
-- one gets no row. It carries no personal data and no payload: its type, the consent's id and
-- status, and the time. Deliveries are signed with the gateway's published key, so an endpoint
-- has no secret of its own.

CREATE TABLE exchange_webhook_endpoints (
    participant TEXT PRIMARY KEY NOT NULL REFERENCES exchange_participants (id),
    -- https, or http to a loopback address only.
    url TEXT NOT NULL,
    created_at_s BIGINT NOT NULL,
    updated_at_s BIGINT NOT NULL
);

-- One row per notification and participant. `pending` rows are attempted once
-- `next_attempt_at_ms` (Unix milliseconds) has come; an attempt in flight holds a lease by moving
-- it forward, so another worker (or this one after a crash) tries again only once the lease has
-- run out: at-least-once delivery. After the last attempt a row is `failed` (a dead letter) until
-- the operator replays it; clearing an endpoint cancels its pending rows.
CREATE TABLE exchange_webhook_deliveries (
    id BIGSERIAL PRIMARY KEY,
    -- A UUID, the same on every attempt and replay: receivers de-duplicate on it.
    event_id TEXT NOT NULL UNIQUE,
    participant TEXT NOT NULL REFERENCES exchange_participants (id),
    type TEXT NOT NULL,
    consent TEXT NOT NULL REFERENCES exchange_consents (id),
    consent_status TEXT NOT NULL,
    occurred_at_s BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed', 'cancelled')),
    attempts BIGINT NOT NULL,
    next_attempt_at_ms BIGINT NOT NULL,
    last_status_code BIGINT,
    -- At most 200 characters.
    last_error TEXT,
    created_at_s BIGINT NOT NULL,
    updated_at_s BIGINT NOT NULL
);

CREATE INDEX exchange_webhook_deliveries_due
    ON exchange_webhook_deliveries (next_attempt_at_ms) WHERE status = 'pending';
CREATE INDEX exchange_webhook_deliveries_participant
    ON exchange_webhook_deliveries (participant, status, id);
-- Housekeeping deletes what is done a week after.
CREATE INDEX exchange_webhook_deliveries_done
    ON exchange_webhook_deliveries (updated_at_s) WHERE status IN ('delivered', 'cancelled');
