//! The catalogue's tables (migration 0025) on SQLite and PostgreSQL, one query text for both
//! through `read!` and `write_tx!`. A dataset is written whole — its row, categories, tags and
//! resources, and its audit event — in one transaction, or not at all.
//!
//! Reads return every dataset they find, private or deleted too: who may see what is the
//! service's rule, not the store's. Lists for anonymous callers (`package_list`, counts) read
//! only active, public datasets.

use bauhinia_core::{FieldError, Localized};
use bauhinia_store::audit::{AuditEvent, Outcome};
use bauhinia_store::dialect::is_unique_violation;
use bauhinia_store::{read, write_tx, Database, StoreError};

use crate::domain::{
    self, Dataset, Format, Frequency, Group, Licence, Name, OrgKind, Organization, Resource, State,
    Tag, TemporalCoverage,
};
use crate::error::OpendataError;

/// An organisation or group with the number of public, active datasets it has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counted<T> {
    pub item: T,
    pub package_count: i64,
}

/// Whose datasets to list.
#[derive(Debug, Clone, Copy)]
pub enum Owner<'a> {
    Organization(&'a str),
    Group(&'a str),
}

#[derive(Debug, sqlx::FromRow)]
struct DatasetRow {
    id: String,
    name: String,
    organization: String,
    title_en: String,
    title_zh_hant: String,
    title_zh_hans: String,
    notes_en: String,
    notes_zh_hant: String,
    notes_zh_hans: String,
    license_id: String,
    update_frequency: String,
    coverage_from: Option<String>,
    coverage_to: Option<String>,
    spatial_coverage: String,
    private: i64,
    state: String,
    created_at_s: i64,
    modified_at_s: i64,
}

#[derive(Debug, sqlx::FromRow)]
struct ResourceRow {
    id: String,
    name_en: String,
    name_zh_hant: String,
    name_zh_hans: String,
    description_en: String,
    description_zh_hant: String,
    description_zh_hans: String,
    format: String,
    url: String,
    size_bytes: Option<i64>,
    hash: String,
    created_at_s: i64,
    modified_at_s: i64,
}

/// A resource row with its dataset's id, for reads of many datasets at once.
#[derive(Debug, sqlx::FromRow)]
struct DatasetResourceRow {
    dataset: String,
    #[sqlx(flatten)]
    row: ResourceRow,
}

/// Rows ordered by dataset, grouped into each dataset's list (in the rows' order).
fn group_by<R, T>(
    rows: Vec<R>,
    split: impl Fn(R) -> (String, T),
) -> std::collections::HashMap<String, Vec<T>> {
    let mut out: std::collections::HashMap<String, Vec<T>> = std::collections::HashMap::new();
    for row in rows {
        let (dataset, item) = split(row);
        out.entry(dataset).or_default().push(item);
    }
    out
}

#[derive(Debug, sqlx::FromRow)]
struct OrgRow {
    id: String,
    name: String,
    kind: String,
    title_en: String,
    title_zh_hant: String,
    title_zh_hans: String,
    description_en: String,
    description_zh_hant: String,
    description_zh_hans: String,
    url: Option<String>,
    created_at_s: i64,
    package_count: i64,
}

#[derive(Debug, sqlx::FromRow)]
struct GroupRow {
    id: String,
    name: String,
    title_en: String,
    title_zh_hant: String,
    title_zh_hans: String,
    description_en: String,
    description_zh_hant: String,
    description_zh_hans: String,
    created_at_s: i64,
    package_count: i64,
}

const DATASET_COLUMNS: &str = "d.id, d.name, o.name AS organization, d.title_en, \
     d.title_zh_hant, d.title_zh_hans, d.notes_en, d.notes_zh_hant, d.notes_zh_hans, \
     d.license_id, d.update_frequency, d.coverage_from, d.coverage_to, d.spatial_coverage, \
     d.private, d.state, d.created_at_s, d.modified_at_s";

const PUBLIC: &str = "d.state = 'active' AND d.private = 0";

fn corrupt(what: &str, id: &str) -> StoreError {
    StoreError::Corrupt(format!("open data {what} {id}"))
}

fn text3(en: String, zh_hant: String, zh_hans: String) -> Localized {
    Localized {
        en,
        zh_hant,
        zh_hans,
    }
}

fn name(text: &str, what: &str) -> Result<Name, StoreError> {
    domain::stored_name(text).ok_or_else(|| corrupt(what, text))
}

fn decode_resource(row: ResourceRow) -> Result<Resource, StoreError> {
    Ok(Resource {
        format: Format::parse(&row.format).map_err(|_| corrupt("resource format", &row.id))?,
        name: text3(row.name_en, row.name_zh_hant, row.name_zh_hans),
        description: text3(
            row.description_en,
            row.description_zh_hant,
            row.description_zh_hans,
        ),
        url: row.url,
        size_bytes: row.size_bytes,
        hash: row.hash,
        created_s: row.created_at_s,
        modified_s: row.modified_at_s,
        id: row.id,
    })
}

fn decode_date(text: Option<&str>, id: &str) -> Result<Option<time::Date>, StoreError> {
    domain::date(text.unwrap_or_default()).map_err(|_| corrupt("dataset coverage", id))
}

fn decode_dataset(
    row: DatasetRow,
    groups: Vec<String>,
    tags: Vec<String>,
    resources: Vec<ResourceRow>,
) -> Result<Dataset, StoreError> {
    let id = row.id.clone();
    let from = decode_date(row.coverage_from.as_deref(), &id)?;
    let to = decode_date(row.coverage_to.as_deref(), &id)?;
    Ok(Dataset {
        name: name(&row.name, "dataset name")?,
        organization: name(&row.organization, "organization name")?,
        title: text3(row.title_en, row.title_zh_hant, row.title_zh_hans),
        notes: text3(row.notes_en, row.notes_zh_hant, row.notes_zh_hans),
        groups: groups
            .iter()
            .map(|g| name(g, "group name"))
            .collect::<Result<_, _>>()?,
        tags: tags
            .iter()
            .map(|t| domain::stored_tag(t).ok_or_else(|| corrupt("tag", t)))
            .collect::<Result<_, _>>()?,
        licence: Licence::parse(&row.license_id).map_err(|_| corrupt("dataset licence", &id))?,
        frequency: Frequency::parse(&row.update_frequency)
            .map_err(|_| corrupt("dataset frequency", &id))?,
        temporal: from.map(|from| TemporalCoverage { from, to }),
        spatial: row.spatial_coverage,
        private: row.private != 0,
        state: State::parse(&row.state).map_err(|_| corrupt("dataset state", &id))?,
        resources: resources
            .into_iter()
            .map(decode_resource)
            .collect::<Result<_, _>>()?,
        created_s: row.created_at_s,
        modified_s: row.modified_at_s,
        id,
    })
}

fn decode_tag((id, name): (String, String)) -> Result<Tag, StoreError> {
    let name = domain::stored_tag(&name).ok_or_else(|| corrupt("tag", &name))?;
    Ok(Tag { id, name })
}

fn decode_org(row: OrgRow) -> Result<Counted<Organization>, StoreError> {
    Ok(Counted {
        item: Organization {
            name: name(&row.name, "organization name")?,
            kind: OrgKind::parse(&row.kind).map_err(|_| corrupt("organization kind", &row.id))?,
            title: text3(row.title_en, row.title_zh_hant, row.title_zh_hans),
            description: text3(
                row.description_en,
                row.description_zh_hant,
                row.description_zh_hans,
            ),
            url: row.url,
            created_s: row.created_at_s,
            id: row.id,
        },
        package_count: row.package_count,
    })
}

fn decode_group(row: GroupRow) -> Result<Counted<Group>, StoreError> {
    Ok(Counted {
        item: Group {
            name: name(&row.name, "group name")?,
            title: text3(row.title_en, row.title_zh_hant, row.title_zh_hans),
            description: text3(
                row.description_en,
                row.description_zh_hant,
                row.description_zh_hans,
            ),
            created_s: row.created_at_s,
            id: row.id,
        },
        package_count: row.package_count,
    })
}

fn audit(
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

/// A unique violation is the name (or id) already taken; anything else is the store's.
fn exists_or(error: OpendataError, name: &str) -> OpendataError {
    match error {
        OpendataError::Store(StoreError::Sqlx(e)) if is_unique_violation(&e) => {
            OpendataError::Exists(name.to_owned())
        }
        other => other,
    }
}

#[derive(Debug, Clone)]
pub struct CatalogueStore {
    db: Database,
}

impl CatalogueStore {
    pub fn new(db: &Database) -> CatalogueStore {
        CatalogueStore { db: db.clone() }
    }

    pub fn db(&self) -> &Database {
        &self.db
    }

    /// Adds a provider; `Exists` if its id or name is taken.
    pub async fn insert_organization(
        &self,
        org: &Organization,
        actor: &str,
    ) -> Result<(), OpendataError> {
        let event = audit(
            actor,
            "opendata.organization.create",
            format!("opendata_organization:{}", org.name.as_str()),
            serde_json::json!({ "id": org.id, "kind": org.kind.as_str() }),
        );
        let result: Result<(), OpendataError> = async {
            write_tx!(&self.db, tx, append => {
                sqlx::query(
                    "INSERT INTO opendata_organizations (id, name, kind, title_en, title_zh_hant, \
                     title_zh_hans, description_en, description_zh_hant, description_zh_hans, url, \
                     created_at_s) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                )
                .bind(&org.id)
                .bind(org.name.as_str())
                .bind(org.kind.as_str())
                .bind(&org.title.en)
                .bind(&org.title.zh_hant)
                .bind(&org.title.zh_hans)
                .bind(&org.description.en)
                .bind(&org.description.zh_hant)
                .bind(&org.description.zh_hans)
                .bind(&org.url)
                .bind(org.created_s)
                .execute(&mut *tx)
                .await?;
                append(&mut tx, &event).await?;
            });
            Ok(())
        }
        .await;
        result.map_err(|e| exists_or(e, org.name.as_str()))
    }

    /// Adds a category; `Exists` if its id or name is taken.
    pub async fn insert_group(&self, group: &Group, actor: &str) -> Result<(), OpendataError> {
        let event = audit(
            actor,
            "opendata.group.create",
            format!("opendata_group:{}", group.name.as_str()),
            serde_json::json!({ "id": group.id }),
        );
        let result: Result<(), OpendataError> = async {
            write_tx!(&self.db, tx, append => {
                sqlx::query(
                    "INSERT INTO opendata_groups (id, name, title_en, title_zh_hant, title_zh_hans, \
                     description_en, description_zh_hant, description_zh_hans, created_at_s) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(&group.id)
                .bind(group.name.as_str())
                .bind(&group.title.en)
                .bind(&group.title.zh_hant)
                .bind(&group.title.zh_hans)
                .bind(&group.description.en)
                .bind(&group.description.zh_hant)
                .bind(&group.description.zh_hans)
                .bind(group.created_s)
                .execute(&mut *tx)
                .await?;
                append(&mut tx, &event).await?;
            });
            Ok(())
        }
        .await;
        result.map_err(|e| exists_or(e, group.name.as_str()))
    }

    /// Adds a dataset with its categories, tags and resources in one transaction. `Exists` if
    /// its id or name is taken; `Invalid` naming `/owner_org` or `/groups/i` if the provider or
    /// a category is not in the catalogue — and then nothing is written.
    pub async fn insert_dataset(&self, d: &Dataset, actor: &str) -> Result<(), OpendataError> {
        use crate::store_write::Save;
        self.save_dataset(d, Save::Create, actor, "opendata.package.create", None)
            .await
    }

    /// Adds datasets as `insert_dataset` does, all in one transaction (bulk loads: one commit
    /// for many datasets): if one fails, none is written.
    pub async fn insert_datasets(&self, ds: &[Dataset], actor: &str) -> Result<(), OpendataError> {
        let first = ds
            .first()
            .map(|d| d.name.as_str().to_owned())
            .unwrap_or_default();
        let result: Result<Result<(), Vec<FieldError>>, OpendataError> = async {
            Ok(write_tx!(&self.db, tx, append => {
                for d in ds {
                    let event = audit(
                        actor,
                        "opendata.package.create",
                        format!("opendata_dataset:{}", d.name.as_str()),
                        serde_json::json!({
                            "id": d.id,
                            "owner_org": d.organization.as_str(),
                            "private": d.private,
                            "resources": d.resources.len(),
                        }),
                    );
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
                    if !missing.is_empty() {
                        return Ok(Err(missing));
                    }
                    let coverage_from = d.temporal.map(|t| t.from.to_string());
                    let coverage_to = d.temporal.and_then(|t| t.to).map(|t| t.to_string());
                    sqlx::query(
                        "INSERT INTO opendata_datasets (id, name, organization, title_en, title_zh_hant, \
                         title_zh_hans, notes_en, notes_zh_hant, notes_zh_hans, license_id, \
                         update_frequency, coverage_from, coverage_to, spatial_coverage, private, state, \
                         created_at_s, modified_at_s) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
                         $11, $12, $13, $14, $15, $16, $17, $18)",
                    )
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
                        sqlx::query(
                            "INSERT INTO opendata_resources (id, dataset, position, name_en, name_zh_hant, \
                             name_zh_hans, description_en, description_zh_hant, description_zh_hans, \
                             format, url, size_bytes, hash, created_at_s, modified_at_s) VALUES ($1, $2, \
                             $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
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
                    }
                    append(&mut tx, &event).await?;
                }
                Ok(())
            }))
        }
        .await;
        match result.map_err(|e| exists_or(e, &first))? {
            Ok(()) => Ok(()),
            Err(faults) => Err(OpendataError::Invalid(faults)),
        }
    }

    /// Names of active, public datasets, by name.
    pub async fn package_names(&self, limit: u32, offset: u32) -> Result<Vec<String>, StoreError> {
        let sql = format!(
            "SELECT d.name FROM opendata_datasets d WHERE {PUBLIC} ORDER BY d.name LIMIT $1 OFFSET $2"
        );
        Ok(read!(&self.db, conn => sqlx::query_scalar(&sql)
            .bind(i64::from(limit))
            .bind(i64::from(offset))
            .fetch_all(conn)
            .await?))
    }

    /// The dataset with this id or name, whatever its state.
    pub async fn dataset(&self, id_or_name: &str) -> Result<Option<Dataset>, StoreError> {
        let sql = format!(
            "SELECT {DATASET_COLUMNS} FROM opendata_datasets d \
             JOIN opendata_organizations o ON o.id = d.organization \
             WHERE d.id = $1 OR d.name = $1"
        );
        let row: Option<DatasetRow> = read!(&self.db, conn => sqlx::query_as(&sql)
            .bind(id_or_name)
            .fetch_optional(conn)
            .await?);
        match row {
            Some(row) => Ok(Some(self.complete(row).await?)),
            None => Ok(None),
        }
    }

    /// Active, public datasets of an organisation or category (by id), by name, at most `limit`.
    pub async fn public_datasets(
        &self,
        owner: Owner<'_>,
        limit: u32,
    ) -> Result<Vec<Dataset>, StoreError> {
        let (filter, id) = match owner {
            Owner::Organization(id) => ("d.organization = $1", id),
            Owner::Group(id) => (
                "d.id IN (SELECT dataset FROM opendata_dataset_groups WHERE grp = $1)",
                id,
            ),
        };
        let sql = format!(
            "SELECT {DATASET_COLUMNS} FROM opendata_datasets d \
             JOIN opendata_organizations o ON o.id = d.organization \
             WHERE {filter} AND {PUBLIC} ORDER BY d.name LIMIT $2"
        );
        let rows: Vec<DatasetRow> = read!(&self.db, conn => sqlx::query_as(&sql)
            .bind(id)
            .bind(i64::from(limit))
            .fetch_all(conn)
            .await?);
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            out.push(self.complete(row).await?);
        }
        Ok(out)
    }

    /// Up to `limit` datasets of any state whose ids sort after `after`, by id, each whole with
    /// its tags' ids: the search index is rebuilt from these batches, four queries a batch.
    pub async fn datasets_after(
        &self,
        after: &str,
        limit: u32,
    ) -> Result<Vec<(Dataset, Vec<Tag>)>, StoreError> {
        let sql = format!(
            "SELECT {DATASET_COLUMNS} FROM opendata_datasets d \
             JOIN opendata_organizations o ON o.id = d.organization \
             WHERE d.id > $1 ORDER BY d.id LIMIT $2"
        );
        let rows: Vec<DatasetRow> = read!(&self.db, conn => sqlx::query_as(&sql)
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(conn)
            .await?);
        let Some(last) = rows.last().map(|r| r.id.clone()) else {
            return Ok(Vec::new());
        };
        let groups: Vec<(String, String)> = read!(&self.db, conn => sqlx::query_as(
            "SELECT dg.dataset, g.name FROM opendata_dataset_groups dg \
             JOIN opendata_groups g ON g.id = dg.grp WHERE dg.dataset > $1 AND dg.dataset <= $2 \
             ORDER BY dg.dataset, dg.position",
        )
        .bind(after)
        .bind(&last)
        .fetch_all(conn)
        .await?);
        let tags: Vec<(String, String, String)> = read!(&self.db, conn => sqlx::query_as(
            "SELECT dt.dataset, t.id, t.name FROM opendata_dataset_tags dt \
             JOIN opendata_tags t ON t.id = dt.tag WHERE dt.dataset > $1 AND dt.dataset <= $2 \
             ORDER BY dt.dataset, dt.position",
        )
        .bind(after)
        .bind(&last)
        .fetch_all(conn)
        .await?);
        let resources: Vec<DatasetResourceRow> = read!(&self.db, conn => sqlx::query_as(
            "SELECT dataset, id, name_en, name_zh_hant, name_zh_hans, description_en, \
             description_zh_hant, description_zh_hans, format, url, size_bytes, hash, \
             created_at_s, modified_at_s FROM opendata_resources \
             WHERE dataset > $1 AND dataset <= $2 ORDER BY dataset, position",
        )
        .bind(after)
        .bind(&last)
        .fetch_all(conn)
        .await?);
        let mut groups_of = group_by(groups, |(d, g)| (d, g));
        let mut tags_of = group_by(tags, |(d, id, name)| (d, (id, name)));
        let mut resources_of = group_by(resources, |r| (r.dataset, r.row));
        rows.into_iter()
            .map(|row| {
                let id = row.id.clone();
                let tags = tags_of.remove(&id).unwrap_or_default();
                let names = tags.iter().map(|(_, name)| name.clone()).collect();
                let dataset = decode_dataset(
                    row,
                    groups_of.remove(&id).unwrap_or_default(),
                    names,
                    resources_of.remove(&id).unwrap_or_default(),
                )?;
                let tags = tags.into_iter().map(decode_tag).collect::<Result<_, _>>()?;
                Ok((dataset, tags))
            })
            .collect()
    }

    /// A dataset row with its categories, tags and resources.
    async fn complete(&self, row: DatasetRow) -> Result<Dataset, StoreError> {
        let id = row.id.clone();
        let groups: Vec<String> = read!(&self.db, conn => sqlx::query_scalar(
            "SELECT g.name FROM opendata_dataset_groups dg JOIN opendata_groups g ON g.id = dg.grp \
             WHERE dg.dataset = $1 ORDER BY dg.position",
        )
        .bind(&id)
        .fetch_all(conn)
        .await?);
        let tags: Vec<String> = read!(&self.db, conn => sqlx::query_scalar(
            "SELECT t.name FROM opendata_dataset_tags dt JOIN opendata_tags t ON t.id = dt.tag \
             WHERE dt.dataset = $1 ORDER BY dt.position",
        )
        .bind(&id)
        .fetch_all(conn)
        .await?);
        let resources: Vec<ResourceRow> = read!(&self.db, conn => sqlx::query_as(
            "SELECT id, name_en, name_zh_hant, name_zh_hans, description_en, description_zh_hant, \
             description_zh_hans, format, url, size_bytes, hash, created_at_s, modified_at_s \
             FROM opendata_resources WHERE dataset = $1 ORDER BY position",
        )
        .bind(&id)
        .fetch_all(conn)
        .await?);
        decode_dataset(row, groups, tags, resources)
    }

    /// Every organisation with its count of public datasets, by name.
    pub async fn organizations(&self) -> Result<Vec<Counted<Organization>>, StoreError> {
        self.orgs_where("TRUE", None).await
    }

    /// The organisation with this id or name.
    pub async fn organization(
        &self,
        id_or_name: &str,
    ) -> Result<Option<Counted<Organization>>, StoreError> {
        Ok(self
            .orgs_where("o.id = $1 OR o.name = $1", Some(id_or_name))
            .await?
            .into_iter()
            .next())
    }

    async fn orgs_where(
        &self,
        filter: &str,
        bind: Option<&str>,
    ) -> Result<Vec<Counted<Organization>>, StoreError> {
        let sql = format!(
            "SELECT o.id, o.name, o.kind, o.title_en, o.title_zh_hant, o.title_zh_hans, \
             o.description_en, o.description_zh_hant, o.description_zh_hans, o.url, o.created_at_s, \
             (SELECT COUNT(*) FROM opendata_datasets d WHERE d.organization = o.id AND {PUBLIC}) \
             AS package_count FROM opendata_organizations o WHERE {filter} ORDER BY o.name"
        );
        let rows: Vec<OrgRow> = read!(&self.db, conn => {
            let query = sqlx::query_as(&sql);
            let query = match bind {
                Some(value) => query.bind(value),
                None => query,
            };
            query.fetch_all(conn).await?
        });
        rows.into_iter().map(decode_org).collect()
    }

    /// Every category with its count of public datasets, by name.
    pub async fn groups(&self) -> Result<Vec<Counted<Group>>, StoreError> {
        self.groups_where("TRUE", None).await
    }

    /// The category with this id or name.
    pub async fn group(&self, id_or_name: &str) -> Result<Option<Counted<Group>>, StoreError> {
        Ok(self
            .groups_where("g.id = $1 OR g.name = $1", Some(id_or_name))
            .await?
            .into_iter()
            .next())
    }

    async fn groups_where(
        &self,
        filter: &str,
        bind: Option<&str>,
    ) -> Result<Vec<Counted<Group>>, StoreError> {
        let sql = format!(
            "SELECT g.id, g.name, g.title_en, g.title_zh_hant, g.title_zh_hans, g.description_en, \
             g.description_zh_hant, g.description_zh_hans, g.created_at_s, \
             (SELECT COUNT(*) FROM opendata_dataset_groups dg JOIN opendata_datasets d \
              ON d.id = dg.dataset WHERE dg.grp = g.id AND {PUBLIC}) AS package_count \
             FROM opendata_groups g WHERE {filter} ORDER BY g.name"
        );
        let rows: Vec<GroupRow> = read!(&self.db, conn => {
            let query = sqlx::query_as(&sql);
            let query = match bind {
                Some(value) => query.bind(value),
                None => query,
            };
            query.fetch_all(conn).await?
        });
        rows.into_iter().map(decode_group).collect()
    }

    /// A dataset's tags with their ids, in the dataset's order.
    pub async fn tags_of(&self, dataset_id: &str) -> Result<Vec<Tag>, StoreError> {
        let rows: Vec<(String, String)> = read!(&self.db, conn => sqlx::query_as(
            "SELECT t.id, t.name FROM opendata_dataset_tags dt JOIN opendata_tags t ON t.id = dt.tag \
             WHERE dt.dataset = $1 ORDER BY dt.position",
        )
        .bind(dataset_id)
        .fetch_all(conn)
        .await?);
        rows.into_iter().map(decode_tag).collect()
    }

    /// Tags of active, public datasets, by name; with `query`, those whose name contains it
    /// (case-insensitive, as CKAN's `ILIKE`).
    pub async fn tags(&self, query: Option<&str>) -> Result<Vec<Tag>, StoreError> {
        let pattern = query.map(|q| {
            let escaped = q
                .to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            format!("%{escaped}%")
        });
        let sql = format!(
            "SELECT t.id, t.name FROM opendata_tags t WHERE EXISTS (SELECT 1 FROM \
             opendata_dataset_tags dt JOIN opendata_datasets d ON d.id = dt.dataset \
             WHERE dt.tag = t.id AND {PUBLIC}) \
             AND ($1 IS NULL OR LOWER(t.name) LIKE $1 ESCAPE '\\') ORDER BY t.name"
        );
        let rows: Vec<(String, String)> = read!(&self.db, conn => sqlx::query_as(&sql)
            .bind(pattern.as_deref())
            .fetch_all(conn)
            .await?);
        rows.into_iter().map(decode_tag).collect()
    }

    /// Active, public datasets, a page at a time: by name, or the most recently modified
    /// first (the change feed). The second value is how many there are in all.
    pub async fn public_page(
        &self,
        recent_first: bool,
        limit: u32,
        offset: u32,
    ) -> Result<(Vec<Dataset>, i64), StoreError> {
        let order = if recent_first {
            "d.modified_at_s DESC, d.name"
        } else {
            "d.name"
        };
        let sql = format!(
            "SELECT {DATASET_COLUMNS} FROM opendata_datasets d \
             JOIN opendata_organizations o ON o.id = d.organization \
             WHERE {PUBLIC} ORDER BY {order} LIMIT $1 OFFSET $2"
        );
        let count = format!("SELECT COUNT(*) FROM opendata_datasets d WHERE {PUBLIC}");
        let (rows, total): (Vec<DatasetRow>, i64) = read!(&self.db, conn => {
            let rows = sqlx::query_as(&sql)
                .bind(i64::from(limit))
                .bind(i64::from(offset))
                .fetch_all(conn)
                .await?;
            let total = sqlx::query_scalar(&count).fetch_one(conn).await?;
            (rows, total)
        });
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            out.push(self.complete(row).await?);
        }
        Ok((out, total))
    }
}
