//! `bauhinia`: one binary for Hong Kong's digital public infrastructure.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context;
use bauhinia::config::{Config, Layer, LogFormat};
use bauhinia_core::Lang;
use clap::{Args, Parser, Subcommand, ValueEnum};

mod fps_cli;
mod opendata_cli;

#[derive(Debug, Parser)]
#[command(
    name = "bauhinia",
    version,
    about = "Bauhinia (洋紫荊): Hong Kong's digital public infrastructure in one binary",
    long_about = "Bauhinia runs 智方便 iAM Smart, 轉數快 FPS, the consented data exchange (CDEG, CDI, IADS), \
                  數碼企業身份 CorpID (business identity, corporate login, company signatures), 資助易 Funding \
                  Easy, open data (a CKAN-compatible catalogue, datastore, archive and OGC API – \
                  Features) and the 一網通辦 portal; the Banking Open API is coming.\n\n\
                  Configuration is read from defaults, then bauhinia.toml (or --config), then BAUHINIA_* \
                  environment variables, then flags; unknown keys are errors."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server (embedded SQLite under ./data by default, with demo data).
    Serve(ServerArgs),
    /// Apply database migrations and exit.
    Migrate(ServerArgs),
    /// Funding Easy from the command line.
    #[command(subcommand)]
    Funding(FundingCommand),
    /// 智方便 iAM Smart administration.
    #[command(subcommand)]
    Identity(IdentityCommand),
    /// 转数快 FPS operations.
    #[command(subcommand)]
    Fps(FpsCommand),
    /// Consented data exchange (CDEG, CDI, IADS) operations.
    #[command(subcommand)]
    Exchange(ExchangeCommand),
    /// 開放數據 Open data operations.
    #[command(subcommand)]
    Opendata(opendata_cli::OpendataCommand),
    /// Print the OpenAPI 3.1 document.
    Openapi,
}

#[derive(Debug, Subcommand)]
enum FpsCommand {
    /// The Hong Kong common QR code for FPS (EMVCo merchant-presented mode).
    #[command(subcommand)]
    Qr(fps_cli::QrCommand),
    /// Verify the settlement ledger: replay the transfer log, check every accepted transfer
    /// was admissible, that stored totals match the log, and conservation per currency.
    /// Exits non-zero if anything is wrong. Safe while the server runs.
    Audit {
        #[command(flatten)]
        server: ServerArgs,
    },
}

