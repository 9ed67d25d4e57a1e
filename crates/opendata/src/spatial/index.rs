//! The served collections, in memory: per collection its features' GeoJSON as stored, an
//! R*-tree (`rstar`) of their bounding boxes, and what the filters compare. Built from the
//! database at start and replaced whole, under a short write lock, after every publication —
//! the database stays the record, this is its index.
//!
//! Why in memory rather than SQLite's R*Tree module and PostGIS: one index that behaves the
//! same on both dialects, no extension to install on PostgreSQL, and a bbox query that never
//! leaves the process — 42,000 features take a few megabytes.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use bauhinia_core::Localized;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};

use super::features::Scalar;
use super::query::{Bbox, ItemsQuery};

/// What a collection is: its id in URLs, where it comes from, and what it covers.
#[derive(Debug, Clone, PartialEq)]
pub struct CollectionMeta {
    pub id: String,
    pub dataset_id: String,
    pub resource_id: String,
    pub title: Localized,
    pub description: Localized,
    /// The CRS the upload was in (it is served in CRS84).
    pub source_crs: String,
    pub extent: Option<Bbox>,
    pub interval: Option<(i64, i64)>,
    pub queryables: Vec<String>,
    pub feature_count: i64,
    pub modified_s: i64,
}

/// A feature as the index holds it.
#[derive(Debug, Clone)]
pub struct IndexedFeature {
    pub id: String,
    pub bbox: Option<Bbox>,
    pub datetime_s: Option<i64>,
    pub geojson: Box<str>,
    /// Its value of each of the collection's queryables.
    pub filters: Vec<Option<Scalar>>,
}

type Entry = GeomWithData<Rectangle<[f64; 2]>, u32>;

/// A feature as a layer keeps it once indexed.
#[derive(Debug)]
struct Stored {
    datetime_s: Option<i64>,
    geojson: Box<str>,
}

/// The code of a feature that lacks a queryable property (or has a list or object there).
const ABSENT: u16 = u16::MAX;

/// A queryable property's values: each distinct value once, and each feature's by its code —
/// a few bytes a feature rather than a copy of every value.
#[derive(Debug, Default)]
struct Column {
    values: Vec<Scalar>,
    codes: Vec<u16>,
}

impl Column {
    fn build(features: &[IndexedFeature], qi: usize) -> Column {
        let mut column = Column::default();
        let mut seen: HashMap<String, u16> = HashMap::new();
        for f in features {
            let code = match f.filters.get(qi).and_then(Option::as_ref) {
                None => ABSENT,
                Some(value) => match seen.get(&value.key()) {
                    Some(code) => *code,
                    None => match u16::try_from(column.values.len()) {
                        Ok(code) if code < ABSENT => {
                            seen.insert(value.key(), code);
                            column.values.push(value.clone());
                            code
                        }
                        _ => ABSENT,
                    },
                },
            };
            column.codes.push(code);
        }
        column
    }

    /// Which codes a query's text matches.
    fn matching(&self, text: &str) -> Vec<bool> {
        self.values.iter().map(|v| v.matches(text)).collect()
    }
}

/// One collection, ready to answer.
#[derive(Debug)]
pub struct Layer {
    pub meta: CollectionMeta,
    /// Whether its dataset is public and active: only then is it served.
    public: AtomicBool,
    features: Vec<Stored>,
    /// One per queryable, in `meta.queryables` order.
    columns: Vec<Column>,
    tree: RTree<Entry>,
    by_id: HashMap<Box<str>, u32>,
}

/// One page of an items answer.
#[derive(Debug)]
pub struct Page<'a> {
    pub matched: usize,
    pub features: Vec<&'a str>,
}

impl Layer {
    /// Builds the index; features keep their order (the order of the upload).
    pub fn build(meta: CollectionMeta, public: bool, features: Vec<IndexedFeature>) -> Layer {
        let entries: Vec<Entry> = features
            .iter()
            .zip(0_u32..)
            .filter_map(|(f, i)| {
                let b = f.bbox?;
                Some(GeomWithData::new(
                    Rectangle::from_corners([b.min_x, b.min_y], [b.max_x, b.max_y]),
                    i,
                ))
            })
            .collect();
        let columns = (0..meta.queryables.len())
            .map(|qi| Column::build(&features, qi))
            .collect();
        let mut by_id = HashMap::with_capacity(features.len());
        let mut stored = Vec::with_capacity(features.len());
        for (f, i) in features.into_iter().zip(0_u32..) {
            by_id.insert(f.id.into_boxed_str(), i);
            stored.push(Stored {
                datetime_s: f.datetime_s,
                geojson: f.geojson,
            });
        }
        Layer {
            meta,
            public: AtomicBool::new(public),
            features: stored,
            columns,
            tree: RTree::bulk_load(entries),
            by_id,
        }
    }

    pub fn is_public(&self) -> bool {
        self.public.load(Ordering::Relaxed)
    }

    pub fn len(&self) -> usize {
        self.features.len()
    }

    pub fn is_empty(&self) -> bool {
        self.features.is_empty()
    }

