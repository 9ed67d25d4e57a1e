//! `OpenData`, what the binary starts: the catalogue's store and the rules of who sees what.
//! An anonymous caller sees active, public datasets; asking for a private or deleted one by id
//! or name is an authorization error, as in CKAN, not a silent absence. A publisher (an API
//! token) also sees its organisations' private and deleted datasets; the write side is in
//! `publish.rs`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bauhinia_store::Database;

use crate::datastore::Datastore;
use crate::domain::{category, Dataset, Group, Organization, Tag};
use crate::error::OpendataError;
use crate::search::SearchIndex;
use crate::store::{CatalogueStore, Counted, Owner};

/// The search index's directory, under the catalogue's.
pub const SEARCH_DIR: &str = "search";

/// At most this many datasets are listed inside an organisation or group (`include_datasets`).
pub const DATASETS_IN_SHOW_MAX: u32 = 1_000;

#[derive(Debug, Clone)]
pub struct OpenData {
    store: CatalogueStore,
    datastore: Datastore,
    /// Where this server is reached (no trailing slash): CKAN's `site_url`, used in `help`.
    site_url: String,
    /// The catalogue's own directory (`opendata` under the data directory): uploaded files
    /// and the search index live here, never in the database.
    dir: PathBuf,
    /// Request and upload sizes the write side accepts.
    limits: crate::publish::WriteLimits,
    /// The OGC API's collections and their spatial index (`spatial`), rebuilt from the store
    /// at start.
    spatial: std::sync::Arc<crate::spatial::index::Collections>,
    /// The search index, in `search/` under `dir`: derived from the store, kept current by
    /// every write (`index_dataset`), rebuilt by `reindex`.
    pub(crate) search: Arc<SearchIndex>,
}

impl OpenData {
    /// The service with these write limits (the operator's configuration).
    pub fn with_limits(mut self, limits: crate::publish::WriteLimits) -> OpenData {
        self.limits = limits;
        self
    }

    pub fn limits(&self) -> crate::publish::WriteLimits {
        self.limits
    }

    /// The service, with DATA.GOV.HK's 19 categories stored if they are not yet: they are the
    /// catalogue's structure, on every installation, not demo data.
    /// `dir` is created if missing; the search index in it is rebuilt from the database if it
    /// is missing or of another schema version.
    pub async fn start(
        db: &Database,
        site_url: &str,
        dir: &Path,
        now_s: i64,
    ) -> Result<OpenData, OpendataError> {
        std::fs::create_dir_all(dir).map_err(|e| OpendataError::Io(e.to_string()))?;
        let (search, rebuild) = SearchIndex::open(&dir.join(SEARCH_DIR))?;
        let open = OpenData {
            store: CatalogueStore::new(db),
            datastore: Datastore::new(db),
            site_url: site_url.trim_end_matches('/').to_owned(),
            dir: dir.to_owned(),
            limits: crate::publish::WriteLimits::default(),
            spatial: std::sync::Arc::default(),
            search: Arc::new(search),
        };
        let stored = open.store.groups().await?;
        for group in OpenData::category_groups(now_s) {
            if !stored.iter().any(|g| g.item.name == group.name) {
                let added = open.store.insert_group(&group, "system").await;
                crate::demo::ignore_exists(added)?;
            }
        }
        open.load_collections().await?;
        if rebuild {
            let indexed = open.reindex().await?;
            tracing::info!(indexed, "open data search index rebuilt");
        } else {
            open.remember_titles().await?;
        }
        Ok(open)
    }

    /// The OGC API's collections, as served.
    pub fn spatial(&self) -> &crate::spatial::index::Collections {
        &self.spatial
    }

    pub fn store(&self) -> &CatalogueStore {
        &self.store
    }

    /// The tabular resources' rows (`datastore_search`, dumps).
    pub fn datastore(&self) -> &Datastore {
        &self.datastore
    }

    pub fn site_url(&self) -> &str {
        &self.site_url
    }

