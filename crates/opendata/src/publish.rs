//! The write side of `OpenData`: publishers (by API token) create, replace, patch and delete
//! datasets and their resources, with uploads kept as versions in the historical archive.
//!
//! Rules: a write needs a live token (else CKAN's Authorization Error); the token must edit
//! the dataset's organisation (both the old and the new one when a dataset moves); a dataset
//! is validated whole by the domain and saved whole with its audit event, in one transaction.
//! Every post-commit step of a write is in [`OpenData::after_dataset_change`].

use bauhinia_core::FieldError;
use serde_json::{Map, Value};

use crate::domain::{category, Dataset, Resource, State};
use crate::error::OpendataError;
use crate::files::{FileStore, StoredFile};
use crate::package_input::{self, PackageInput, ResourceInput};
use crate::service::{OpenData, Package};
use crate::store::CatalogueStore;
use crate::store_write::{FileVersion, Save};
use crate::token::{self, Publisher, TokenRecord};

/// Default largest JSON body of an Action API request.
pub const JSON_BODY_MAX_BYTES: u64 = 8 * 1024 * 1024;
/// Default largest uploaded file.
pub const UPLOAD_MAX_BYTES: u64 = 100 * 1024 * 1024;

/// How large a write may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteLimits {
    pub json_body_max_bytes: u64,
    pub upload_max_bytes: u64,
}

impl Default for WriteLimits {
    fn default() -> Self {
        WriteLimits {
            json_body_max_bytes: JSON_BODY_MAX_BYTES,
            upload_max_bytes: UPLOAD_MAX_BYTES,
        }
    }
}

/// What the operator asks a token for.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// What the token is for ("the TD's harvester").
    pub name: String,
    /// The publisher's user name.
    pub user: String,
    #[serde(default)]
    pub sysadmin: bool,
    /// Organisations (ids or names) the publisher edits.
    #[serde(default)]
    pub organizations: Vec<String>,
    /// When the token stops working (Unix seconds); never if absent.
    #[serde(default, rename = "expires_at_s")]
    pub expires_s: Option<i64>,
}

/// An uploaded file, received and durable, waiting for its resource to be saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    pub file_name: String,
    pub stored: StoredFile,
}

fn forbidden(publisher: Option<&Publisher>, what: &str) -> OpendataError {
    let user = publisher.map(|p| p.user.as_str()).unwrap_or_default();
    OpendataError::Forbidden(format!("User {user} not authorized to {what}"))
}

fn invalid(pointer: &str, detail: &str) -> OpendataError {
    OpendataError::Invalid(vec![FieldError::new(pointer, detail)])
}

/// The download URL of an uploaded resource (CKAN's).
pub fn download_url(site_url: &str, dataset_id: &str, resource_id: &str, file: &str) -> String {
    let name: String = url::form_urlencoded::byte_serialize(file.as_bytes()).collect();
    format!("{site_url}/dataset/{dataset_id}/resource/{resource_id}/download/{name}")
}

/// A file name as given by a client, reduced to its last path segment and safe characters.
pub fn clean_file_name(given: &str) -> String {
    let last = given.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_'))
        .take(200)
        .collect();
    if cleaned.trim_matches('.').is_empty() {
        "upload".to_owned()
    } else {
        cleaned
    }
}

impl OpenData {
    pub fn files(&self) -> FileStore {
        FileStore::new(self.dir())
    }

    /// The publisher a presented token proves; none without a token, and none (an anonymous
    /// caller, as CKAN treats an unknown API token) for a token that is unknown, revoked or
    /// expired: reads answer as to anyone, writes are CKAN's Authorization Error.
    pub async fn authenticate(
        &self,
        presented: Option<&str>,
        now_s: i64,
    ) -> Result<Option<Publisher>, OpendataError> {
        let Some(presented) = presented else {
            return Ok(None);
        };
        let hash = token::secret_hash(presented);
        let record = match self.store().token_by_hash(&hash).await? {
            Some((record, stored)) if token::constant_time_eq(&stored, &hash) => record,
            _ => {
                tracing::info!("open data: an unknown API token was presented");
                return Ok(None);
            }
        };
        if !record.is_live(now_s) {
            tracing::info!(token = %record.id, "open data: a revoked or expired API token was presented");
            return Ok(None);
        }
        self.store().touch_token(&record.id, now_s).await?;
        Ok(Some(record.publisher()))
    }

