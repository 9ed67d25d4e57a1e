//! The Funding Easy service: owns the store and the in-memory catalogue the matcher reads.
//! The catalogue is swapped whole behind an `Arc`, so a match never waits on the database.

use std::sync::{Arc, RwLock};

use bauhinia_core::{ErrorCode, Problem};
use bauhinia_store::{Database, StoreError};

use crate::catalogue::{Catalogue, CatalogueError, SchemeRecord};
use crate::store::{AnyFundingStore, FundingStore, ImportReport};

#[derive(Debug, thiserror::Error)]
pub enum FundingError {
    #[error("no funding scheme has id {0:?}")]
    SchemeNotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Catalogue(#[from] CatalogueError),
}

impl From<FundingError> for Problem {
    fn from(error: FundingError) -> Problem {
        match error {
            FundingError::SchemeNotFound(id) => Problem::new(ErrorCode::FundingSchemeNotFound)
                .detail(format!("no funding scheme has id {id:?}")),
            FundingError::Store(StoreError::Sqlx(sqlx::Error::PoolTimedOut)) => {
                Problem::new(ErrorCode::StoreUnavailable)
            }
            other => Problem::internal(&other),
        }
    }
}

#[derive(Debug)]
pub struct FundingService {
    store: AnyFundingStore,
    catalogue: RwLock<Arc<Catalogue>>,
}

impl FundingService {
    /// Imports the catalogue compiled into this binary (new versions only) and loads the latest
    /// version of every scheme.
    pub async fn start(db: &Database) -> Result<(FundingService, ImportReport), FundingError> {
        let store = AnyFundingStore::new(db);
        let report = store.import(&Catalogue::embedded()?).await?;
        let catalogue = store
            .load_latest()
            .await?
            .unwrap_or(Catalogue::from_records(String::new(), Vec::new())?);
        tracing::info!(schemes = catalogue.len(), version = %catalogue.version, inserted = report.inserted, "funding catalogue loaded");
        Ok((
            FundingService {
                store,
                catalogue: RwLock::new(Arc::new(catalogue)),
            },
            report,
        ))
    }

    /// The current catalogue: a cheap clone of an `Arc`.
    pub fn catalogue(&self) -> Arc<Catalogue> {
        match self.catalogue.read() {
            Ok(guard) => Arc::clone(&guard),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Every stored version of a scheme, oldest first.
    pub async fn versions(&self, scheme_id: &str) -> Result<Vec<SchemeRecord>, FundingError> {
        let versions = self.store.versions(scheme_id).await?;
        if versions.is_empty() {
            return Err(FundingError::SchemeNotFound(scheme_id.to_owned()));
        }
        Ok(versions)
    }
}
