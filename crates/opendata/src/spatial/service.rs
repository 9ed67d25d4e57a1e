//! Publishing a GeoJSON resource as a collection, and loading the collections at start: the
//! one way features get into the store and the index, for uploads and the demo alike.

use bauhinia_core::{FieldError, Localized};

use super::crs::Crs;
use super::features::{self, Prepared};
use super::index::{CollectionMeta, Layer};
use super::store;
use crate::domain::{Dataset, Format, Resource};
use crate::error::OpendataError;
use crate::service::OpenData;

/// A collection id is at most this long (the dataset name plus a resource's short id).
const SHORT_RESOURCE_CHARS: usize = 8;

impl OpenData {
    /// Checks a GeoJSON upload, converts it to WGS84 (from `source_crs`, or the CRS its legacy
    /// `crs` member names, or CRS84), and stores and serves it as the OGC collection of the
    /// dataset's resource, replacing what that resource published before. Invalid GeoJSON is
    /// `Invalid`, naming each fault (`/features/3/geometry/coordinates`), and nothing changes.
    pub async fn publish_features(
        &self,
        dataset_id: &str,
        resource_id: &str,
        bytes: &[u8],
        source_crs: Option<Crs>,
        actor: &str,
        now_s: i64,
    ) -> Result<CollectionMeta, OpendataError> {
        self.geojson_resource(dataset_id, resource_id).await?;
        let prepared = features::prepare(bytes, source_crs).map_err(OpendataError::Invalid)?;
        self.publish_prepared(dataset_id, resource_id, prepared, actor, now_s)
            .await
    }

    /// `publish_features`, of an upload already checked and converted.
    pub async fn publish_prepared(
        &self,
        dataset_id: &str,
        resource_id: &str,
        prepared: Prepared,
        actor: &str,
        now_s: i64,
    ) -> Result<CollectionMeta, OpendataError> {
        let (dataset, resource) = self.geojson_resource(dataset_id, resource_id).await?;
        let id = self
            .collection_id(dataset.name.as_str(), resource_id)
            .await?;
        let meta = CollectionMeta {
            id,
            dataset_id: dataset.id.clone(),
            resource_id: resource.id.clone(),
            title: joined(&dataset.title, &resource.name),
            description: dataset.notes.clone(),
            source_crs: prepared.source_crs.as_str().to_owned(),
            extent: prepared.extent,
            interval: prepared.interval,
            queryables: prepared.queryables.clone(),
            feature_count: i64::try_from(prepared.features.len()).unwrap_or(i64::MAX),
            modified_s: now_s,
        };
        store::replace(self.store().db(), &meta, &prepared.features, actor).await?;
        self.serve(meta.clone(), dataset.is_public(), prepared);
        Ok(meta)
    }

    /// The dataset and its resource, which must be GeoJSON.
    async fn geojson_resource(
        &self,
        dataset_id: &str,
        resource_id: &str,
    ) -> Result<(Dataset, Resource), OpendataError> {
        let dataset = self
            .store()
            .dataset(dataset_id)
            .await?
            .filter(|d| d.id == dataset_id)
            .ok_or_else(|| OpendataError::NotFound("Dataset".into()))?;
        let resource = dataset
            .resources
            .iter()
            .find(|r| r.id == resource_id)
            .cloned()
            .ok_or_else(|| OpendataError::NotFound("Resource".into()))?;
        if resource.format != Format::GeoJson {
            return Err(OpendataError::Invalid(vec![FieldError::new(
                "/format",
                "only a GeoJSON resource is published as features",
            )]));
        }
        Ok((dataset, resource))
    }

    /// The collection's id: the dataset's name, unless another resource of it has that id.
    async fn collection_id(
        &self,
        dataset: &str,
        resource_id: &str,
    ) -> Result<String, OpendataError> {
        if !store::id_taken(self.store().db(), dataset, resource_id).await? {
            return Ok(dataset.to_owned());
        }
        let short: String = resource_id
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(SHORT_RESOURCE_CHARS)
            .collect();
        Ok(format!("{dataset}-{short}"))
    }

    fn serve(&self, meta: CollectionMeta, public: bool, prepared: Prepared) {
        let features = prepared
            .features
            .into_iter()
            .map(|f| super::index::IndexedFeature {
                id: f.id,
                bbox: f.bbox,
                datetime_s: f.datetime_s,
                geojson: f.geojson.into_boxed_str(),
                filters: f.filters,
            })
            .collect();
        self.spatial().put(Layer::build(meta, public, features));
    }

    /// Serves a dataset's collections if it is public and active, and stops serving them if
    /// not: to be called after a dataset's `private` or `state` changes.
    /// Collections of resources the dataset no longer has stop being served too.
    pub async fn sync_spatial_visibility(&self, dataset_id: &str) -> Result<(), OpendataError> {
        let dataset = self.store().dataset(dataset_id).await?;
        let public = dataset.as_ref().is_some_and(|d| d.is_public());
        let resources: Vec<&str> = dataset
            .iter()
            .flat_map(|d| d.resources.iter().map(|r| r.id.as_str()))
            .collect();
        self.spatial().retain_resources(dataset_id, &resources);
        self.spatial().set_dataset_public(dataset_id, public);
        Ok(())
    }

    /// Builds the index of every stored collection (at start).
    pub(crate) async fn load_collections(&self) -> Result<(), OpendataError> {
        let db = self.store().db();
        for meta in store::collections(db).await? {
            let features = store::features(db, &meta.id, &meta.queryables).await?;
            let public = self
                .store()
                .dataset(&meta.dataset_id)
                .await?
                .is_some_and(|d| d.is_public());
            self.spatial().put(Layer::build(meta, public, features));
        }
        Ok(())
    }
}

/// "Dataset title: resource name" in each language.
fn joined(title: &Localized, name: &Localized) -> Localized {
    let join = |a: &str, b: &str| {
        if b.is_empty() || a == b {
            a.to_owned()
        } else {
            format!("{a}: {b}")
        }
    };
    Localized {
        en: join(&title.en, &name.en),
        zh_hant: join(&title.zh_hant, &name.zh_hant),
        zh_hans: join(&title.zh_hans, &name.zh_hans),
    }
}
