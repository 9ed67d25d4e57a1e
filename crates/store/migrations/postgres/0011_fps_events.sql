-- The FPS switch's outbox (crates/fps/src/events.rs): every status change a participant must
-- hear of — a transfer settled or refused, a request to pay, a mandate, a direct debit, a
-- return — is one row per participant concerned, appended in the same transaction as the
-- change itself (or, for the ledger's transfers, from the ledger's log by a cursor), so no
-- change is ever without its notification. Webhook delivery reads it in `seq` order.
-- Append-only: a delivery's progress is kept elsewhere.
CREATE TABLE fps_events (
    seq BIGSERIAL PRIMARY KEY,
    -- The event's id (a UUID), stable across retries: the webhook's `webhook-id`.
    id TEXT NOT NULL UNIQUE,
    -- The participant it goes to (3-digit code).
    participant TEXT NOT NULL,
    -- Dotted: `transfer.settled`, `request.created`, `mandate.activated`, …
    type TEXT NOT NULL,
    -- What it is about: `transfer:<uuid>`, `request:<uuid>`, `mandate:<uuid>`.
    subject TEXT NOT NULL,
    -- The JSON body (no proxy, HKID or account reference in clear).
    payload TEXT NOT NULL,
    created_at_s BIGINT NOT NULL
);

CREATE INDEX fps_events_participant ON fps_events (participant, seq);

CREATE FUNCTION fps_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'fps_events is append-only';
END;
$$;

CREATE TRIGGER fps_events_no_change BEFORE UPDATE OR DELETE ON fps_events
    FOR EACH ROW EXECUTE FUNCTION fps_events_append_only();

CREATE TRIGGER fps_events_no_truncate BEFORE TRUNCATE ON fps_events
    FOR EACH STATEMENT EXECUTE FUNCTION fps_events_append_only();
