//! The crate's one error enum. The CKAN Action API answers each in CKAN's own shape
//! (`ckan.rs`); a future portal or problem+json API maps the same variants.

use bauhinia_core::FieldError;
use bauhinia_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum OpendataError {
    /// No dataset, organisation, group or action help by that id or name. The text is what
    /// CKAN adds after "Not found: " (usually nothing).
    #[error("not found {0}")]
    NotFound(String),
    /// The caller may not see it (a private or deleted dataset, for an anonymous caller).
    #[error("not authorised: {0}")]
    Forbidden(String),
    /// The name or id is taken.
    #[error("{0} already exists")]
    Exists(String),
    /// Fields are invalid; every one is named (a JSON Pointer into CKAN's dictionary).
    #[error("invalid fields: {0:?}")]
    Invalid(Vec<FieldError>),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A search the index cannot run (CKAN's "Search Error", what it answers when Solr rejects
    /// a query): bad `q` or `fq` syntax, an unknown field.
    #[error("search error: {0}")]
    Search(String),
    /// A search parameter CKAN itself rejects ("Search Query Error"): a bad `sort`.
    #[error("search query error: {0}")]
    SearchQuery(String),
    /// The catalogue's directory (files, the search index) could not be read or written.
    #[error("open data files: {0}")]
    Io(String),
}

impl From<sqlx::Error> for OpendataError {
    fn from(error: sqlx::Error) -> Self {
        OpendataError::Store(StoreError::Sqlx(error))
    }
}
