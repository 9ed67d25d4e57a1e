-- Facts about this installation itself, e.g. whether demo data was loaded (key 'demo').
CREATE TABLE bauhinia_meta (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
