//! `bauhinia opendata …`: the open data catalogue's operator commands. `token create` issues a
//! publisher's API token for the CKAN Action API's writes and prints its secret, once; `token
//! list` and `token revoke` manage them. Each change is audited with the actor `admin:cli`.

use clap::{Args, Subcommand};

use crate::ServerArgs;

#[derive(Debug, Subcommand)]
pub enum OpendataCommand {
    /// Publishers' API tokens (`Authorization: <token>`, as ckanapi sends it).
    #[command(subcommand)]
    Token(TokenCommand),
    /// Rebuild the search index from the database, every dataset in one commit; prints the
    /// count and the time. Not while a server uses the same data directory (the index has one
    /// writer).
    Reindex {
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Add synthetic datasets for benchmarks, labelled synthetic in their titles and
    /// descriptions, spread over the demo providers and the 19 categories; written in large
    /// transactions and indexed in bulk.
    Generate {
        #[command(flatten)]
        server: ServerArgs,
        /// How many datasets to add.
        #[arg(long)]
        count: u64,
        /// Datasets are numbered from this one (names `synthetic-SEED-NUMBER`).
        #[arg(long, default_value_t = 0)]
        first: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Issue a token and print its secret (shown only now; the server keeps its SHA-256).
    Create(CreateArgs),
    /// List the tokens (ids, publishers, rights, last use; never a secret).
    List {
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Revoke a token by its id: from now on it opens nothing.
    Revoke {
        /// The token's id, as `token list` shows it.
        #[arg(long, value_name = "ID")]
        id: String,
        #[command(flatten)]
        server: ServerArgs,
    },
}

#[derive(Debug, Args)]
#[group(id = "rights", required = true, multiple = false, args = ["sysadmin", "organization"])]
pub struct CreateArgs {
    /// The publisher's user name (written into the audit log of every write).
    #[arg(long, value_name = "NAME")]
    user: String,
    /// The publisher may write every organisation's datasets.
    #[arg(long)]
    sysadmin: bool,
    /// An organisation (id or name, e.g. hk-td) whose datasets the publisher edits; repeat for more.
    #[arg(long, value_name = "ID")]
    organization: Vec<String>,
    /// What the token is for [default: the user name].
    #[arg(long, value_name = "TEXT")]
    name: Option<String>,
    /// Days until the token stops working [default: never].
    #[arg(long, value_name = "DAYS")]
    expires_days: Option<u32>,
    #[command(flatten)]
    server: ServerArgs,
}

const ACTOR: &str = "admin:cli";

pub async fn run(command: OpendataCommand) -> anyhow::Result<()> {
    match command {
        OpendataCommand::Token(command) => token(command).await,
        OpendataCommand::Reindex { server } => index(server, None).await,
        OpendataCommand::Generate {
            server,
            count,
            first,
            seed,
        } => index(server, Some((seed, first, count))).await,
    }
}

/// `reindex`, or `generate` with its seed, first number and count; prints what was done and
/// how long it took.
async fn index(server: ServerArgs, generate: Option<(u64, u64, u64)>) -> anyhow::Result<()> {
    use anyhow::Context;
    let config = server.config()?;
    crate::init_logging(config.log_format);
    let state = bauhinia::start(&config).await?;
    let started = std::time::Instant::now();
    let result = match generate {
        None => state
            .opendata
            .reindex()
            .await
            .map(|n| format!("indexed {n} datasets")),
        Some((seed, first, count)) => {
            let now_s = bauhinia_core::background::now_ms() / 1_000;
            bauhinia_opendata::generate::generate(&state.opendata, seed, first, count, now_s)
                .await
                .map(|n| format!("generated {n} synthetic datasets"))
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    state.webhooks.stop_worker().await;
    state.db.close().await;
    println!("{} in {seconds:.2} s", result.context("open data")?);
    Ok(())
}

/// Token commands work on the database alone, so they run beside a running server (which
/// holds the search index).
async fn token(command: TokenCommand) -> anyhow::Result<()> {
    let server = match &command {
        TokenCommand::Create(args) => &args.server,
        TokenCommand::List { server } | TokenCommand::Revoke { server, .. } => server,
    };
    let config = server.config()?;
    crate::init_logging(config.log_format);
    let db = bauhinia::open_database(&config).await?;
    let store = bauhinia_opendata::store::CatalogueStore::new(&db);
    let now_s = bauhinia_core::background::now_ms() / 1_000;
    let outcome = match command {
        TokenCommand::Create(args) => create(&store, args, now_s).await,
        TokenCommand::List { .. } => list(&store).await,
        TokenCommand::Revoke { id, .. } => store
            .revoke_token(&id, ACTOR, now_s)
            .await
            .map(|()| println!("revoked {id}"))
            .map_err(|e| anyhow::anyhow!("revoking {id}: {e}")),
    };
    db.close().await;
    outcome
}

async fn create(
    store: &bauhinia_opendata::store::CatalogueStore,
    args: CreateArgs,
    now_s: i64,
) -> anyhow::Result<()> {
    let asked = bauhinia_opendata::publish::TokenRequest {
        name: args.name.unwrap_or_else(|| args.user.clone()),
        user: args.user,
        sysadmin: args.sysadmin,
        organizations: args.organization,
        expires_s: args
            .expires_days
            .map(|days| now_s + i64::from(days) * 86_400),
    };
    let (secret, record) = bauhinia_opendata::publish::issue_token(store, &asked, ACTOR, now_s)
        .await
        .map_err(|e| match e {
            bauhinia_opendata::OpendataError::Invalid(faults) => anyhow::anyhow!(
                "{}",
                faults
                    .iter()
                    .map(|f| format!("{}: {}", f.pointer, f.detail))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            other => anyhow::anyhow!("{other}"),
        })?;
    eprintln!(
        "Token {} for {} — shown only now; send it as `Authorization: <token>`:",
        record.id, record.publisher
    );
    println!("{secret}");
    Ok(())
}

async fn list(store: &bauhinia_opendata::store::CatalogueStore) -> anyhow::Result<()> {
    let tokens = store.tokens().await?;
    for t in tokens {
        let rights = if t.sysadmin {
            "sysadmin".to_owned()
        } else {
            t.organizations.join(",")
        };
        let status = if t.revoked_s.is_some() {
            "revoked"
        } else {
            "active"
        };
        println!(
            "{}\t{}\t{}\t{}\t{}",
            t.id, t.publisher, rights, status, t.name
        );
    }
    Ok(())
}