    /// Issues a token to a publisher: returns the secret (shown once) and the record. The
    /// organisations are given by id or name and must exist.
    pub async fn issue_token(
        &self,
        asked: &TokenRequest,
        actor: &str,
        now_s: i64,
    ) -> Result<(String, TokenRecord), OpendataError> {
        issue_token(self.store(), asked, actor, now_s).await
    }

    /// A dataset as `package_show` gives it to this caller: a publisher who edits its
    /// organisation sees it private or deleted too.
    pub async fn package_for(
        &self,
        id_or_name: &str,
        publisher: Option<&Publisher>,
    ) -> Result<Package, OpendataError> {
        let dataset = self.dataset_for_write(id_or_name, None).await?;
        let org = self.org_id(dataset.organization.as_str()).await?;
        if !dataset.is_public() && !publisher.is_some_and(|p| p.may_edit(&org)) {
            return Err(forbidden(
                publisher,
                &format!("read package {}", dataset.id),
            ));
        }
        self.package_of(dataset).await
    }

    async fn org_id(&self, id_or_name: &str) -> Result<String, OpendataError> {
        Ok(self
            .store()
            .organization(id_or_name)
            .await?
            .ok_or_else(|| invalid("/owner_org", "Organization does not exist"))?
            .item
            .id)
    }

    async fn dataset_for_write(
        &self,
        id_or_name: &str,
        publisher: Option<&Publisher>,
    ) -> Result<Dataset, OpendataError> {
        let dataset = self
            .store()
            .dataset(id_or_name)
            .await?
            .ok_or_else(|| OpendataError::NotFound(String::new()))?;
        if let Some(p) = publisher {
            let org = self.org_id(dataset.organization.as_str()).await?;
            if !p.may_edit(&org) {
                return Err(forbidden(Some(p), &format!("edit package {}", dataset.id)));
            }
        }
        Ok(dataset)
    }

    /// `package_create`.
    pub async fn package_create(
        &self,
        publisher: Option<&Publisher>,
        dict: &Map<String, Value>,
        now_s: i64,
    ) -> Result<Package, OpendataError> {
        let publisher = publisher.ok_or_else(|| forbidden(None, "create packages"))?;
        let input = package_input::package(dict).map_err(OpendataError::Invalid)?;
        let dataset = self.build(publisher, input, None, now_s).await?;
        self.commit(
            publisher,
            &dataset,
            Save::Create,
            "opendata.package.create",
            None,
        )
        .await
    }

    /// `package_update`: the dataset is replaced by the one given; resources not given are
    /// removed, as CKAN does.
    pub async fn package_update(
        &self,
        publisher: Option<&Publisher>,
        dict: &Map<String, Value>,
        now_s: i64,
    ) -> Result<Package, OpendataError> {
        let publisher = publisher.ok_or_else(|| forbidden(None, "edit packages"))?;
        let key = ["id", "name"]
            .iter()
            .find_map(|k| dict.get(*k).and_then(Value::as_str))
            .ok_or_else(|| invalid("/id", "Missing value"))?;
        let existing = self.dataset_for_write(key, Some(publisher)).await?;
        let input = package_input::package(dict).map_err(OpendataError::Invalid)?;
        let dataset = self.build(publisher, input, Some(&existing), now_s).await?;
        self.commit(
            publisher,
            &dataset,
            Save::Replace,
            "opendata.package.update",
            None,
        )
        .await
    }

