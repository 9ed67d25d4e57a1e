//! The `bauhinia` binary's library half: configuration, the composed application and the
//! start-up sequence, so integration tests drive exactly what `bauhinia serve` runs.

pub mod app;
pub mod bench_fixture;
pub mod config;
pub mod exchange_bench;
pub mod rate_limit;

use std::sync::Arc;

use anyhow::Context;
use bauhinia_core::admin::AdminToken;
use bauhinia_core::crypto::{MasterKey, Vault};
use bauhinia_funding::FundingService;
use bauhinia_identity::corporate::CorporateDirectory;
use bauhinia_identity::oidc::Provider;
use bauhinia_identity::{IdentityService, PasskeyService, SessionService, SigningService};
use bauhinia_store::{Backend, Database};

use crate::app::{AppState, Metrics};
use crate::config::Config;

/// Connects, migrates, starts every service and loads demo data where asked: everything
/// `serve` does before it listens. The public URL defaults to `http://localhost:<port of
/// config.listen>`: `serve` binds first and passes the bound address in `config.listen`.
pub async fn start(config: &Config) -> anyhow::Result<AppState> {
    let db = open_database(config).await?;
    let vault = Arc::new(Vault::new(&master_key(config)?));
    let (funding, _) = FundingService::start(&db)
        .await
        .context("starting Funding Easy")?;
    let identity = Arc::new(IdentityService::new(&db, Arc::clone(&vault)));
    let public_url = config.public_url(config.listen.port())?;
    let sessions = SessionService::new(&db).with_public_url(&public_url);
    let passkeys = Arc::new(
        PasskeyService::new(
            &db,
            Arc::clone(&identity),
            Arc::clone(&vault),
            sessions.clone(),
            &public_url,
        )
        .context("setting up passkeys (WebAuthn) for the public URL")?,
    );
    let provider = Arc::new(
        Provider::new(
            &db,
            Arc::clone(&vault),
            Arc::clone(&identity),
            public_url.as_str(),
        )
        .await
        .context("starting the OpenID Provider")?,
    );
    let admin_token = Arc::new(admin_token(config)?);
    let signing = Arc::new(SigningService::new(&db, Arc::clone(&vault)));
    signing
        .ensure_ca()
        .await
        .context("loading or creating the signing certificate authority")?;
    let fps = bauhinia_fps::switch::Switch::start(db.clone())
        .await
        .context("starting the FPS switch and its ledger")?;
    let webhooks = Arc::new(bauhinia_fps::webhooks::Webhooks::new(
        &db,
        Arc::clone(&vault),
    ));
    webhooks
        .start_worker(bauhinia_fps::webhooks::WorkerConfig::with_schedule(
            bauhinia_fps::webhooks::domain::RETRY_SCHEDULE,
        ))
        .context("starting the FPS webhook worker")?;
    let flows = Arc::new(bauhinia_fps::flows::FlowService::new(
        Arc::clone(&fps),
        Arc::clone(&vault),
    ));
    let proxies = Arc::new(bauhinia_fps::proxy::ProxyService::new(
        &db,
        Arc::clone(&vault),
        Arc::clone(&fps),
    ));
    let exchange = Arc::new(
        bauhinia_exchange::Exchange::start(&db, Arc::clone(&vault), public_url.as_str())
            .await
            .context("starting the consented data exchange")?,
    );
    let banks = bauhinia_bank::Banks::start(
        &db,
        Arc::clone(&vault),
        Arc::clone(&fps),
        Arc::clone(&proxies),
        Arc::clone(&flows),
    )
    .await
    .context("starting the hosted banks and their ledger")?;
    let demo = load_demo(&db, &identity, &fps, &banks, config).await?;
    let corpid = Arc::new(bauhinia_corpid::CorpIdService::new(&db));
    // Corporate login (the `corpid` scope) asks the business directory who represents what.
    provider
        .set_corporate_directory(Arc::clone(&corpid) as Arc<dyn CorporateDirectory>)
        .map_err(|_| anyhow::anyhow!("the OpenID Provider was given a business directory twice"))?;
    // The exchange's Companies Registry serves company particulars from the same directory.
    exchange
        .set_corporate_directory(Arc::clone(&corpid) as Arc<dyn CorporateDirectory>)
        .map_err(|_| anyhow::anyhow!("the exchange was given a business directory twice"))?;
    let company_signing = Arc::new(bauhinia_corpid::signing::CompanySigning::new(
        &db,
        (*corpid).clone(),
        Arc::clone(&signing),
        Arc::clone(&vault),
    ));
    if demo && db.meta("demo_corpid").await?.is_none() {
        let now_s = bauhinia_core::background::now_ms() / 1_000;
        let registered = bauhinia_corpid::demo::load(&corpid, &identity, now_s)
            .await
            .context("loading the CorpID demo businesses")?;
        tracing::info!(registered, "demo CorpID businesses registered");
        db.set_meta("demo_corpid", "loaded").await?;
    }
    if demo && db.meta("demo_exchange").await?.is_none() {
        let registered = exchange
            .load_demo(&vault)
            .await
            .context("loading the exchange's demo participants")?;
        tracing::info!(registered, "demo data exchange participants registered");
        db.set_meta("demo_exchange", "loaded").await?;
    }
    let limits = bauhinia_opendata::publish::WriteLimits {
        json_body_max_bytes: config.opendata_json_max_bytes,
        upload_max_bytes: config.opendata_upload_max_bytes,
    };
    let opendata = start_opendata(
        &db,
        &public_url,
        &config.data_dir.join("opendata"),
        demo.then_some(&funding),
        limits,
    )
    .await?;
    let recovered = banks
        .recover()
        .await
        .context("finishing the payments a stop interrupted")?;
    if recovered > 0 {
        tracing::info!(recovered, "finished payments a stop had interrupted");
    }
    let exchange_portal = bauhinia_web::exchange::ExchangePortalState::start(
        &db,
        Arc::clone(&vault),
        Arc::clone(&provider),
        Arc::clone(&exchange),
        &public_url,
    )
    .await
    .context("registering the portal with the OpenID Provider")?;
    let metrics = Arc::new(Metrics::new(funding.catalogue().len()));
    Ok(AppState {
        db,
        funding: Arc::new(funding),
        identity,
        provider,
        admin_token,
        sessions,
        passkeys,
        public_url,
        signing,
        metrics,
        demo,
        fps,
        proxies,
        banks,
        webhooks,
        flows,
        exchange,
        exchange_portal,
        opendata,
        corpid,
        company_signing,
    })
}

