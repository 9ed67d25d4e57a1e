//! The catalogue's writes (migrations 0025 and 0026) on SQLite and PostgreSQL: a dataset saved
//! whole — its row, categories, tags and resources, the file version an upload adds, and its
//! audit event — in one transaction or not at all; publishers' tokens; the historical
//! archive's file versions.
//!
//! Never decides who may write: the service checks the publisher's rights before calling.

use bauhinia_core::FieldError;
use bauhinia_store::audit::{AuditEvent, Outcome};
use bauhinia_store::dialect::is_unique_violation;
use bauhinia_store::{read, write_tx, StoreError};

use crate::domain::Dataset;
use crate::error::OpendataError;
use crate::store::CatalogueStore;
use crate::token::TokenRecord;

/// Whether a save adds a dataset or replaces the stored one with the same id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Save {
    Create,
    Replace,
}

/// One version of one uploaded file, as the archive keeps it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FileVersion {
    pub id: String,
    pub dataset: String,
    pub resource: String,
    /// The resource's download URL when this version was uploaded.
    pub url: String,
    pub file_name: String,
    pub sha256: String,
    pub size_bytes: i64,
    pub mimetype: String,
    pub format: String,
    pub uploaded_at_s: i64,
    pub publisher: String,
}

/// `list-files`' filter: versions uploaded in `[from_s, to_s)`, of datasets in a category, of a
/// provider, in a format.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileFilter {
    pub from_s: i64,
    pub to_s: i64,
    pub category: Option<String>,
    pub provider: Option<String>,
    pub format: Option<String>,
    pub max: u32,
    pub skip: u32,
}

/// A file of `list-files`: its URL, the dataset and resource it belongs to, and how many of its
/// versions fall in the period.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ArchivedFile {
    pub url: String,
    pub dataset: String,
    pub resource: String,
    pub format: String,
    pub versions: i64,
    pub last_uploaded_at_s: i64,
}

#[derive(Debug, sqlx::FromRow)]
struct TokenRow {
    id: String,
    name: String,
    publisher: String,
    sysadmin: i64,
    organizations: String,
    created_at_s: i64,
    last_used_at_s: Option<i64>,
    expires_at_s: Option<i64>,
    revoked_at_s: Option<i64>,
    secret_sha256: String,
}

const TOKEN_COLUMNS: &str = "id, name, publisher, sysadmin, organizations, created_at_s, \
     last_used_at_s, expires_at_s, revoked_at_s, secret_sha256";

fn decode_token(row: TokenRow) -> Result<TokenRecord, StoreError> {
    let organizations: Vec<String> = serde_json::from_str(&row.organizations)
        .map_err(|_| StoreError::Corrupt(format!("open data token {}", row.id)))?;
    Ok(TokenRecord {
        id: row.id,
        name: row.name,
        publisher: row.publisher,
        sysadmin: row.sysadmin != 0,
        organizations,
        created_s: row.created_at_s,
        last_used_s: row.last_used_at_s,
        expires_s: row.expires_at_s,
        revoked_s: row.revoked_at_s,
    })
}

fn event(
    actor: &str,
    action: &'static str,
    subject: String,
    detail: serde_json::Value,
) -> AuditEvent {
    AuditEvent {
        actor: actor.to_owned(),
        action,
        subject,
        outcome: Outcome::Success,
        detail,
        request_id: None,
    }
}

fn exists_or(error: OpendataError, name: &str) -> OpendataError {
    match error {
        OpendataError::Store(StoreError::Sqlx(e)) if is_unique_violation(&e) => {
            OpendataError::Exists(name.to_owned())
        }
        other => other,
    }
}

const FILE_COLUMNS: &str = "id, dataset, resource, url, file_name, sha256, size_bytes, mimetype, \
     format, uploaded_at_s, publisher";