#[derive(Debug, Subcommand)]
enum ExchangeCommand {
    /// The tamper-evident audit chain of consent events and data accesses.
    #[command(subcommand)]
    Audit(ExchangeAuditCommand),
    /// Write the consumers and consents the exchange's fetch benchmark uses
    /// (scripts/bench-exchange): registers throwaway data consumers with fresh keys (their
    /// private keys are in the output file), loads the sandbox providers when missing (a
    /// throwaway PostgreSQL database), and makes and approves consents through the real
    /// code, several at once, printing the create-and-approve rate.
    BenchFixture {
        #[command(flatten)]
        server: ServerArgs,
        #[arg(long, default_value_t = 8)]
        consumers: usize,
        #[arg(long, default_value_t = 2000)]
        consents: usize,
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum ExchangeAuditCommand {
    /// Recompute the whole audit chain and check every signed checkpoint; report each altered,
    /// deleted, inserted or reordered record with its position. Exits non-zero if anything is
    /// wrong. Safe while the server runs (records appended meanwhile are left for the next run).
    Verify {
        #[command(flatten)]
        server: ServerArgs,
        /// The gateway's published JWK Set to check checkpoint signatures with [default: the
        /// keys stored in the database, which an intruder who rewrote it could have replaced].
        #[arg(long, value_name = "FILE")]
        jwks: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum IdentityCommand {
    /// Issue a one-time enrolment code (8 digits, valid 30 minutes) for a registered resident,
    /// to hand over at a counter or send to their registered mobile. It replaces any earlier code.
    EnrolmentCode {
        /// The resident's HKID, e.g. 'A123456(3)'.
        #[arg(long, value_name = "HKID")]
        hkid: String,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Write authorization codes for the token-endpoint benchmark (tests/bench/oidc): registers a
    /// throwaway FAPI 2.0 service and approves N requests for a demo resident, through the real
    /// provider code. Its private key is in the output file.
    BenchFixture {
        #[command(flatten)]
        server: ServerArgs,
        #[arg(long, default_value_t = 1000)]
        count: usize,
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

#[derive(Debug, Args)]
pub(crate) struct ServerArgs {
    /// Configuration file [default: ./bauhinia.toml if present].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Address to listen on, e.g. 127.0.0.1:8080 or [::]:8080; port 0 picks a free port.
    #[arg(long, value_name = "ADDR:PORT")]
    listen: Option<String>,
    /// Where the embedded database and files live [default: ./data].
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Use this database instead of the embedded one: postgres://user:password@host/db or sqlite://FILE.
    #[arg(long, value_name = "URL")]
    database_url: Option<String>,
    /// Do not load demo data into a new embedded database.
    #[arg(long)]
    no_demo: bool,
    /// The address residents' browsers use, e.g. https://id.example.hk [default: http://localhost:PORT].
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,
}

impl ServerArgs {
    pub(crate) fn config(&self) -> anyhow::Result<Config> {
        let flags = Layer {
            listen: self.listen.clone(),
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone(),
            demo: self.no_demo.then_some(false),
            public_url: self.public_url.clone(),
            ..Layer::default()
        };
        let env: BTreeMap<String, String> = std::env::vars().collect();
        Config::load(self.config.as_deref(), &env, flags)
    }
}

#[derive(Debug, Subcommand)]
enum FundingCommand {
    /// Match an applicant profile (a JSON file, or - for standard input) against every scheme.
    Match {
        #[arg(long, value_name = "FILE")]
        profile: PathBuf,
        /// Language of names and reasons.
        #[arg(long, default_value = "en", value_parser = parse_lang)]
        lang: Lang,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

fn parse_lang(text: &str) -> Result<Lang, String> {
    Lang::from_tag(text).ok_or_else(|| "expected zh-Hant, zh-Hans or en".to_owned())
}

pub(crate) fn init_logging(format: LogFormat) {
    // RUST_LOG overrides the default filter.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=info"));
    // Colour only for a person at a terminal, never in a log file.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Pretty => builder.init(),
    }
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => serve(args.config()?).await,
            Command::Migrate(args) => migrate(args.config()?).await,
            Command::Funding(FundingCommand::Match {
                profile,
                lang,
                format,
            }) => funding_match(&profile, lang, format),
            Command::Identity(IdentityCommand::EnrolmentCode { hkid, server }) => {
                enrolment_code(server.config()?, &hkid).await
            }
            Command::Openapi => openapi().await,
            Command::Opendata(command) => opendata_cli::run(command).await,
            Command::Fps(FpsCommand::Audit { server }) => fps_audit(server.config()?).await,
            Command::Exchange(ExchangeCommand::Audit(ExchangeAuditCommand::Verify {
                server,
                jwks,
            })) => exchange_audit_verify(server.config()?, jwks.as_deref()).await,
            Command::Exchange(ExchangeCommand::BenchFixture {
                server,
                consumers,
                consents,
                out,
            }) => {
                let config = server.config()?;
                init_logging(config.log_format);
                let state = bauhinia::start(&config).await?;
                let made =
                    bauhinia::exchange_bench::write(&state, consumers, consents, &out).await?;
                state.webhooks.stop_worker().await;
                state.db.close().await;
                println!(
                    "consent create-and-approve: {} consents in {:.2} s = {:.0}/s (request, approval with the artefact signed, audit and chain; {} tasks)",
                    made.consents,
                    made.seconds,
                    made.consents as f64 / made.seconds.max(1e-9),
                    bauhinia::exchange_bench::TASKS
                );
                println!("wrote the fixture to {}", out.display());
                Ok(())
            }
            Command::Fps(FpsCommand::Qr(command)) => fps_cli::run(fps_cli::FpsCommand::Qr(command)),
            Command::Identity(IdentityCommand::BenchFixture { server, count, out }) => {
                let config = server.config()?;
                init_logging(config.log_format);
                let state = bauhinia::start(&config).await?;
                bauhinia::bench_fixture::write(&state, count, &out).await?;
                state.webhooks.stop_worker().await;
                state.db.close().await;
                println!("wrote {count} codes to {}", out.display());
                Ok(())
            }
        }
    })
}

async fn serve(mut config: Config) -> anyhow::Result<()> {
    init_logging(config.log_format);
    tracing::info!(?config, "starting");
    // Bound first, so that with port 0 the default public URL names the port actually used.
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    config.listen = listener.local_addr()?;
    let state = bauhinia::start(&config).await?;
    let limits = bauhinia::app::Limits::from_config(&config);
    spawn_rate_limit_cleanup(limits.rate_limit.clone());
    spawn_expiry_purge(std::sync::Arc::clone(&state.provider));
    spawn_request_expiry(std::sync::Arc::clone(&state.flows));
    spawn_exchange_housekeeping(std::sync::Arc::clone(&state.exchange));
    spawn_demo_spatial(state.clone());
    let exchange_webhooks = state
        .exchange
        .start_webhook_worker(bauhinia_exchange::webhooks::WorkerConfig::with_schedule(
            bauhinia_exchange::webhooks::RETRY_SCHEDULE,
        ))
        .context("starting the data exchange's webhook worker")?;
    let app = bauhinia::app::build(state.clone(), limits);
    // The public URL, not the socket: passkeys work only at the origin they were made for, and
    // browsers refuse them on a bare IP address.
    println!("Bauhinia is ready at {}", state.public_url);
    tracing::info!(addr = %config.listen, public_url = %state.public_url, "listening");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    state.webhooks.stop_worker().await;
    exchange_webhooks.stop().await;
    state.db.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Publishes the demo's synthetic spatial layers once the server is up (see
/// `bauhinia::load_demo_spatial`); a failure is logged and retried by the next start.
fn spawn_demo_spatial(state: bauhinia::app::AppState) {
    tokio::spawn(async move {
        if let Err(error) = bauhinia::load_demo_spatial(&state).await {
            tracing::error!(
                error = format!("{error:#}"),
                "the demo's spatial layers were not published"
            );
        }
    });
}

/// Deletes what has expired and no longer matters (seen JWT ids, pushed requests) every ten
/// minutes, so replay records do not grow without bound.
fn spawn_expiry_purge(provider: std::sync::Arc<bauhinia_identity::oidc::Provider>) {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            interval.tick().await;
            match provider.store().purge_expired().await {
                Ok(n) if n > 0 => tracing::debug!(purged = n, "expired replay records purged"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "purging expired replay records failed"),
            }
        }
    });
}

/// Writes the expiry of FPS requests to pay whose time has passed, once a minute, so their
/// participants hear of it (a request reads as expired at once either way).
fn spawn_request_expiry(flows: std::sync::Arc<bauhinia_fps::flows::FlowService>) {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            interval.tick().await;
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            match flows.expire_due(now, 1_000).await {
                Ok(n) if n > 0 => tracing::debug!(expired = n, "FPS requests to pay expired"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "expiring FPS requests to pay failed"),
            }
        }
    });
}