/// The open data catalogue, with DATA.GOV.HK's categories on every installation and, on a
/// demo installation (`demo` gives the Funding Easy service whose catalogue becomes a table),
/// the demo providers and fact-sheet datasets with their tables. The meta flag records which
/// demo was loaded, so an installation with an older one gets the datasets added since. The
/// synthetic spatial layers come later, in the background: `load_demo_spatial`.
async fn start_opendata(
    db: &Database,
    public_url: &url::Url,
    dir: &std::path::Path,
    demo: Option<&FundingService>,
    limits: bauhinia_opendata::publish::WriteLimits,
) -> anyhow::Result<Arc<bauhinia_opendata::OpenData>> {
    const DEMO_OPENDATA: &str = "tables-2";
    let now_s = bauhinia_core::background::now_ms() / 1_000;
    let opendata = bauhinia_opendata::OpenData::start(db, public_url.as_str(), dir, now_s)
        .await
        .context("starting the open data catalogue")?
        .with_limits(limits);
    if let Some(funding) = demo {
        if db.meta("demo_opendata").await?.as_deref() != Some(DEMO_OPENDATA) {
            let schemes = bauhinia_funding::export::to_csv(&funding.catalogue())
                .context("writing the Funding Easy catalogue as CSV")?;
            let added = bauhinia_opendata::demo::load_with(&opendata, now_s, Some(&schemes))
                .await
                .context("loading the open data demo catalogue")?;
            tracing::info!(added, "demo open data datasets loaded");
            db.set_meta("demo_opendata", DEMO_OPENDATA).await?;
        }
    }
    Ok(Arc::new(opendata))
}

/// The configured database, created (embedded) and migrated: all that a command which only
/// reads or writes records needs, and safe beside a running server.
pub async fn open_database(config: &Config) -> anyhow::Result<Database> {
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
    Ok(db)
}

/// The demo's synthetic spatial layers (42,000 Wi-Fi.HK hotspots, 950 smart lampposts) as
/// datasets with their OGC collections, once per installation. `serve` runs this in the
/// background after it is ready: generating, converting and indexing 42,950 features takes a
/// second or two of CPU, which a fresh installation should not wait for. Until it finishes,
/// `/ogc/collections` simply lists fewer collections. Idempotent, and resumed by the next
/// start if a stop interrupted it; returns how many collections it published.
pub async fn load_demo_spatial(state: &AppState) -> anyhow::Result<usize> {
    if !state.demo || state.db.meta("demo_opendata_spatial").await?.is_some() {
        return Ok(0);
    }
    let started = std::time::Instant::now();
    let now_s = bauhinia_core::background::now_ms() / 1_000;
    let published = bauhinia_opendata::spatial::synthetic::load(&state.opendata, now_s)
        .await
        .context("loading the open data demo's synthetic spatial layers")?;
    tracing::info!(
        published,
        elapsed_ms = started.elapsed().as_millis(),
        "demo spatial collections published"
    );
    state.db.set_meta("demo_opendata_spatial", "loaded").await?;
    Ok(published)
}

