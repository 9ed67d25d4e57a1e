-- The pairwise subject a grant was issued under, so a service that knows a resident only by
-- its `sub` can address a signing request to them.
ALTER TABLE identity_grants ADD COLUMN subject TEXT;
CREATE INDEX identity_grants_subject ON identity_grants (client_id, subject);