    /// `package_patch`: only the keys given change.
    pub async fn package_patch(
        &self,
        publisher: Option<&Publisher>,
        dict: &Map<String, Value>,
        now_s: i64,
    ) -> Result<Package, OpendataError> {
        let publisher = publisher.ok_or_else(|| forbidden(None, "edit packages"))?;
        let key = dict
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("/id", "Missing value"))?;
        let existing = self.dataset_for_write(key, Some(publisher)).await?;
        let mut merged = self.current_dict(&existing).await?;
        for (k, v) in dict {
            merged.insert(k.clone(), v.clone());
        }
        merged.insert("id".into(), Value::String(existing.id.clone()));
        let input = package_input::package(&merged).map_err(OpendataError::Invalid)?;
        let dataset = self.build(publisher, input, Some(&existing), now_s).await?;
        self.commit(
            publisher,
            &dataset,
            Save::Replace,
            "opendata.package.patch",
            None,
        )
        .await
    }

    /// `package_delete`: the dataset's state becomes `deleted`; it is kept.
    pub async fn package_delete(
        &self,
        publisher: Option<&Publisher>,
        id: &str,
        now_s: i64,
    ) -> Result<(), OpendataError> {
        let publisher = publisher.ok_or_else(|| forbidden(None, "delete packages"))?;
        let mut dataset = self.dataset_for_write(id, Some(publisher)).await?;
        dataset.state = State::Deleted;
        dataset.modified_s = now_s;
        self.commit(
            publisher,
            &dataset,
            Save::Replace,
            "opendata.package.delete",
            None,
        )
        .await
        .map(|_| ())
    }

    /// The dataset's CKAN dictionary, the base a patch is laid over.
    async fn current_dict(&self, d: &Dataset) -> Result<Map<String, Value>, OpendataError> {
        match crate::ckan::package(&self.package_of(d.clone()).await?) {
            Value::Object(map) => Ok(map),
            _ => Ok(Map::new()),
        }
    }

    /// The dataset holding a resource, and the resource's position in it.
    pub async fn resource_home(
        &self,
        resource_id: &str,
        publisher: Option<&Publisher>,
    ) -> Result<(Dataset, usize), OpendataError> {
        let dataset_id = self
            .store()
            .dataset_of_resource(resource_id)
            .await?
            .ok_or_else(|| OpendataError::NotFound(String::new()))?;
        let dataset = self.dataset_for_write(&dataset_id, publisher).await?;
        let position = dataset
            .resources
            .iter()
            .position(|r| r.id == resource_id)
            .ok_or_else(|| OpendataError::NotFound(String::new()))?;
        Ok((dataset, position))
    }

    /// `resource_show`: the resource's dictionary, if the caller may see its dataset.
    pub async fn resource_show(
        &self,
        resource_id: &str,
        publisher: Option<&Publisher>,
    ) -> Result<Value, OpendataError> {
        let (dataset, position) = self.resource_home(resource_id, None).await?;
        let package = self.package_for(&dataset.id, publisher).await?;
        let dict = crate::ckan::package(&package);
        Ok(dict
            .get("resources")
            .and_then(|r| r.get(position))
            .cloned()
            .unwrap_or(Value::Null))
    }

    /// `resource_create`, `resource_update`, `resource_patch` and `resource_delete`: the
    /// resource's dataset is saved again with the resource added, replaced, merged or removed.
    /// `upload`, if any, becomes the resource's file (a new version of it in the archive).
    pub async fn resource_write(
        &self,
        publisher: Option<&Publisher>,
        change: ResourceChange,
        dict: &Map<String, Value>,
        upload: Option<Upload>,
        now_s: i64,
    ) -> Result<Value, OpendataError> {
        let publisher = publisher.ok_or_else(|| forbidden(None, "edit resources"))?;
        let (existing, position) = match change {
            ResourceChange::Create => {
                let package_id = dict
                    .get("package_id")
                    .and_then(Value::as_str)
                    .ok_or_else(|| invalid("/package_id", "Missing value"))?;
                let d = self.dataset_for_write(package_id, Some(publisher)).await?;
                let at = d.resources.len();
                (d, at)
            }
            _ => {
                let id = dict
                    .get("id")
                    .and_then(Value::as_str)
                    .ok_or_else(|| invalid("/id", "Missing value"))?;
                self.resource_home(id, Some(publisher)).await?
            }
        };
        let mut package = self.current_dict(&existing).await?;
        let mut resources: Vec<Value> = package
            .get("resources")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let resource_id = match change {
            ResourceChange::Create => dict
                .get("id")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
            _ => existing
                .resources
                .get(position)
                .map(|r| r.id.clone())
                .unwrap_or_default(),
        };
        let mut given = match (change, resources.get(position)) {
            (ResourceChange::Patch, Some(Value::Object(old))) => old.clone(),
            _ => Map::new(),
        };
        for (k, v) in dict {
            given.insert(k.clone(), v.clone());
        }
        given.insert("id".into(), Value::String(resource_id.clone()));
        let mut file = None;
        if let Some(upload) = &upload {
            let url = download_url(
                self.site_url(),
                &existing.id,
                &resource_id,
                &upload.file_name,
            );
            let format = match given.get("format").and_then(Value::as_str) {
                Some(f) if !f.trim().is_empty() => package_input::format_text(f),
                _ => package_input::format_of_file(&upload.file_name)
                    .map(|f| f.as_str().to_owned())
                    .ok_or_else(|| {
                        invalid(
                            "/format",
                            "Missing value: the file's name does not tell its format",
                        )
                    })?,
            };
            if given
                .get("name")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                given.insert("name".into(), Value::String(upload.file_name.clone()));
            }
            given.insert("url".into(), Value::String(url.clone()));
            given.insert("format".into(), Value::String(format.clone()));
            given.insert("size".into(), Value::from(upload.stored.size_bytes));
            given.insert(
                "hash".into(),
                Value::String(format!("sha256:{}", upload.stored.sha256)),
            );
            file = Some(FileVersion {
                id: uuid::Uuid::new_v4().to_string(),
                dataset: existing.id.clone(),
                resource: resource_id.clone(),
                url,
                file_name: upload.file_name.clone(),
                sha256: upload.stored.sha256.clone(),
                size_bytes: i64::try_from(upload.stored.size_bytes).unwrap_or(i64::MAX),
                mimetype: crate::domain::Format::parse(&format)
                    .ok()
                    .and_then(crate::domain::Format::mimetype)
                    .unwrap_or("application/octet-stream")
                    .to_owned(),
                format,
                uploaded_at_s: now_s,
                publisher: publisher.user.clone(),
            });
        }
        // A tabular file must parse before anything is stored: its rows go to the datastore
        // once the resource is saved, and a file that does not parse is refused whole.
        // So must a GeoJSON file: its features become the resource's OGC collection.
        let mut table = None;
        let mut features = None;
        if let (Some(upload), Some(version)) = (&upload, &file) {
            use crate::domain::Format;
            let format = Format::parse(&version.format).ok();
            if matches!(format, Some(Format::Csv | Format::Json | Format::GeoJson)) {
                let bytes = self
                    .files()
                    .read(&upload.stored.sha256)
                    .await
                    .map_err(|e| OpendataError::Io(e.to_string()))?;
                match format {
                    Some(Format::GeoJson) => {
                        let prepared = crate::spatial::features::prepare(&bytes, None)
                            .map_err(|faults| OpendataError::Invalid(upload_faults(faults)))?;
                        features = Some(prepared);
                    }
                    Some(format) => table = Some(crate::datastore::parse(format, &bytes)?),
                    None => {}
                }
            }
        }
        // Check the resource alone first, so its faults are named at its own keys.
        if change != ResourceChange::Delete {
            package_input::resource(&given, "").map_err(OpendataError::Invalid)?;
        }
        match change {
            ResourceChange::Create => resources.push(Value::Object(given)),
            ResourceChange::Delete if position < resources.len() => {
                resources.remove(position);
            }
            ResourceChange::Delete => {}
            _ => {
                if let Some(slot) = resources.get_mut(position) {
                    *slot = Value::Object(given);
                }
            }
        }
        package.insert("resources".into(), Value::Array(resources));
        let input = package_input::package(&package)
            .map_err(|faults| in_resource(OpendataError::Invalid(faults), position))?;
        let dataset = self
            .build(publisher, input, Some(&existing), now_s)
            .await
            .map_err(|e| in_resource(e, position))?;
        let action = change.audit_action();
        let saved = self
            .commit(publisher, &dataset, Save::Replace, action, file.as_ref())
            .await
            .map_err(|e| in_resource(e, position))?;
        if change == ResourceChange::Delete {
            self.datastore()
                .store()
                .delete(&resource_id, &publisher.user)
                .await?;
            return Ok(Value::Null);
        }
        if let Some(table) = &table {
            self.datastore()
                .store()
                .replace(&resource_id, table, &publisher.user, now_s)
                .await?;
        }
        if let Some(prepared) = features {
            self.publish_prepared(&existing.id, &resource_id, prepared, &publisher.user, now_s)
                .await?;
        }
        let dict = crate::ckan::package(&saved);
        Ok(dict
            .get("resources")
            .and_then(Value::as_array)
            .and_then(|rs| {
                rs.iter()
                    .find(|r| r.get("id").and_then(Value::as_str) == Some(&resource_id))
            })
            .cloned()
            .unwrap_or(Value::Null))
    }

    /// `organization_create` (a sysadmin's): a provider, with the id given if it is a UUID.
    pub async fn organization_create(
        &self,
        publisher: Option<&Publisher>,
        dict: &Map<String, Value>,
        now_s: i64,
    ) -> Result<crate::store::Counted<crate::domain::Organization>, OpendataError> {
        let publisher = publisher
            .filter(|p| p.sysadmin)
            .ok_or_else(|| forbidden(publisher, "create organizations"))?;
        let org = package_input::organization(dict, now_s).map_err(OpendataError::Invalid)?;
        self.store()
            .insert_organization(&org, &publisher.user)
            .await?;
        self.store()
            .organization(&org.id)
            .await?
            .ok_or_else(|| OpendataError::NotFound(String::new()))
    }

    /// A package input checked against the catalogue and the publisher's rights, validated
    /// into a dataset; times and ids carried over from `existing`.
    async fn build(
        &self,
        publisher: &Publisher,
        mut input: PackageInput,
        existing: Option<&Dataset>,
        now_s: i64,
    ) -> Result<Dataset, OpendataError> {
        let org = self
            .store()
            .organization(&input.draft.organization)
            .await?
            .ok_or_else(|| invalid("/owner_org", "Organization does not exist"))?
            .item;
        if !publisher.may_edit(&org.id) {
            return Err(forbidden(
                Some(publisher),
                &format!("add dataset to organization {}", org.id),
            ));
        }
        input.draft.organization = org.name.as_str().to_owned();
        let mut groups = Vec::with_capacity(input.draft.groups.len());
        for (i, g) in input.draft.groups.iter().enumerate() {
            if category::find(g).is_some() {
                groups.push(g.clone());
                continue;
            }
            match self.store().group(g).await? {
                Some(found) => groups.push(found.item.name.as_str().to_owned()),
                None => return Err(invalid(&format!("/groups/{i}"), "Group does not exist")),
            }
        }
        input.draft.groups = groups;
        let mut ids = Vec::with_capacity(input.resources.len() + 1);
        let mut faults = Vec::new();
        let dataset_id = match (existing, &input.id) {
            (Some(e), _) => Ok(e.id.clone()),
            (None, Some(id)) => package_input::chosen_id(id, "/id"),
            (None, None) => Ok(uuid::Uuid::new_v4().to_string()),
        };
        ids.push(dataset_id.unwrap_or_else(|f| {
            faults.push(f);
            String::new()
        }));
        for (i, r) in input.resources.iter().enumerate() {
            let id = match &r.id {
                Some(id) => package_input::chosen_id(id, &format!("/resources/{i}/id")),
                None => Ok(uuid::Uuid::new_v4().to_string()),
            };
            ids.push(id.unwrap_or_else(|f| {
                faults.push(f);
                String::new()
            }));
        }
        let drafts: Vec<_> = input
            .resources
            .iter()
            .map(|r: &ResourceInput| r.draft.clone())
            .collect();
        let mut next = ids.into_iter();
        let validated = input
            .draft
            .validate(&drafts, || next.next().unwrap_or_default(), now_s);
        let mut dataset = match validated {
            Ok(d) if faults.is_empty() => d,
            Ok(_) => return Err(OpendataError::Invalid(faults)),
            Err(more) => {
                faults.extend(more.into_iter().map(ckan_pointer));
                return Err(OpendataError::Invalid(faults));
            }
        };
        if let Some(e) = existing {
            dataset.created_s = e.created_s;
            dataset.state = e.state;
            for r in &mut dataset.resources {
                if let Some(old) = e.resources.iter().find(|o| o.id == r.id) {
                    r.created_s = old.created_s;
                    if same_content(old, r) {
                        r.modified_s = old.modified_s;
                    }
                }
            }
        }
        Ok(dataset)
    }

    async fn commit(
        &self,
        publisher: &Publisher,
        dataset: &Dataset,
        save: Save,
        action: &'static str,
        file: Option<&FileVersion>,
    ) -> Result<Package, OpendataError> {
        self.store()
            .save_dataset(dataset, save, &publisher.user, action, file)
            .await?;
        self.after_dataset_change(&dataset.id).await?;
        self.package_of(dataset.clone()).await
    }

    /// Every step after a dataset or resource write has committed: the dataset's search
    /// document, and which of its OGC collections are served.
    async fn after_dataset_change(&self, dataset_id: &str) -> Result<(), OpendataError> {
        tracing::debug!(dataset = dataset_id, "open data dataset changed");
        self.index_dataset(dataset_id).await?;
        self.sync_spatial_visibility(dataset_id).await
    }
}