    /// The first `n` features in upload order, as stored (GeoJSON text): a preview.
    pub fn first(&self, n: usize) -> Vec<&str> {
        self.features.iter().take(n).map(|f| &*f.geojson).collect()
    }

    pub fn feature(&self, id: &str) -> Option<&str> {
        let i = *self.by_id.get(id)?;
        self.features
            .get(usize::try_from(i).ok()?)
            .map(|f| &*f.geojson)
    }

    /// Whether feature `i` passes the query's datetime and property filters.
    /// `filters` holds, per filter, its column and the codes it matches.
    fn passes(&self, i: usize, q: &ItemsQuery, filters: &[(&Column, Vec<bool>)]) -> bool {
        let Some(f) = self.features.get(i) else {
            return false;
        };
        if let Some(interval) = q.datetime {
            if !f.datetime_s.is_some_and(|t| interval.contains(t)) {
                return false;
            }
        }
        filters.iter().all(|(column, matching)| {
            column
                .codes
                .get(i)
                .and_then(|code| matching.get(usize::from(*code)))
                .copied()
                .unwrap_or(false)
        })
    }

    /// The features matching the query, in upload order, one page of them.
    pub fn items(&self, q: &ItemsQuery) -> Page<'_> {
        let offset = usize::try_from(q.offset).unwrap_or(usize::MAX);
        let limit = usize::try_from(q.limit).unwrap_or(usize::MAX);
        let unfiltered = q.datetime.is_none() && q.filters.is_empty();
        if q.bbox.is_none() && unfiltered {
            return Page {
                matched: self.features.len(),
                features: self
                    .features
                    .iter()
                    .skip(offset)
                    .take(limit)
                    .map(|f| &*f.geojson)
                    .collect(),
            };
        }
        let candidates: Vec<usize> = match q.bbox {
            Some(b) => {
                let envelope = AABB::from_corners([b.min_x, b.min_y], [b.max_x, b.max_y]);
                let mut hits: Vec<usize> = self
                    .tree
                    .locate_in_envelope_intersecting(&envelope)
                    .map(|e| e.data as usize)
                    .collect();
                hits.sort_unstable();
                hits
            }
            None => (0..self.features.len()).collect(),
        };
        let filters: Vec<(&Column, Vec<bool>)> = q
            .filters
            .iter()
            .filter_map(|(qi, text)| {
                let column = self.columns.get(*qi)?;
                Some((column, column.matching(text)))
            })
            .collect();
        let mut matched = 0;
        let mut features = Vec::with_capacity(limit.min(1_024));
        for i in candidates {
            if !unfiltered && !self.passes(i, q, &filters) {
                continue;
            }
            if matched >= offset && features.len() < limit {
                if let Some(f) = self.features.get(i) {
                    features.push(&*f.geojson);
                }
            }
            matched += 1;
        }
        Page { matched, features }
    }
}

/// Every served collection, by id.
#[derive(Debug, Default)]
pub struct Collections {
    layers: RwLock<HashMap<String, Arc<Layer>>>,
}

impl Collections {
    pub fn get(&self, id: &str) -> Option<Arc<Layer>> {
        self.layers.read().ok()?.get(id).cloned()
    }

    /// The collection, if its dataset is public.
    pub fn get_public(&self, id: &str) -> Option<Arc<Layer>> {
        self.get(id).filter(|l| l.is_public())
    }

    /// Serves (or stops serving) the collections of a dataset, as it is public or not.
    pub fn set_dataset_public(&self, dataset_id: &str, public: bool) {
        if let Ok(layers) = self.layers.read() {
            for layer in layers.values().filter(|l| l.meta.dataset_id == dataset_id) {
                layer.public.store(public, Ordering::Relaxed);
            }
        }
    }

    /// Every collection, by id, public or not.
    pub fn all(&self) -> Vec<Arc<Layer>> {
        let mut all: Vec<Arc<Layer>> = self
            .layers
            .read()
            .map(|l| l.values().cloned().collect())
            .unwrap_or_default();
        all.sort_by(|a, b| a.meta.id.cmp(&b.meta.id));
        all
    }

    /// Stops serving the dataset's collections of resources it no longer has.
    pub fn retain_resources(&self, dataset_id: &str, resources: &[&str]) {
        if let Ok(mut layers) = self.layers.write() {
            layers.retain(|_, l| {
                l.meta.dataset_id != dataset_id || resources.contains(&l.meta.resource_id.as_str())
            });
        }
    }

    /// Serves `layer` under its id from now on (replacing what was served under it).
    pub fn put(&self, layer: Layer) {
        if let Ok(mut layers) = self.layers.write() {
            layers.insert(layer.meta.id.clone(), Arc::new(layer));
        }
    }
}

/// Writes `{"type":"FeatureCollection","features":[…]` with the stored features as they are.
pub fn write_features(out: &mut String, features: &[&str]) {
    out.push_str("{\"type\":\"FeatureCollection\",\"features\":[");
    for (i, f) in features.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(f);
    }
    out.push(']');
}