    /// The catalogue's own directory (files and the search index).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Active, public datasets with their providers, a page at a time (by name, or the most
    /// recently changed first), and how many there are in all.
    pub async fn public_page(
        &self,
        recent_first: bool,
        limit: u32,
        offset: u32,
    ) -> Result<(Vec<(Dataset, Organization)>, i64), OpendataError> {
        let (datasets, total) = self.store.public_page(recent_first, limit, offset).await?;
        let organizations = self.store.organizations().await?;
        let mut out = Vec::with_capacity(datasets.len());
        for dataset in datasets {
            let organization = organizations
                .iter()
                .find(|o| o.item.name == dataset.organization)
                .map(|o| o.item.clone())
                .ok_or_else(|| OpendataError::NotFound(String::new()))?;
            out.push((dataset, organization));
        }
        Ok((out, total))
    }

    pub async fn package_names(
        &self,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<String>, OpendataError> {
        Ok(self.store.package_names(limit, offset).await?)
    }

    /// A dataset with its provider and categories, if an anonymous caller may see it.
    pub async fn package(&self, id_or_name: &str) -> Result<Package, OpendataError> {
        self.package_for(id_or_name, None).await
    }

    pub(crate) async fn package_of(&self, dataset: Dataset) -> Result<Package, OpendataError> {
        let organization = self
            .store
            .organization(dataset.organization.as_str())
            .await?
            .ok_or_else(|| OpendataError::NotFound(String::new()))?
            .item;
        let groups = self
            .store
            .groups()
            .await?
            .into_iter()
            .filter(|g| dataset.groups.contains(&g.item.name))
            .map(|g| g.item)
            .collect();
        let tags = self.store.tags_of(&dataset.id).await?;
        Ok(Package {
            dataset,
            organization,
            groups,
            tags,
        })
    }

    pub async fn organizations(&self) -> Result<Vec<Counted<Organization>>, OpendataError> {
        Ok(self.store.organizations().await?)
    }

    pub async fn organization(
        &self,
        id_or_name: &str,
        include_datasets: bool,
    ) -> Result<(Counted<Organization>, Vec<Package>), OpendataError> {
        let org = self
            .store
            .organization(id_or_name)
            .await?
            .ok_or_else(|| OpendataError::NotFound(String::new()))?;
        let packages = if include_datasets {
            self.packages(Owner::Organization(&org.item.id)).await?
        } else {
            Vec::new()
        };
        Ok((org, packages))
    }

    pub async fn groups(&self) -> Result<Vec<Counted<Group>>, OpendataError> {
        Ok(self.store.groups().await?)
    }

    pub async fn group(
        &self,
        id_or_name: &str,
        include_datasets: bool,
    ) -> Result<(Counted<Group>, Vec<Package>), OpendataError> {
        let group = self
            .store
            .group(id_or_name)
            .await?
            .ok_or_else(|| OpendataError::NotFound(String::new()))?;
        let packages = if include_datasets {
            self.packages(Owner::Group(&group.item.id)).await?
        } else {
            Vec::new()
        };
        Ok((group, packages))
    }

    async fn packages(&self, owner: Owner<'_>) -> Result<Vec<Package>, OpendataError> {
        let datasets = self
            .store
            .public_datasets(owner, DATASETS_IN_SHOW_MAX)
            .await?;
        let mut out = Vec::with_capacity(datasets.len());
        for dataset in datasets {
            out.push(self.package_of(dataset).await?);
        }
        Ok(out)
    }

    pub async fn tags(&self, query: Option<&str>) -> Result<Vec<Tag>, OpendataError> {
        Ok(self.store.tags(query).await?)
    }

    /// The categories as groups, ready to store: one per DATA.GOV.HK category.
    pub fn category_groups(now_s: i64) -> Vec<Group> {
        category::CATEGORIES
            .iter()
            .filter_map(|c| {
                Some(Group {
                    id: uuid::Uuid::new_v4().to_string(),
                    name: crate::domain::stored_name(c.name)?,
                    title: c.title(),
                    description: c.title(),
                    created_s: now_s,
                })
            })
            .collect()
    }
}

/// A dataset with what its CKAN dictionary embeds: its provider and its categories.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    pub dataset: Dataset,
    pub organization: Organization,
    pub groups: Vec<Group>,
    /// The dataset's tags with their ids, in the dataset's order.
    pub tags: Vec<Tag>,
}