/// A GeoJSON file's faults, under the upload: `/features/3/geometry` → `/upload/features/3/geometry`.
fn upload_faults(faults: Vec<FieldError>) -> Vec<FieldError> {
    faults
        .into_iter()
        .map(|f| FieldError::new(format!("/upload{}", f.pointer), f.detail))
        .collect()
}

fn same_content(a: &Resource, b: &Resource) -> bool {
    a.name == b.name
        && a.description == b.description
        && a.format == b.format
        && a.url == b.url
        && a.size_bytes == b.size_bytes
        && a.hash == b.hash
}

/// The domain names the English text `/title_en`; CKAN's dictionary calls it `title` (the
/// Chinese keep their `_tc`, `_sc` names).
fn ckan_pointer(fault: FieldError) -> FieldError {
    match fault.pointer.strip_suffix("_en") {
        Some(field) => FieldError::new(field, fault.detail),
        None => fault,
    }
}

fn in_resource(e: OpendataError, position: usize) -> OpendataError {
    match e {
        OpendataError::Invalid(faults) => OpendataError::Invalid(resource_faults(faults, position)),
        other => other,
    }
}

/// A resource action's faults, named at the resource's own keys (`/url`), as CKAN's
/// `resource_create` names them.
fn resource_faults(faults: Vec<FieldError>, position: usize) -> Vec<FieldError> {
    let prefix = format!("/resources/{position}");
    faults
        .into_iter()
        .map(|f| match f.pointer.strip_prefix(&prefix) {
            Some(rest) if rest.starts_with('/') => FieldError::new(rest, f.detail),
            _ => f,
        })
        .collect()
}

