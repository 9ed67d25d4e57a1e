//! The catalogue's side of search: `OpenData` keeps the index current (every write calls
//! `index_dataset` or `unindex_dataset` after its transaction commits), rebuilds it from the
//! store, and answers `package_search`.

use std::collections::HashMap;

use super::{FacetField, PackageSearchArgs, SearchResult, Viewer};
use crate::domain::{Dataset, Group, Organization, Tag};
use crate::error::OpendataError;
use crate::service::{OpenData, Package};

/// Datasets read from the store per batch of a rebuild.
pub const REINDEX_BATCH: u32 = 2_000;

/// Organisations and categories by name, to complete many datasets without a query each.
#[derive(Debug)]
pub(crate) struct Owners {
    organizations: HashMap<String, Organization>,
    groups: HashMap<String, Group>,
}

impl Owners {
    pub(crate) async fn load(open: &OpenData) -> Result<Owners, OpendataError> {
        let organizations = open
            .store()
            .organizations()
            .await?
            .into_iter()
            .map(|o| (o.item.name.as_str().to_owned(), o.item))
            .collect();
        let groups = open
            .store()
            .groups()
            .await?
            .into_iter()
            .map(|g| (g.item.name.as_str().to_owned(), g.item))
            .collect();
        Ok(Owners {
            organizations,
            groups,
        })
    }

    /// The package of a dataset read with its tags; `None` if its provider is unknown (the
    /// store's foreign keys make that impossible).
    pub(crate) fn package(&self, dataset: Dataset, tags: Vec<Tag>) -> Option<Package> {
        let organization = self
            .organizations
            .get(dataset.organization.as_str())?
            .clone();
        // By name, as `OpenData::package_of` lists them.
        let mut groups: Vec<Group> = dataset
            .groups
            .iter()
            .filter_map(|g| self.groups.get(g.as_str()).cloned())
            .collect();
        groups.sort_by(|a, b| a.name.cmp(&b.name));
        Some(Package {
            dataset,
            organization,
            groups,
            tags,
        })
    }

    fn titles(&self) -> Vec<(FacetField, String, String)> {
        let orgs = self
            .organizations
            .iter()
            .map(|(name, o)| (FacetField::Organization, name.clone(), o.title.en.clone()));
        let groups = self
            .groups
            .iter()
            .map(|(name, g)| (FacetField::Groups, name.clone(), g.title.en.clone()));
        orgs.chain(groups).collect()
    }
}

impl OpenData {
    /// Brings a dataset's search document up to date with the store (removing it if the
    /// dataset is gone). Writes call this after their transaction commits.
    pub async fn index_dataset(&self, id_or_name: &str) -> Result<(), OpendataError> {
        match self.store().dataset(id_or_name).await? {
            Some(dataset) => {
                let package = self.package_to_index(dataset).await?;
                self.search.put(std::slice::from_ref(&package)).await
            }
            None => self.search.remove(id_or_name).await,
        }
    }

    /// A dataset's package with its provider and categories read one by one (`package_of`
    /// reads every category with its count, which a large catalogue makes slow).
    async fn package_to_index(&self, dataset: Dataset) -> Result<Package, OpendataError> {
        let missing = || OpendataError::NotFound(String::new());
        let organization = self
            .store()
            .organization(dataset.organization.as_str())
            .await?
            .ok_or_else(missing)?
            .item;
        let mut groups = Vec::with_capacity(dataset.groups.len());
        for name in &dataset.groups {
            groups.push(
                self.store()
                    .group(name.as_str())
                    .await?
                    .ok_or_else(missing)?
                    .item,
            );
        }
        groups.sort_by(|a, b| a.name.cmp(&b.name));
        let tags = self.store().tags_of(&dataset.id).await?;
        Ok(Package {
            dataset,
            organization,
            groups,
            tags,
        })
    }

    /// Removes a dataset's search document (by id) — after a purge.
    pub async fn unindex_dataset(&self, id: &str) -> Result<(), OpendataError> {
        self.search.remove(id).await
    }

    /// Indexes packages already complete, in one commit (bulk loads).
    pub async fn index_packages(&self, packages: &[Package]) -> Result<(), OpendataError> {
        self.search.put(packages).await
    }

    /// Rebuilds the search index from the store, every dataset of any state, in one commit,
    /// then merges its segments. The number of datasets indexed.
    pub async fn reindex(&self) -> Result<usize, OpendataError> {
        let owners = Owners::load(self).await?;
        self.search.remember_titles(owners.titles());
        let mut rebuild = self.search.rebuild().await?;
        let mut after = String::new();
        loop {
            let batch = self.store().datasets_after(&after, REINDEX_BATCH).await?;
            let Some((last, _)) = batch.last() else { break };
            after = last.id.clone();
            let packages: Vec<Package> = batch
                .into_iter()
                .filter_map(|(d, tags)| owners.package(d, tags))
                .collect();
            rebuild.add(&packages)?;
        }
        let indexed = rebuild.commit()?;
        self.search.optimize().await?;
        Ok(indexed)
    }

    /// Loads the facets' display names (organisation and category titles) from the store.
    pub(crate) async fn remember_titles(&self) -> Result<(), OpendataError> {
        let owners = Owners::load(self).await?;
        self.search.remember_titles(owners.titles());
        Ok(())
    }

    /// `package_search` for a viewer.
    pub fn search(
        &self,
        args: &PackageSearchArgs,
        viewer: &Viewer,
    ) -> Result<SearchResult, OpendataError> {
        self.search.search(args, viewer)
    }

    /// The number of documents in the search index (datasets of any state).
    pub fn indexed(&self) -> u64 {
        self.search.len()
    }
}
