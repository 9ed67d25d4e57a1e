-- 開放數據 Open data (crates/opendata): the catalogue behind the CKAN-compatible Action API —
-- providers (CKAN organisations), DATA.GOV.HK's 19 categories (CKAN groups), datasets (CKAN
-- packages), their resources and tags.
--
-- Every id is a UUID in text; every name a CKAN name (lower-case ASCII, digits, `-`, `_`),
-- checked by the domain before it is written. Texts are kept in the three portal languages:
-- `_en`, `_zh_hant` (繁體), `_zh_hans` (简体). Times are Unix seconds.

CREATE TABLE opendata_organizations (
    id TEXT PRIMARY KEY NOT NULL,
    -- `hk-td`, `hk-dpo`, …
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('bureau', 'department', 'other')),
    title_en TEXT NOT NULL,
    title_zh_hant TEXT NOT NULL,
    title_zh_hans TEXT NOT NULL,
    description_en TEXT NOT NULL,
    description_zh_hant TEXT NOT NULL,
    description_zh_hans TEXT NOT NULL,
    url TEXT,
    created_at_s BIGINT NOT NULL
);

-- One row per category; the names are DATA.GOV.HK's (`transport`, `climate-and-weather`, …).
CREATE TABLE opendata_groups (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL UNIQUE,
    title_en TEXT NOT NULL,
    title_zh_hant TEXT NOT NULL,
    title_zh_hans TEXT NOT NULL,
    description_en TEXT NOT NULL,
    description_zh_hant TEXT NOT NULL,
    description_zh_hans TEXT NOT NULL,
    created_at_s BIGINT NOT NULL
);

CREATE TABLE opendata_datasets (
    id TEXT PRIMARY KEY NOT NULL,
    -- `{provider}-{team}-{name}`, e.g. `hk-td-tis-traffic-speed`.
    name TEXT NOT NULL UNIQUE,
    organization TEXT NOT NULL REFERENCES opendata_organizations (id),
    title_en TEXT NOT NULL,
    title_zh_hant TEXT NOT NULL,
    title_zh_hans TEXT NOT NULL,
    notes_en TEXT NOT NULL,
    notes_zh_hant TEXT NOT NULL,
    notes_zh_hans TEXT NOT NULL,
    license_id TEXT NOT NULL,
    update_frequency TEXT NOT NULL,
    -- `YYYY-MM-DD`; NULL when not stated; an open end is "to date".
    coverage_from TEXT,
    coverage_to TEXT,
    spatial_coverage TEXT NOT NULL,
    private BIGINT NOT NULL CHECK (private IN (0, 1)),
    state TEXT NOT NULL CHECK (state IN ('active', 'deleted')),
    created_at_s BIGINT NOT NULL,
    modified_at_s BIGINT NOT NULL
);

-- package_list and an organisation's datasets read public, active datasets by name.
CREATE INDEX opendata_datasets_listed ON opendata_datasets (state, private, name);
CREATE INDEX opendata_datasets_organization ON opendata_datasets (organization, name);

CREATE TABLE opendata_dataset_groups (
    dataset TEXT NOT NULL REFERENCES opendata_datasets (id),
    grp TEXT NOT NULL REFERENCES opendata_groups (id),
    position BIGINT NOT NULL,
    PRIMARY KEY (dataset, grp)
);

CREATE INDEX opendata_dataset_groups_by_group ON opendata_dataset_groups (grp, dataset);

-- CKAN gives every free tag an id; a tag's name is unique.
CREATE TABLE opendata_tags (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL UNIQUE
);

CREATE TABLE opendata_dataset_tags (
    dataset TEXT NOT NULL REFERENCES opendata_datasets (id),
    tag TEXT NOT NULL REFERENCES opendata_tags (id),
    position BIGINT NOT NULL,
    PRIMARY KEY (dataset, tag)
);

CREATE INDEX opendata_dataset_tags_by_tag ON opendata_dataset_tags (tag, dataset);

-- A dataset's files and API links, in the order the dataset lists them.
CREATE TABLE opendata_resources (
    id TEXT PRIMARY KEY NOT NULL,
    dataset TEXT NOT NULL REFERENCES opendata_datasets (id),
    position BIGINT NOT NULL,
    name_en TEXT NOT NULL,
    name_zh_hant TEXT NOT NULL,
    name_zh_hans TEXT NOT NULL,
    description_en TEXT NOT NULL,
    description_zh_hant TEXT NOT NULL,
    description_zh_hans TEXT NOT NULL,
    format TEXT NOT NULL CHECK (format IN ('CSV', 'JSON', 'XML', 'GeoJSON', 'API')),
    url TEXT NOT NULL,
    size_bytes BIGINT,
    hash TEXT NOT NULL,
    created_at_s BIGINT NOT NULL,
    modified_at_s BIGINT NOT NULL,
    UNIQUE (dataset, position)
);