/// Which resource action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceChange {
    Create,
    Update,
    Patch,
    Delete,
}

impl ResourceChange {
    fn audit_action(self) -> &'static str {
        match self {
            ResourceChange::Create => "opendata.resource.create",
            ResourceChange::Update => "opendata.resource.update",
            ResourceChange::Patch => "opendata.resource.patch",
            ResourceChange::Delete => "opendata.resource.delete",
        }
    }
}

/// `OpenData::issue_token` on the catalogue's store alone: what the command line uses, so that
/// issuing a token needs neither the search index (which a running server holds) nor the rest.
pub async fn issue_token(
    store: &CatalogueStore,
    asked: &TokenRequest,
    actor: &str,
    now_s: i64,
) -> Result<(String, TokenRecord), OpendataError> {
    let mut faults = Vec::new();
    let name = token::parse_name(&asked.name).map_err(|e| faults.push(FieldError::new("/name", e)));
    let user = token::parse_name(&asked.user).map_err(|e| faults.push(FieldError::new("/user", e)));
    if asked.sysadmin != asked.organizations.is_empty() {
        faults.push(FieldError::new(
            "/organizations",
            "Give organisations, or sysadmin, not both and not neither",
        ));
    }
    let mut ids = Vec::with_capacity(asked.organizations.len());
    for (i, org) in asked.organizations.iter().enumerate() {
        match store.organization(org).await? {
            Some(o) if !ids.contains(&o.item.id) => ids.push(o.item.id),
            Some(_) => {}
            None => faults.push(FieldError::new(
                format!("/organizations/{i}"),
                "Organization does not exist",
            )),
        }
    }
    let (Ok(name), Ok(user), true) = (name, user, faults.is_empty()) else {
        return Err(OpendataError::Invalid(faults));
    };
    let (sysadmin, expires_s) = (asked.sysadmin, asked.expires_s);
    let secret = token::new_secret();
    let record = TokenRecord {
        id: uuid::Uuid::new_v4().to_string(),
        name,
        publisher: user,
        sysadmin,
        organizations: ids,
        created_s: now_s,
        last_used_s: None,
        expires_s,
        revoked_s: None,
    };
    store
        .insert_token(&record, &token::secret_hash(&secret), actor)
        .await?;
    Ok((secret, record))
}