/// Once a minute: expires consents whose time has passed, forgets replay records past their
/// window, and signs the audit chain's head if it moved.
fn spawn_exchange_housekeeping(exchange: std::sync::Arc<bauhinia_exchange::Exchange>) {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            interval.tick().await;
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            match exchange.housekeeping(now).await {
                Ok(done) => tracing::debug!(?done, "data exchange housekeeping"),
                Err(e) => tracing::warn!(error = %e, "data exchange housekeeping failed"),
            }
        }
    });
}

/// Forgets idle clients' buckets once a minute, so the limiter's memory stays bounded.
fn spawn_rate_limit_cleanup(rate_limit: bauhinia::rate_limit::RateLimit) {
    tokio::spawn(async move {
        let period = std::time::Duration::from_secs(bauhinia::rate_limit::CLEANUP_INTERVAL_S);
        let mut interval = tokio::time::interval(period);
        loop {
            interval.tick().await;
            rate_limit.cleanup();
        }
    });
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

/// Prints a fresh enrolment code for the resident with this HKID.
async fn enrolment_code(config: Config, hkid: &str) -> anyhow::Result<()> {
    init_logging(config.log_format);
    let hkid =
        bauhinia_identity::domain::Hkid::parse(hkid).map_err(|e| anyhow::anyhow!("--hkid: {e}"))?;
    let state = bauhinia::start(&config).await?;
    let resident =
        state.identity.find_by_hkid(&hkid).await?.ok_or_else(|| {
            anyhow::anyhow!("no resident is registered with HKID {}", hkid.masked())
        })?;
    let issued = state
        .passkeys
        .issue_enrolment_code(&resident.id, "admin:cli")
        .await?;
    state.webhooks.stop_worker().await;
    state.db.close().await;
    println!(
        "Enrolment code for {} ({}): {}\nUsable once, until {}. Enrol at {}app/enrol",
        resident.english_name,
        resident.hkid_masked,
        issued.code.expose(),
        bauhinia_identity::clock::to_text(issued.expires_at),
        state.public_url
    );
    Ok(())
}

async fn migrate(config: Config) -> anyhow::Result<()> {
    init_logging(config.log_format);
    let url = config.effective_database_url();
    if url.backend() == bauhinia_store::Backend::Sqlite {
        std::fs::create_dir_all(&config.data_dir)?;
    }
    let db = bauhinia_store::Database::connect(&url)
        .await
        .with_context(|| format!("connecting to {url}"))?;
    db.migrate().await?;
    println!("migrations applied to {url}");
    Ok(())
}

fn funding_match(path: &std::path::Path, lang: Lang, format: Format) -> anyhow::Result<()> {
    let bytes = if path.as_os_str() == "-" {
        let mut buffer = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin().take_limited(), &mut buffer)?;
        buffer
    } else {
        std::fs::read(path).with_context(|| format!("reading {}", path.display()))?
    };
    let request: bauhinia_funding::wire::ProfileRequest =
        bauhinia_core::extract::parse_json(&bytes)
            .map_err(|p| anyhow::anyhow!("{}: {}", p.code, p.detail.unwrap_or_default()))?;
    let profile = request
        .into_profile()
        .map_err(|p| anyhow::anyhow!("{}: {}", p.code, p.detail.unwrap_or_default()))?;
    let catalogue = bauhinia_funding::Catalogue::embedded()?;
    let outcome = bauhinia_funding::domain::match_profile(catalogue.schemes(), &profile);
    let response = bauhinia_funding::wire::MatchResponse::from_outcome(&catalogue, &outcome, lang);
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&response)?),
        Format::Text => print_match_text(&response),
    }
    Ok(())
}

