-- 開放數據 Open data's datastore (crates/opendata/src/datastore): a tabular resource (CSV,
-- JSON) ingested into a table of its own. This table is the data dictionary: which table holds
-- a resource's rows, and its fields with their types, in column order (`c0`, `c1`, …).
--
-- The per-resource tables are named `opendata_ds_<32 hex>`, made by the code, never from
-- input. No foreign key to opendata_resources: a resource's rows go with its data, and the
-- service drops them when the resource goes.

CREATE TABLE opendata_datastore (
    resource TEXT PRIMARY KEY NOT NULL,
    table_name TEXT NOT NULL UNIQUE,
    -- JSON: [{"id": "district", "type": "text"}, …]
    fields TEXT NOT NULL,
    row_count BIGINT NOT NULL,
    created_at_s BIGINT NOT NULL,
    modified_at_s BIGINT NOT NULL
);
