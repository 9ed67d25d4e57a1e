//! The collections and features tables (migration 0027) on SQLite and PostgreSQL. A
//! publication replaces a collection whole — its row, all its features, and its audit event —
//! in one transaction, or changes nothing.

use bauhinia_core::Localized;
use bauhinia_store::audit::{AuditEvent, Outcome};
use bauhinia_store::{read, write_tx, Database, StoreError};

use super::features::{filter_values, PreparedFeature};
use super::index::{CollectionMeta, IndexedFeature};
use super::query::Bbox;
use crate::error::OpendataError;

/// Features are written this many to a statement (9 values each: well under both dialects'
/// limits on bound values).
const INSERT_BATCH: usize = 500;

#[derive(Debug, sqlx::FromRow)]
struct CollectionRow {
    id: String,
    dataset: String,
    resource: String,
    title_en: String,
    title_zh_hant: String,
    title_zh_hans: String,
    description_en: String,
    description_zh_hant: String,
    description_zh_hans: String,
    source_crs: String,
    min_x: Option<f64>,
    min_y: Option<f64>,
    max_x: Option<f64>,
    max_y: Option<f64>,
    time_from_s: Option<i64>,
    time_to_s: Option<i64>,
    queryables: String,
    feature_count: i64,
    modified_at_s: i64,
}

#[derive(Debug, sqlx::FromRow)]
struct FeatureRow {
    feature_id: String,
    min_x: Option<f64>,
    min_y: Option<f64>,
    max_x: Option<f64>,
    max_y: Option<f64>,
    datetime_s: Option<i64>,
    geojson: String,
}

fn bbox(
    min_x: Option<f64>,
    min_y: Option<f64>,
    max_x: Option<f64>,
    max_y: Option<f64>,
) -> Option<Bbox> {
    Some(Bbox {
        min_x: min_x?,
        min_y: min_y?,
        max_x: max_x?,
        max_y: max_y?,
    })
}

fn decode_collection(row: CollectionRow) -> Result<CollectionMeta, StoreError> {
    let queryables: Vec<String> = serde_json::from_str(&row.queryables)
        .map_err(|_| StoreError::Corrupt(format!("open data collection {} queryables", row.id)))?;
    Ok(CollectionMeta {
        extent: bbox(row.min_x, row.min_y, row.max_x, row.max_y),
        interval: row.time_from_s.zip(row.time_to_s),
        title: Localized {
            en: row.title_en,
            zh_hant: row.title_zh_hant,
            zh_hans: row.title_zh_hans,
        },
        description: Localized {
            en: row.description_en,
            zh_hant: row.description_zh_hant,
            zh_hans: row.description_zh_hans,
        },
        id: row.id,
        dataset_id: row.dataset,
        resource_id: row.resource,
        source_crs: row.source_crs,
        queryables,
        feature_count: row.feature_count,
        modified_s: row.modified_at_s,
    })
}

const COLLECTION_COLUMNS: &str = "id, dataset, resource, title_en, title_zh_hant, title_zh_hans, \
     description_en, description_zh_hant, description_zh_hans, source_crs, min_x, min_y, max_x, \
     max_y, time_from_s, time_to_s, queryables, feature_count, modified_at_s";

/// Every collection, by id.
pub async fn collections(db: &Database) -> Result<Vec<CollectionMeta>, StoreError> {
    let sql = format!("SELECT {COLLECTION_COLUMNS} FROM opendata_collections ORDER BY id");
    let rows: Vec<CollectionRow> = read!(db, conn => sqlx::query_as(&sql).fetch_all(conn).await?);
    rows.into_iter().map(decode_collection).collect()
}

/// The collection publishing this resource, if there is one.
pub async fn collection_of_resource(
    db: &Database,
    resource_id: &str,
) -> Result<Option<CollectionMeta>, StoreError> {
    let sql = format!("SELECT {COLLECTION_COLUMNS} FROM opendata_collections WHERE resource = $1");
    let row: Option<CollectionRow> = read!(db, conn => sqlx::query_as(&sql)
        .bind(resource_id)
        .fetch_optional(conn)
        .await?);
    row.map(decode_collection).transpose()
}

/// Whether a collection other than the one of `resource_id` has this id.
pub async fn id_taken(db: &Database, id: &str, resource_id: &str) -> Result<bool, StoreError> {
    let n: i64 = read!(db, conn => sqlx::query_scalar(
        "SELECT COUNT(*) FROM opendata_collections WHERE id = $1 AND resource <> $2",
    )
    .bind(id)
    .bind(resource_id)
    .fetch_one(conn)
    .await?);
    Ok(n > 0)
}