impl CatalogueStore {
    /// Saves a dataset whole, with `file` (an upload's new version) if given, and the audit
    /// event `action` by `actor`, in one transaction. `Exists` if the name is taken; `Invalid`
    /// naming `/owner_org` or `/groups/i` if the provider or a category is not in the catalogue,
    /// `/id` if a created dataset's id is taken, `/resources/i/id` if a resource's id is
    /// another dataset's; `NotFound` if a replaced dataset is not stored. On any error
    /// nothing is written.
    pub async fn save_dataset(
        &self,
        d: &Dataset,
        save: Save,
        actor: &str,
        action: &'static str,
        file: Option<&FileVersion>,
    ) -> Result<(), OpendataError> {
        let audit = event(
            actor,
            action,
            format!("opendata_dataset:{}", d.name.as_str()),
            serde_json::json!({
                "id": d.id,
                "owner_org": d.organization.as_str(),
                "private": d.private,
                "state": d.state.as_str(),
                "resources": d.resources.len(),
                "file_sha256": file.map(|f| f.sha256.as_str()),
            }),
        );
        let result: Result<Result<(), Vec<FieldError>>, OpendataError> = async {
            Ok(write_tx!(self.db(), tx, append => {
                let org: Option<String> =
                    sqlx::query_scalar("SELECT id FROM opendata_organizations WHERE name = $1")
                        .bind(d.organization.as_str())
                        .fetch_optional(&mut *tx)
                        .await?;
                let Some(org) = org else {
                    return Ok(Err(vec![FieldError::new("/owner_org", "Organization does not exist")]));
                };
                let mut groups = Vec::with_capacity(d.groups.len());
                let mut missing = Vec::new();
                for (i, g) in d.groups.iter().enumerate() {
                    let id: Option<String> =
                        sqlx::query_scalar("SELECT id FROM opendata_groups WHERE name = $1")
                            .bind(g.as_str())
                            .fetch_optional(&mut *tx)
                            .await?;
                    match id {
                        Some(id) => groups.push(id),
                        None => missing.push(FieldError::new(format!("/groups/{i}"), "Group does not exist")),
                    }
                }
                if save == Save::Create {
                    let taken: Option<String> =
                        sqlx::query_scalar("SELECT id FROM opendata_datasets WHERE id = $1")
                            .bind(&d.id)
                            .fetch_optional(&mut *tx)
                            .await?;
                    if taken.is_some() {
                        missing.push(FieldError::new("/id", "That id is already in use."));
                    }
                }
                for (i, r) in d.resources.iter().enumerate() {
                    let elsewhere: Option<String> = sqlx::query_scalar(
                        "SELECT dataset FROM opendata_resources WHERE id = $1 AND dataset <> $2",
                    )
                    .bind(&r.id)
                    .bind(&d.id)
                    .fetch_optional(&mut *tx)
                    .await?;
                    if elsewhere.is_some() {
                        missing.push(FieldError::new(
                            format!("/resources/{i}/id"),
                            "That id is already in use by another dataset's resource.",
                        ));
                    }
                }
                if !missing.is_empty() {
                    return Ok(Err(missing));
                }
                let coverage_from = d.temporal.map(|t| t.from.to_string());
                let coverage_to = d.temporal.and_then(|t| t.to).map(|t| t.to_string());
                let sql = match save {
                    Save::Create => "INSERT INTO opendata_datasets (id, name, organization, \
                        title_en, title_zh_hant, title_zh_hans, notes_en, notes_zh_hant, \
                        notes_zh_hans, license_id, update_frequency, coverage_from, coverage_to, \
                        spatial_coverage, private, state, created_at_s, modified_at_s) VALUES \
                        ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
                        $17, $18)",
                    Save::Replace => "UPDATE opendata_datasets SET name = $2, organization = $3, \
                        title_en = $4, title_zh_hant = $5, title_zh_hans = $6, notes_en = $7, \
                        notes_zh_hant = $8, notes_zh_hans = $9, license_id = $10, \
                        update_frequency = $11, coverage_from = $12, coverage_to = $13, \
                        spatial_coverage = $14, private = $15, state = $16, created_at_s = $17, \
                        modified_at_s = $18 WHERE id = $1",
                };
                let written = sqlx::query(sql)
                    .bind(&d.id)
                    .bind(d.name.as_str())
                    .bind(&org)
                    .bind(&d.title.en)
                    .bind(&d.title.zh_hant)
                    .bind(&d.title.zh_hans)
                    .bind(&d.notes.en)
                    .bind(&d.notes.zh_hant)
                    .bind(&d.notes.zh_hans)
                    .bind(d.licence.as_str())
                    .bind(d.frequency.as_str())
                    .bind(coverage_from)
                    .bind(coverage_to)
                    .bind(&d.spatial)
                    .bind(i64::from(d.private))
                    .bind(d.state.as_str())
                    .bind(d.created_s)
                    .bind(d.modified_s)
                    .execute(&mut *tx)
                    .await?;
                if written.rows_affected() != 1 {
                    return Err(OpendataError::NotFound(String::new()));
                }
                if save == Save::Replace {
                    for table in ["opendata_dataset_groups", "opendata_dataset_tags"] {
                        sqlx::query(&format!("DELETE FROM {table} WHERE dataset = $1"))
                            .bind(&d.id)
                            .execute(&mut *tx)
                            .await?;
                    }
                    // Resources that stay keep their rows (an OGC collection or datastore
                    // table refers to them); those that go take their collection and their
                    // datastore table with them. Positions move out of the way first, since
                    // a dataset's positions are unique.
                    let stored: Vec<String> =
                        sqlx::query_scalar("SELECT id FROM opendata_resources WHERE dataset = $1")
                            .bind(&d.id)
                            .fetch_all(&mut *tx)
                            .await?;
                    for gone in stored.iter().filter(|id| !d.resources.iter().any(|r| &r.id == *id)) {
                        sqlx::query("DELETE FROM opendata_features WHERE collection IN \
                                     (SELECT id FROM opendata_collections WHERE resource = $1)")
                            .bind(gone)
                            .execute(&mut *tx)
                            .await?;
                        sqlx::query("DELETE FROM opendata_collections WHERE resource = $1")
                            .bind(gone)
                            .execute(&mut *tx)
                            .await?;
                        let table: Option<String> = sqlx::query_scalar(
                            "SELECT table_name FROM opendata_datastore WHERE resource = $1",
                        )
                        .bind(gone)
                        .fetch_optional(&mut *tx)
                        .await?;
                        if let Some(table) = table.filter(|t| crate::datastore::store::is_ours(t)) {
                            sqlx::query(&format!("DROP TABLE {table}")).execute(&mut *tx).await?;
                            sqlx::query("DELETE FROM opendata_datastore WHERE resource = $1")
                                .bind(gone)
                                .execute(&mut *tx)
                                .await?;
                        }
                        sqlx::query("DELETE FROM opendata_resources WHERE id = $1")
                            .bind(gone)
                            .execute(&mut *tx)
                            .await?;
                    }
                    sqlx::query(
                        "UPDATE opendata_resources SET position = -1 - position WHERE dataset = $1",
                    )
                    .bind(&d.id)
                    .execute(&mut *tx)
                    .await?;
                }
                for (position, group) in (0_i64..).zip(&groups) {
                    sqlx::query(
                        "INSERT INTO opendata_dataset_groups (dataset, grp, position) VALUES ($1, $2, $3)",
                    )
                    .bind(&d.id)
                    .bind(group)
                    .bind(position)
                    .execute(&mut *tx)
                    .await?;
                }
                for (position, tag) in (0_i64..).zip(&d.tags) {
                    sqlx::query(
                        "INSERT INTO opendata_tags (id, name) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
                    )
                    .bind(uuid::Uuid::new_v4().to_string())
                    .bind(tag.as_str())
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query(
                        "INSERT INTO opendata_dataset_tags (dataset, tag, position) \
                         SELECT $1, id, $2 FROM opendata_tags WHERE name = $3",
                    )
                    .bind(&d.id)
                    .bind(position)
                    .bind(tag.as_str())
                    .execute(&mut *tx)
                    .await?;
                }
                for (position, r) in (0_i64..).zip(&d.resources) {
                    let saved = sqlx::query(
                        "INSERT INTO opendata_resources (id, dataset, position, name_en, name_zh_hant, \
                         name_zh_hans, description_en, description_zh_hant, description_zh_hans, \
                         format, url, size_bytes, hash, created_at_s, modified_at_s) VALUES ($1, $2, \
                         $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
                         ON CONFLICT (id) DO UPDATE SET position = excluded.position, \
                         name_en = excluded.name_en, name_zh_hant = excluded.name_zh_hant, \
                         name_zh_hans = excluded.name_zh_hans, description_en = excluded.description_en, \
                         description_zh_hant = excluded.description_zh_hant, \
                         description_zh_hans = excluded.description_zh_hans, format = excluded.format, \
                         url = excluded.url, size_bytes = excluded.size_bytes, hash = excluded.hash, \
                         created_at_s = excluded.created_at_s, modified_at_s = excluded.modified_at_s \
                         WHERE opendata_resources.dataset = excluded.dataset",
                    )
                    .bind(&r.id)
                    .bind(&d.id)
                    .bind(position)
                    .bind(&r.name.en)
                    .bind(&r.name.zh_hant)
                    .bind(&r.name.zh_hans)
                    .bind(&r.description.en)
                    .bind(&r.description.zh_hant)
                    .bind(&r.description.zh_hans)
                    .bind(r.format.as_str())
                    .bind(&r.url)
                    .bind(r.size_bytes)
                    .bind(&r.hash)
                    .bind(r.created_s)
                    .bind(r.modified_s)
                    .execute(&mut *tx)
                    .await?;
                    // Another dataset's resource has this id: not taken over.
                    if saved.rows_affected() != 1 {
                        return Err(OpendataError::Exists(r.id.clone()));
                    }
                }
                if let Some(f) = file {
                    let sql = format!(
                        "INSERT INTO opendata_file_versions ({FILE_COLUMNS}) VALUES ($1, $2, $3, \
                         $4, $5, $6, $7, $8, $9, $10, $11)"
                    );
                    sqlx::query(&sql)
                        .bind(&f.id)
                        .bind(&f.dataset)
                        .bind(&f.resource)
                        .bind(&f.url)
                        .bind(&f.file_name)
                        .bind(&f.sha256)
                        .bind(f.size_bytes)
                        .bind(&f.mimetype)
                        .bind(&f.format)
                        .bind(f.uploaded_at_s)
                        .bind(&f.publisher)
                        .execute(&mut *tx)
                        .await?;
                }
                append(&mut tx, &audit).await?;
                Ok(())
            }))
        }
        .await;
        match result.map_err(|e| exists_or(e, d.name.as_str()))? {
            Ok(()) => Ok(()),
            Err(faults) => Err(OpendataError::Invalid(faults)),
        }
    }

    /// Stores a token (its hash only), audited as issued by `actor`.
    pub async fn insert_token(
        &self,
        token: &TokenRecord,
        secret_sha256: &str,
        actor: &str,
    ) -> Result<(), OpendataError> {
        let audit = event(
            actor,
            "opendata.token.create",
            format!("opendata_token:{}", token.id),
            serde_json::json!({
                "publisher": token.publisher,
                "sysadmin": token.sysadmin,
                "organizations": token.organizations,
                "expires_at_s": token.expires_s,
            }),
        );
        let organizations = serde_json::to_string(&token.organizations)
            .map_err(|e| OpendataError::Io(e.to_string()))?;
        write_tx!(self.db(), tx, append => {
            sqlx::query(
                "INSERT INTO opendata_tokens (id, secret_sha256, name, publisher, sysadmin, \
                 organizations, created_at_s, expires_at_s) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&token.id)
            .bind(secret_sha256)
            .bind(&token.name)
            .bind(&token.publisher)
            .bind(i64::from(token.sysadmin))
            .bind(&organizations)
            .bind(token.created_s)
            .bind(token.expires_s)
            .execute(&mut *tx)
            .await?;
            append(&mut tx, &audit).await?;
        });
        Ok(())
    }

    /// The token whose secret has this hash, with the hash as stored.
    pub async fn token_by_hash(
        &self,
        secret_sha256: &str,
    ) -> Result<Option<(TokenRecord, String)>, StoreError> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM opendata_tokens WHERE secret_sha256 = $1");
        let found: Option<TokenRow> = read!(self.db(), conn => sqlx::query_as(&sql)
            .bind(secret_sha256)
            .fetch_optional(conn)
            .await?);
        match found {
            Some(row) => {
                let stored = row.secret_sha256.clone();
                Ok(Some((decode_token(row)?, stored)))
            }
            None => Ok(None),
        }
    }

    /// Records that a token was used (at most once a minute is written).
    pub async fn touch_token(&self, id: &str, now_s: i64) -> Result<(), StoreError> {
        write_tx!(self.db(), tx, _append => {
            sqlx::query(
                "UPDATE opendata_tokens SET last_used_at_s = $2 WHERE id = $1 \
                 AND (last_used_at_s IS NULL OR last_used_at_s < $2 - 60)",
            )
            .bind(id)
            .bind(now_s)
            .execute(&mut *tx)
            .await?;
        });
        Ok(())
    }

    /// Every token, newest first (no secrets: there are none to show).
    pub async fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        let sql =
            format!("SELECT {TOKEN_COLUMNS} FROM opendata_tokens ORDER BY created_at_s DESC, id");
        let rows: Vec<TokenRow> =
            read!(self.db(), conn => sqlx::query_as(&sql).fetch_all(conn).await?);
        rows.into_iter().map(decode_token).collect()
    }

    /// Revokes a token; `NotFound` if there is none by that id. Revoking twice keeps the first
    /// time.
    pub async fn revoke_token(
        &self,
        id: &str,
        actor: &str,
        now_s: i64,
    ) -> Result<(), OpendataError> {
        let audit = event(
            actor,
            "opendata.token.revoke",
            format!("opendata_token:{id}"),
            serde_json::json!({}),
        );
        let found = write_tx!(self.db(), tx, append => {
            let done = sqlx::query(
                "UPDATE opendata_tokens SET revoked_at_s = COALESCE(revoked_at_s, $2) WHERE id = $1",
            )
            .bind(id)
            .bind(now_s)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 1 {
                append(&mut tx, &audit).await?;
            }
            done.rows_affected() == 1
        });
        if found {
            Ok(())
        } else {
            Err(OpendataError::NotFound(String::new()))
        }
    }

    /// The id of the dataset a resource belongs to.
    pub async fn dataset_of_resource(&self, resource: &str) -> Result<Option<String>, StoreError> {
        Ok(read!(self.db(), conn => sqlx::query_scalar(
            "SELECT dataset FROM opendata_resources WHERE id = $1",
        )
        .bind(resource)
        .fetch_optional(conn)
        .await?))
    }

    /// A resource's versions, oldest first, uploaded in `[from_s, to_s)`.
    pub async fn file_versions(
        &self,
        url: &str,
        from_s: i64,
        to_s: i64,
    ) -> Result<Vec<FileVersion>, StoreError> {
        let sql = format!(
            "SELECT {FILE_COLUMNS} FROM opendata_file_versions WHERE url = $1 \
             AND uploaded_at_s >= $2 AND uploaded_at_s < $3 ORDER BY seq"
        );
        Ok(read!(self.db(), conn => sqlx::query_as(&sql)
            .bind(url)
            .bind(from_s)
            .bind(to_s)
            .fetch_all(conn)
            .await?))
    }

    /// The newest version of the file at `url` uploaded before `before_s`.
    pub async fn file_version_at(
        &self,
        url: &str,
        before_s: i64,
    ) -> Result<Option<FileVersion>, StoreError> {
        let sql = format!(
            "SELECT {FILE_COLUMNS} FROM opendata_file_versions WHERE url = $1 \
             AND uploaded_at_s < $2 ORDER BY seq DESC LIMIT 1"
        );
        Ok(read!(self.db(), conn => sqlx::query_as(&sql)
            .bind(url)
            .bind(before_s)
            .fetch_optional(conn)
            .await?))
    }

    /// A resource's newest version.
    pub async fn latest_file(&self, resource: &str) -> Result<Option<FileVersion>, StoreError> {
        let sql = format!(
            "SELECT {FILE_COLUMNS} FROM opendata_file_versions WHERE resource = $1 \
             ORDER BY seq DESC LIMIT 1"
        );
        Ok(read!(self.db(), conn => sqlx::query_as(&sql)
            .bind(resource)
            .fetch_optional(conn)
            .await?))
    }

    /// `list-files`: the files with versions in the period, of public active datasets, by URL;
    /// and how many there are in all.
    pub async fn archived_files(
        &self,
        filter: &FileFilter,
    ) -> Result<(Vec<ArchivedFile>, i64), StoreError> {
        let matching = "FROM opendata_file_versions v \
             JOIN opendata_datasets d ON d.id = v.dataset \
             JOIN opendata_organizations o ON o.id = d.organization \
             WHERE v.uploaded_at_s >= $1 AND v.uploaded_at_s < $2 \
             AND d.state = 'active' AND d.private = 0 \
             AND ($3 IS NULL OR o.name = $3) \
             AND ($4 IS NULL OR LOWER(v.format) = LOWER($4)) \
             AND ($5 IS NULL OR EXISTS (SELECT 1 FROM opendata_dataset_groups dg \
                  JOIN opendata_groups g ON g.id = dg.grp WHERE dg.dataset = d.id AND g.name = $5))";
        let list = format!(
            "SELECT v.url, MIN(v.dataset) AS dataset, MIN(v.resource) AS resource, \
             MAX(v.format) AS format, COUNT(*) AS versions, MAX(v.uploaded_at_s) AS \
             last_uploaded_at_s {matching} GROUP BY v.url ORDER BY v.url LIMIT $6 OFFSET $7"
        );
        let count = format!("SELECT COUNT(DISTINCT v.url) {matching}");
        let files: Vec<ArchivedFile> = read!(self.db(), conn => sqlx::query_as(&list)
            .bind(filter.from_s)
            .bind(filter.to_s)
            .bind(filter.provider.as_deref())
            .bind(filter.format.as_deref())
            .bind(filter.category.as_deref())
            .bind(i64::from(filter.max))
            .bind(i64::from(filter.skip))
            .fetch_all(conn)
            .await?);
        let total: i64 = read!(self.db(), conn => sqlx::query_scalar(&count)
            .bind(filter.from_s)
            .bind(filter.to_s)
            .bind(filter.provider.as_deref())
            .bind(filter.format.as_deref())
            .bind(filter.category.as_deref())
            .fetch_one(conn)
            .await?);
        Ok((files, total))
    }
}
