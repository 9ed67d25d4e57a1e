-- 開放數據 Open data, the write side (crates/opendata): publishers' API tokens and the
-- historical archive of every uploaded file's versions.
--
-- No token is stored: only the SHA-256 of its 256-bit random secret, in lower-case hex. Times
-- are Unix seconds.

CREATE TABLE opendata_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    secret_sha256 TEXT NOT NULL UNIQUE CHECK (length(secret_sha256) = 64),
    -- What the operator called it ("ckanapi on the TD's harvester").
    name TEXT NOT NULL,
    -- The publisher (a user name), written into the audit log of every write.
    publisher TEXT NOT NULL,
    sysadmin BIGINT NOT NULL CHECK (sysadmin IN (0, 1)),
    -- Organisation ids the publisher edits, a JSON array of text (empty for a sysadmin).
    organizations TEXT NOT NULL,
    created_at_s BIGINT NOT NULL,
    last_used_at_s BIGINT,
    expires_at_s BIGINT,
    revoked_at_s BIGINT
);

-- Every version of every uploaded file: a new upload to a resource adds a row; none is
-- updated or deleted. The bytes are under the catalogue's directory, at files/ab/cd/<sha256>,
-- shared by every version with the same content. `dataset` and `resource` are not foreign
-- keys: a version outlives the resource it was uploaded to (the archive keeps it).
CREATE TABLE opendata_file_versions (
    -- The order of uploads, also within one second.
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    dataset TEXT NOT NULL,
    resource TEXT NOT NULL,
    -- The download URL the resource had when this version was uploaded; the archive's `url`.
    url TEXT NOT NULL,
    file_name TEXT NOT NULL,
    sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
    size_bytes BIGINT NOT NULL CHECK (size_bytes >= 0),
    mimetype TEXT NOT NULL,
    format TEXT NOT NULL,
    uploaded_at_s BIGINT NOT NULL,
    publisher TEXT NOT NULL
);

CREATE INDEX opendata_file_versions_by_resource ON opendata_file_versions (resource, seq);
CREATE INDEX opendata_file_versions_by_url ON opendata_file_versions (url, seq);
CREATE INDEX opendata_file_versions_by_time ON opendata_file_versions (uploaded_at_s);
