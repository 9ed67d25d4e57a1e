//! 開放數據 Open data: a DATA.GOV.HK-class catalogue — providers, DATA.GOV.HK's 19 categories,
//! datasets in three languages with their resources — served through a CKAN-compatible Action
//! API, so CKAN's clients (`ckanapi`, harvesters) work against it unchanged.
//!
//! Layers, in this direction only: `domain` (rules, no I/O) ← `store` (SQLite / PostgreSQL) ←
//! `service` (who may see what) ← `action` (parameters of outside requests) and `ckan` (CKAN's
//! dictionaries) ← `http` (the routes). `demo` is the catalogue an embedded demo starts with.

pub mod action;
pub mod admin;
pub mod archive;
pub mod ckan;
pub mod datastore;
pub mod demo;
pub mod domain;
pub mod error;
pub mod feeds;
pub mod files;
pub mod generate;
pub mod http;
pub mod http_write;
pub mod package_input;
pub mod publish;
pub mod search;
pub mod service;
pub mod spatial;
pub mod store;
pub mod store_write;
pub mod token;

pub use error::OpendataError;
pub use service::OpenData;
