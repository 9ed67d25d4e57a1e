//! The `bauhinia` binary's library half: configuration, the composed application and the
//! start-up sequence, so integration tests drive exactly what `bauhinia serve` runs.

pub mod app;
pub mod config;
pub mod rate_limit;

use std::sync::Arc;

use anyhow::Context;
use bauhinia_funding::FundingService;
use bauhinia_store::{Backend, Database};

use crate::app::{AppState, Metrics};
use crate::config::Config;

/// Connects, migrates, starts every service and loads demo data where asked: everything
/// `serve` does before it listens.
pub async fn start(config: &Config) -> anyhow::Result<AppState> {
    let url = config.effective_database_url();
    if url.backend() == Backend::Sqlite {
        std::fs::create_dir_all(&config.data_dir).with_context(|| {
            format!("creating the data directory {}", config.data_dir.display())
        })?;
    }
    let db = Database::connect(&url)
        .await
        .with_context(|| format!("connecting to {url}"))?;
    db.migrate().await.context("applying migrations")?;
    let (funding, _) = FundingService::start(&db)
        .await
        .context("starting Funding Easy")?;
    let demo = load_demo(&db, config).await?;
    let metrics = Arc::new(Metrics::new(funding.catalogue().len()));
    Ok(AppState {
        db,
        funding: Arc::new(funding),
        metrics,
        demo,
    })
}

/// Demo data is loaded once, into an embedded database, unless `--no-demo`; a PostgreSQL
/// deployment is an operator's and never gets demo data. Returns whether demo data is present.
async fn load_demo(db: &Database, config: &Config) -> anyhow::Result<bool> {
    if let Some(state) = db.meta("demo").await? {
        return Ok(state == "loaded");
    }
    let load = config.demo && db.backend() == Backend::Sqlite;
    db.set_meta("demo", if load { "loaded" } else { "none" })
        .await?;
    if load {
        tracing::info!(
            "demo data loaded: example applicant profiles are offered on the Funding Easy page"
        );
    }
    Ok(load)
}