fn print_match_text(response: &bauhinia_funding::wire::MatchResponse) {
    println!("Eligible ({}):", response.eligible.len());
    for e in &response.eligible {
        let grant = e.max_grant_hk_cents.map_or_else(
            || "not stated".to_owned(),
            |cents| bauhinia_core::Money::hkd_cents(cents).display_grouped(),
        );
        println!("  {}. {} [{}] — max grant {grant}", e.rank, e.name, e.id);
        for reason in &e.reasons {
            println!("       · {reason}");
        }
    }
    println!("Not eligible ({}):", response.ineligible.len());
    for i in &response.ineligible {
        println!("  - {} [{}]: {}", i.name, i.id, i.reasons.join(" "));
    }
}

/// Standard input, read at most this far (a profile is a few hundred bytes).
const STDIN_PROFILE_BYTES_MAX: u64 = 64 * 1024;

trait TakeLimited {
    fn take_limited(self) -> std::io::Take<Self>
    where
        Self: Sized;
}

impl<R: std::io::Read> TakeLimited for R {
    fn take_limited(self) -> std::io::Take<Self> {
        self.take(STDIN_PROFILE_BYTES_MAX)
    }
}

async fn openapi() -> anyhow::Result<()> {
    // The document is built from the routers, which need a (throwaway, in-memory) state.
    let dir = std::env::temp_dir().join(format!("bauhinia-openapi-{}", std::process::id()));
    let config = Config::load(
        None,
        &BTreeMap::new(),
        Layer {
            data_dir: Some(dir.clone()),
            demo: Some(false),
            ..Layer::default()
        },
    )?;
    let state = bauhinia::start(&config).await?;
    let doc = bauhinia::app::openapi_document(&state);
    state.webhooks.stop_worker().await;
    state.db.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    println!("{}", serde_json::to_string_pretty(&doc)?);
    Ok(())
}

