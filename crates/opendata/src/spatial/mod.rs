//! 空間數據 Spatial data (CSDI): GeoJSON resources served as OGC API – Features (Part 1)
//! collections at `/ogc`.
//!
//! Layers, as in the rest of the crate: `crs`, `features` and `query` are rules with no I/O
//! (coordinate systems and their conversion, checking an upload, reading request parameters);
//! `store` keeps collections and features in the database; `index` holds them in memory with
//! an R*-tree for bbox queries; `service` publishes an upload (`OpenData::publish_features`);
//! `http` is the OGC API; `land` and `synthetic` make the demo's synthetic layers.
//!
//! Everything served is in CRS84 (WGS84 longitude/latitude); an upload in the HK1980 Grid is
//! converted once, on the way in.

pub mod crs;
pub mod features;
pub mod http;
pub mod index;
pub mod land;
pub mod openapi;
pub mod query;
pub mod service;
pub mod store;
pub mod synthetic;

pub use crs::Crs;
