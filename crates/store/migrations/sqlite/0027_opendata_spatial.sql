-- 開放數據 Open data, spatial (crates/opendata/src/spatial): a GeoJSON resource published as an
-- OGC API – Features collection, and its features in WGS84 (CRS84) with their bounding boxes.
--
-- The features' GeoJSON is kept as served (converted from the HK1980 Grid when it came in
-- that grid). The spatial index is built from these rows at start (an R*-tree in memory), so
-- both dialects keep plain columns. Times are Unix seconds; coordinates are degrees.

CREATE TABLE opendata_collections (
    -- The collection's id in `/ogc/collections/{id}`: the dataset's name, or the dataset's
    -- name and the resource's when a dataset has more than one GeoJSON resource.
    id TEXT PRIMARY KEY NOT NULL,
    dataset TEXT NOT NULL REFERENCES opendata_datasets (id),
    resource TEXT NOT NULL UNIQUE REFERENCES opendata_resources (id),
    title_en TEXT NOT NULL,
    title_zh_hant TEXT NOT NULL,
    title_zh_hans TEXT NOT NULL,
    description_en TEXT NOT NULL,
    description_zh_hant TEXT NOT NULL,
    description_zh_hans TEXT NOT NULL,
    -- The CRS the upload was in, as an OGC URI.
    source_crs TEXT NOT NULL,
    -- The extent: NULL when no feature has a geometry.
    min_x REAL,
    min_y REAL,
    max_x REAL,
    max_y REAL,
    -- The span of the features' `datetime` property: NULL when none has one.
    time_from_s INTEGER,
    time_to_s INTEGER,
    -- The properties items can be filtered by, as a JSON array of names.
    queryables TEXT NOT NULL,
    feature_count INTEGER NOT NULL,
    created_at_s INTEGER NOT NULL,
    modified_at_s INTEGER NOT NULL
) STRICT;

CREATE TABLE opendata_features (
    collection TEXT NOT NULL REFERENCES opendata_collections (id) ON DELETE CASCADE,
    -- The feature's id in `/items/{featureId}`: its GeoJSON `id`, or its position from 1.
    feature_id TEXT NOT NULL,
    -- The feature's place in the upload: the order items are served in.
    position INTEGER NOT NULL,
    min_x REAL,
    min_y REAL,
    max_x REAL,
    max_y REAL,
    datetime_s INTEGER,
    geojson TEXT NOT NULL,
    PRIMARY KEY (collection, feature_id)
) STRICT;

CREATE UNIQUE INDEX opendata_features_by_position ON opendata_features (collection, position);