async fn fps_audit(config: Config) -> anyhow::Result<()> {
    let url = config.effective_database_url();
    let db = bauhinia_store::Database::connect(&url)
        .await
        .with_context(|| format!("connecting to {url}"))?;
    db.migrate().await.context("applying migrations")?;
    let started = std::time::Instant::now();
    let report = bauhinia_fps::audit::audit(&db, bauhinia_fps::switch::FPS_LEDGER).await?;
    db.close().await;
    println!(
        "FPS ledger audit: {} accounts, {} accepted transfers, {} refused, {} expiries, {} pending still open ({:.2} s)",
        report.accounts,
        report.accepted,
        report.refused,
        report.expiries,
        report.open_pending,
        started.elapsed().as_secs_f64()
    );
    for (currency, posted, pending) in &report.sums {
        println!(
            "  {}: posted balances sum to {posted}, pending to {pending}",
            currency.code()
        );
    }
    if report.passed() {
        println!(
            "audit passed: the log replays to the stored totals and every currency sums to zero"
        );
        Ok(())
    } else {
        for p in &report.problems {
            println!("  problem: {p}");
        }
        anyhow::bail!("audit FAILED: {} problems", report.problem_count)
    }
}

async fn exchange_audit_verify(
    config: Config,
    jwks: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    use bauhinia_exchange::chain;
    let url = config.effective_database_url();
    let db = bauhinia_store::Database::connect(&url)
        .await
        .with_context(|| format!("connecting to {url}"))?;
    db.migrate().await.context("applying migrations")?;
    let keys = match jwks {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            chain::keys_from_jwks(&text).with_context(|| format!("reading {}", path.display()))?
        }
        None => {
            println!(
                "checkpoint keys: read from the database itself (pass --jwks with the gateway's \
                 published keys to rule out re-signed checkpoints)"
            );
            chain::stored_keys(&db).await?
        }
    };
    let started = std::time::Instant::now();
    let report = chain::verify(&db, |kid| keys.get(kid).cloned()).await?;
    db.close().await;
    println!(
        "{} ({:.2} s)",
        report.summary(),
        started.elapsed().as_secs_f64()
    );
    if report.intact() {
        return Ok(());
    }
    for problem in &report.problems {
        println!("  {problem}");
    }
    let unlisted = report
        .problem_count
        .saturating_sub(report.problems.len() as u64);
    if unlisted > 0 {
        println!("  … and {unlisted} more problems");
    }
    anyhow::bail!("audit chain BROKEN: {} problems", report.problem_count)
}