/// A collection's features, in their order.
pub async fn features(
    db: &Database,
    collection: &str,
    queryables: &[String],
) -> Result<Vec<IndexedFeature>, StoreError> {
    let rows: Vec<FeatureRow> = read!(db, conn => sqlx::query_as(
        "SELECT feature_id, min_x, min_y, max_x, max_y, datetime_s, geojson FROM opendata_features \
         WHERE collection = $1 ORDER BY position",
    )
    .bind(collection)
    .fetch_all(conn)
    .await?);
    Ok(rows
        .into_iter()
        .map(|r| IndexedFeature {
            filters: if queryables.is_empty() {
                Vec::new()
            } else {
                filter_values(&r.geojson, queryables)
            },
            bbox: bbox(r.min_x, r.min_y, r.max_x, r.max_y),
            datetime_s: r.datetime_s,
            geojson: r.geojson.into_boxed_str(),
            id: r.feature_id,
        })
        .collect())
}

/// Replaces the collection publishing `meta.resource_id` (under `meta.id`) with these features,
/// in one transaction with its audit event.
pub async fn replace(
    db: &Database,
    meta: &CollectionMeta,
    features: &[PreparedFeature],
    actor: &str,
) -> Result<(), OpendataError> {
    let event = AuditEvent {
        actor: actor.to_owned(),
        action: "opendata.collection.publish",
        subject: format!("opendata_collection:{}", meta.id),
        outcome: Outcome::Success,
        detail: serde_json::json!({
            "dataset": meta.dataset_id,
            "resource": meta.resource_id,
            "features": features.len(),
            "source_crs": meta.source_crs,
        }),
        request_id: None,
    };
    let queryables = serde_json::to_string(&meta.queryables).unwrap_or_else(|_| "[]".into());
    let extent = meta.extent.map(|b| b.as_array());
    let corner = |i: usize| extent.and_then(|e| e.get(i).copied());
    write_tx!(db, tx, append => {
        sqlx::query("DELETE FROM opendata_features WHERE collection IN \
                     (SELECT id FROM opendata_collections WHERE resource = $1)")
            .bind(&meta.resource_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM opendata_collections WHERE resource = $1")
            .bind(&meta.resource_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO opendata_collections (id, dataset, resource, title_en, title_zh_hant, \
             title_zh_hans, description_en, description_zh_hant, description_zh_hans, source_crs, \
             min_x, min_y, max_x, max_y, time_from_s, time_to_s, queryables, feature_count, \
             created_at_s, modified_at_s) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, \
             $12, $13, $14, $15, $16, $17, $18, $19, $19)",
        )
        .bind(&meta.id)
        .bind(&meta.dataset_id)
        .bind(&meta.resource_id)
        .bind(&meta.title.en)
        .bind(&meta.title.zh_hant)
        .bind(&meta.title.zh_hans)
        .bind(&meta.description.en)
        .bind(&meta.description.zh_hant)
        .bind(&meta.description.zh_hans)
        .bind(&meta.source_crs)
        .bind(corner(0))
        .bind(corner(1))
        .bind(corner(2))
        .bind(corner(3))
        .bind(meta.interval.map(|i| i.0))
        .bind(meta.interval.map(|i| i.1))
        .bind(&queryables)
        .bind(meta.feature_count)
        .bind(meta.modified_s)
        .execute(&mut *tx)
        .await?;
        for (batch, chunk) in (0_i64..).zip(features.chunks(INSERT_BATCH)) {
            let mut insert = sqlx::QueryBuilder::new(
                "INSERT INTO opendata_features (collection, feature_id, position, min_x, min_y, \
                 max_x, max_y, datetime_s, geojson) ",
            );
            let first = batch * INSERT_BATCH as i64;
            insert.push_values((first..).zip(chunk), |mut row, (position, f)| {
                let b = f.bbox;
                row.push_bind(&meta.id)
                    .push_bind(&f.id)
                    .push_bind(position)
                    .push_bind(b.map(|b| b.min_x))
                    .push_bind(b.map(|b| b.min_y))
                    .push_bind(b.map(|b| b.max_x))
                    .push_bind(b.map(|b| b.max_y))
                    .push_bind(f.datetime_s)
                    .push_bind(&f.geojson);
            });
            // Not kept in the connection's statement cache: a layer is published rarely, and its
            // 500-row statement would stay prepared in whichever connection ran it.
            insert.build().persistent(false).execute(&mut *tx).await?;
        }
        append(&mut tx, &event).await?;
    });
    Ok(())
}