/// The administrator token: given inline, or read from its file, which is created on first
/// start (its path is logged, never its content).
fn admin_token(config: &Config) -> anyhow::Result<AdminToken> {
    if let Some(secret) = &config.admin_token {
        return AdminToken::from_secret(&secret.0)
            .map_err(|e| anyhow::anyhow!("BAUHINIA_ADMIN_TOKEN: {e}"));
    }
    let path = &config.admin_token_file;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    let (token, created) = AdminToken::load_or_create(path)?;
    if created {
        tracing::info!(path = %path.display(), "created the administrator token (readable by this user only)");
    }
    Ok(token)
}

/// The master key: given inline, or read from its file, which is created on first start.
fn master_key(config: &Config) -> anyhow::Result<MasterKey> {
    if let Some(key) = &config.master_key {
        return Ok(key.clone());
    }
    let path = &config.master_key_file;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    let (key, created) = MasterKey::load_or_create(path)?;
    if created {
        tracing::warn!(path = %path.display(), "generated a new master key: back it up, for without it sealed data cannot be read");
    }
    Ok(key)
}

/// Demo data is loaded once, into an embedded database, unless `--no-demo`; a PostgreSQL
/// deployment is an operator's and never gets demo data. Returns whether demo data is present.
async fn load_demo(
    db: &Database,
    identity: &IdentityService,
    fps: &bauhinia_fps::switch::Switch,
    banks: &bauhinia_bank::Banks,
    config: &Config,
) -> anyhow::Result<bool> {
    if let Some(state) = db.meta("demo").await? {
        let loaded = state == "loaded";
        if loaded && db.meta("demo_banks").await?.is_none() {
            // An installation from before the hosted banks: add their demo data once.
            load_demo_banks(db, identity, fps, banks).await?;
        }
        return Ok(loaded);
    }
    let load = config.demo && db.backend() == Backend::Sqlite;
    if load {
        let today = time::OffsetDateTime::now_utc().date();
        for draft in bauhinia_identity::demo::residents() {
            // Idempotent: a start that stopped half-way through the demo data resumes here.
            match identity.register(&draft, "system:demo", today).await {
                Ok(_) | Err(bauhinia_identity::IdentityError::AlreadyRegistered) => {}
                Err(e) => return Err(anyhow::Error::new(e).context("registering a demo resident")),
            }
        }
        let funded = bauhinia_fps::demo::load(fps)
            .await
            .context("loading the demo FPS participants")?;
        tracing::info!(
            participants = fps.participants().len(),
            funded,
            "demo FPS participants registered and funded"
        );
        tracing::info!(
            residents = identity.count().await?,
            "demo data loaded: residents, and example applicant profiles on the Funding Easy page"
        );
    }
    if load {
        load_demo_banks(db, identity, fps, banks).await?;
    }
    db.set_meta("demo", if load { "loaded" } else { "none" })
        .await?;
    Ok(load)
}

/// The demo residents become the hosted banks' customers, with funded accounts and their
/// mobile numbers registered as FPS proxies.
async fn load_demo_banks(
    db: &Database,
    identity: &IdentityService,
    fps: &bauhinia_fps::switch::Switch,
    banks: &bauhinia_bank::Banks,
) -> anyhow::Result<()> {
    let mut customers = Vec::new();
    for draft in bauhinia_identity::demo::residents() {
        let hkid = bauhinia_identity::domain::Hkid::parse(&draft.hkid)
            .map_err(|e| anyhow::anyhow!("a demo resident's HKID: {e:?}"))?;
        if let Some(resident) = identity.find_by_hkid(&hkid).await? {
            customers.push(bauhinia_bank::demo::DemoCustomer {
                resident_id: resident.id,
                english_name: resident.english_name,
                mobile: resident.mobile,
            });
        }
    }
    let codes: Vec<_> = fps.participants().into_iter().map(|p| p.code).collect();
    let opened = bauhinia_bank::demo::load(banks, &codes, &customers)
        .await
        .context("loading the demo banks' customers")?;
    tracing::info!(
        banks = codes.len(),
        opened,
        "demo bank accounts opened and funded"
    );
    db.set_meta("demo_banks", "loaded").await?;
    Ok(())
}
