-- Funding Easy: the scheme catalogue, one row per version of a scheme. Rows are never updated:
-- a change in the fact sheet is a new version, so what the matcher said on a given day can be
-- reproduced. `document` is the scheme as JSON (the funding crate's domain type).
CREATE TABLE funding_scheme_versions (
    scheme_id TEXT NOT NULL CHECK (length(scheme_id) BETWEEN 1 AND 64),
    version INTEGER NOT NULL CHECK (version >= 1),
    effective_from TEXT NOT NULL,
    status TEXT NOT NULL,
    catalogue_version TEXT NOT NULL,
    document TEXT NOT NULL CHECK (json_valid(document)),
    recorded_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (scheme_id, version)
) STRICT;

CREATE INDEX funding_scheme_versions_latest ON funding_scheme_versions (scheme_id, version DESC);
