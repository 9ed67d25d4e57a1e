-- FPS webhooks (crates/fps/src/webhooks): participants' endpoints, the cursors that turn the
-- ledger's log into events and events into deliveries, and each delivery's progress.
--
-- A subscription's signing secret is stored only sealed by the vault (XChaCha20-Poly1305,
-- bound to the subscription's id); it is shown to the participant once, when issued.

-- Where a reader has got to: `ledger` (the last `ledger_transfers.seq` of ledger 1 turned into
-- events) and `dispatch` (every `fps_events` row up to this `seq` has its deliveries). Each is
-- advanced in the same transaction as what it covers.
CREATE TABLE fps_webhook_cursors (
    name TEXT PRIMARY KEY NOT NULL,
    seq INTEGER NOT NULL
) STRICT;

INSERT INTO fps_webhook_cursors (name, seq) VALUES ('ledger', 0), ('dispatch', 0);

CREATE TABLE fps_webhook_subscriptions (
    -- A UUID.
    id TEXT PRIMARY KEY NOT NULL,
    participant TEXT NOT NULL REFERENCES fps_participants (code),
    -- https, or http to a loopback address only.
    url TEXT NOT NULL,
    -- A JSON array of event types or `prefix.*` patterns; empty: every event.
    event_types TEXT NOT NULL,
    format TEXT NOT NULL CHECK (format IN ('json', 'camt.054')),
    secret_sealed BLOB NOT NULL,
    -- After a rotation, the previous secret (sealed) keeps signing alongside the new one until
    -- `previous_until_s`, so a receiver can switch without missing a delivery.
    previous_secret_sealed BLOB,
    previous_until_s INTEGER,
    status TEXT NOT NULL CHECK (status IN ('active', 'deleted')),
    created_at_s INTEGER NOT NULL,
    updated_at_s INTEGER NOT NULL
) STRICT;

CREATE INDEX fps_webhook_subscriptions_participant
    ON fps_webhook_subscriptions (participant, status);

-- One row per event and subscription. `pending` deliveries are attempted when
-- `next_attempt_at_ms` (Unix milliseconds) has come; an attempt in flight holds a lease by
-- moving it forward, so another worker (or this one after a crash) tries again only once the
-- lease has run out: at-least-once delivery.
CREATE TABLE fps_webhook_deliveries (
    id INTEGER PRIMARY KEY,
    event_seq INTEGER NOT NULL REFERENCES fps_events (seq),
    subscription TEXT NOT NULL REFERENCES fps_webhook_subscriptions (id),
    attempts INTEGER NOT NULL,
    next_attempt_at_ms INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed', 'cancelled')),
    last_status_code INTEGER,
    -- At most 200 characters.
    last_error TEXT,
    created_at_s INTEGER NOT NULL,
    updated_at_s INTEGER NOT NULL,
    UNIQUE (event_seq, subscription)
) STRICT;

CREATE INDEX fps_webhook_deliveries_due
    ON fps_webhook_deliveries (next_attempt_at_ms) WHERE status = 'pending';
CREATE INDEX fps_webhook_deliveries_subscription ON fps_webhook_deliveries (subscription, id);
