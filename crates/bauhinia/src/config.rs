//! The one configuration of Bauhinia: defaults → `bauhinia.toml` → `BAUHINIA_*` environment →
//! command-line flags, each layer overriding the one before. An unknown key in the file or an
//! unknown `BAUHINIA_*` variable is an error, so a typo never silently does nothing. The
//! database URL is redacted wherever the configuration is printed.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use bauhinia_core::crypto::MasterKey;
use bauhinia_store::DatabaseUrl;

use serde::Deserialize;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DATA_DIR: &str = "data";
pub const DEFAULT_CONFIG_FILE: &str = "bauhinia.toml";
/// The largest request body any endpoint accepts.
pub const DEFAULT_BODY_LIMIT_BYTES: usize = 64 * 1024;
/// Requests per second one client address may make (twice that as a burst).
/// The largest open data upload an operator may allow (1 TiB).
const OPENDATA_UPLOAD_MAX_BYTES_CEILING: u64 = 1 << 40;
/// The largest JSON body an operator may allow the open data Action API (1 GiB).
const OPENDATA_JSON_MAX_BYTES_CEILING: u64 = 1 << 30;
pub const DEFAULT_RATE_LIMIT_PER_SECOND: u32 = 50;
/// The host of the default public URL: WebAuthn refuses IP addresses as relying-party ids, and
/// browsers treat `localhost` (alone among plain-HTTP hosts) as a secure context.
pub const DEFAULT_PUBLIC_HOST: &str = "localhost";
/// Variables with this prefix belong to the test tooling, not to the server.
const TEST_ENV_PREFIX: &str = "BAUHINIA_TEST_";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

/// The effective configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// `None`: the embedded SQLite file under `data_dir`.
    pub database_url: Option<DatabaseUrl>,
    pub demo: bool,
    pub log_format: LogFormat,
    pub body_limit_bytes: usize,
    /// The largest file a publisher may upload to the open data catalogue.
    pub opendata_upload_max_bytes: u64,
    /// The largest JSON body of an open data Action API request (a dataset with its resources).
    pub opendata_json_max_bytes: u64,
    /// 0 turns rate limiting off (e.g. behind a proxy that limits already).
    pub rate_limit_per_second: u32,
    /// The master key given inline (`BAUHINIA_MASTER_KEY`, base64); redacted in `Debug`.
    pub master_key: Option<MasterKey>,
    /// Where the master key is kept when not given inline; created on first start.
    pub master_key_file: PathBuf,
    /// The address residents' browsers use (the WebAuthn origin; its host is the relying-party
    /// id) and the OpenID issuer. `None`: `http://localhost:<listening port>` (see
    /// [`Config::public_url`]).
    pub public_url: Option<url::Url>,
    /// The administrator token given inline (`BAUHINIA_ADMIN_TOKEN`); redacted in `Debug`.
    pub admin_token: Option<AdminSecret>,
    /// Where the administrator token is kept when not given inline; created on first start.
    pub admin_token_file: PathBuf,
}

/// A secret from the environment, never printed.
#[derive(Clone)]
pub struct AdminSecret(pub String);

impl std::fmt::Debug for AdminSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// One layer: every key optional; unknown keys rejected.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layer {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub demo: Option<bool>,
    pub log_format: Option<LogFormat>,
    pub body_limit_bytes: Option<usize>,
    pub opendata_upload_max_bytes: Option<u64>,
    pub opendata_json_max_bytes: Option<u64>,
    pub rate_limit_per_second: Option<u32>,
    pub master_key_file: Option<PathBuf>,
    pub public_url: Option<String>,
    pub admin_token_file: Option<PathBuf>,
    /// Environment only: a secret does not belong in a configuration file.
    #[serde(skip)]
    pub master_key: Option<String>,
    /// Environment only, like the master key.
    #[serde(skip)]
    pub admin_token: Option<String>,
}

impl Layer {
    fn over(self, base: Layer) -> Layer {
        Layer {
            listen: self.listen.or(base.listen),
            data_dir: self.data_dir.or(base.data_dir),
            database_url: self.database_url.or(base.database_url),
            demo: self.demo.or(base.demo),
            log_format: self.log_format.or(base.log_format),
            body_limit_bytes: self.body_limit_bytes.or(base.body_limit_bytes),
            opendata_upload_max_bytes: self
                .opendata_upload_max_bytes
                .or(base.opendata_upload_max_bytes),
            opendata_json_max_bytes: self
                .opendata_json_max_bytes
                .or(base.opendata_json_max_bytes),
            rate_limit_per_second: self.rate_limit_per_second.or(base.rate_limit_per_second),
            master_key_file: self.master_key_file.or(base.master_key_file),
            master_key: self.master_key.or(base.master_key),
            public_url: self.public_url.or(base.public_url),
            admin_token_file: self.admin_token_file.or(base.admin_token_file),
            admin_token: self.admin_token.or(base.admin_token),
        }
    }

    /// Reads `BAUHINIA_*` variables from `vars`.
    pub fn from_env(vars: &BTreeMap<String, String>) -> anyhow::Result<Layer> {
        let mut layer = Layer::default();
        for (key, value) in vars {
            let Some(name) = key.strip_prefix("BAUHINIA_") else {
                continue;
            };
            if key.starts_with(TEST_ENV_PREFIX) {
                continue;
            }
            match name {
                "LISTEN" => layer.listen = Some(value.clone()),
                "DATA_DIR" => layer.data_dir = Some(PathBuf::from(value)),
                "DATABASE_URL" => layer.database_url = Some(value.clone()),
                "DEMO" => layer.demo = Some(parse_bool(key, value)?),
                "LOG_FORMAT" => {
                    layer.log_format = Some(match value.as_str() {
                        "pretty" => LogFormat::Pretty,
                        "json" => LogFormat::Json,
                        _ => bail!("{key} must be \"pretty\" or \"json\""),
                    })
                }
                "MASTER_KEY" => layer.master_key = Some(value.clone()),
                "MASTER_KEY_FILE" => layer.master_key_file = Some(PathBuf::from(value)),
                "PUBLIC_URL" => layer.public_url = Some(value.clone()),
                "ADMIN_TOKEN" => layer.admin_token = Some(value.clone()),
                "ADMIN_TOKEN_FILE" => layer.admin_token_file = Some(PathBuf::from(value)),
                "RATE_LIMIT_PER_SECOND" => {
                    layer.rate_limit_per_second =
                        Some(value.parse().with_context(|| format!("{key} must be a whole number"))?)
                }
                "BODY_LIMIT_BYTES" => {
                    layer.body_limit_bytes = Some(value.parse().with_context(|| format!("{key} must be a whole number"))?)
                }
                "OPENDATA_JSON_MAX_BYTES" => {
                    layer.opendata_json_max_bytes = Some(value.parse().with_context(|| format!("{key} must be a whole number"))?)
                }
                "OPENDATA_UPLOAD_MAX_BYTES" => {
                    layer.opendata_upload_max_bytes = Some(value.parse().with_context(|| format!("{key} must be a whole number"))?)
                }
                _ => bail!(
                    "unknown environment variable {key}; known: BAUHINIA_LISTEN, BAUHINIA_DATA_DIR, BAUHINIA_DATABASE_URL, \
                     BAUHINIA_DEMO, BAUHINIA_LOG_FORMAT, BAUHINIA_BODY_LIMIT_BYTES, BAUHINIA_RATE_LIMIT_PER_SECOND, \
                     BAUHINIA_MASTER_KEY, BAUHINIA_MASTER_KEY_FILE, BAUHINIA_PUBLIC_URL, BAUHINIA_ADMIN_TOKEN, \
                     BAUHINIA_ADMIN_TOKEN_FILE, BAUHINIA_OPENDATA_UPLOAD_MAX_BYTES, \
                     BAUHINIA_OPENDATA_JSON_MAX_BYTES"
                ),
            }
        }
        Ok(layer)
    }

    pub fn from_file(path: &Path) -> anyhow::Result<Layer> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("in {}", path.display()))
    }
}

/// A public URL is an origin WebAuthn accepts: `https://` with a domain name, or
/// `http://localhost` (any port) for a developer's machine; no path, query, fragment or user.
fn parse_public_url(text: &str) -> anyhow::Result<url::Url> {
    let url = url::Url::parse(text)
        .with_context(|| format!("public_url {text:?} is not a URL, e.g. https://id.example.hk"))?;
    let Some(url::Host::Domain(host)) = url.host() else {
        bail!("public_url {text:?} must name a host by domain name: WebAuthn refuses IP addresses (use http://localhost:PORT on your own machine)");
    };
    let local = host == "localhost" || host.ends_with(".localhost");
    match url.scheme() {
        "https" => {}
        "http" if local => {}
        _ => bail!("public_url {text:?} must be https:// (browsers allow passkeys over plain http only on localhost)"),
    }
    if url.path() != "/"
        || url.query().is_some()
        || url.fragment().is_some()
        || !url.username().is_empty()
        || url.password().is_some()
    {
        bail!("public_url {text:?} must be an origin only: scheme, host and optional port, without a path, query or user");
    }
    Ok(url)
}

fn parse_bool(key: &str, value: &str) -> anyhow::Result<bool> {
    match value {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => bail!("{key} must be true or false"),
    }
}

impl Config {
    /// Layers: defaults ← file ← environment ← flags. `file` is the path given with
    /// `--config`, else `bauhinia.toml` in the working directory if it exists.
    pub fn load(
        file: Option<&Path>,
        env: &BTreeMap<String, String>,
        flags: Layer,
    ) -> anyhow::Result<Config> {
        let file_layer = match file {
            Some(path) => Layer::from_file(path)?,
            None if Path::new(DEFAULT_CONFIG_FILE).exists() => {
                Layer::from_file(Path::new(DEFAULT_CONFIG_FILE))?
            }
            None => Layer::default(),
        };
        let merged = flags.over(Layer::from_env(env)?.over(file_layer));
        Config::from_layer(merged)
    }

    fn from_layer(layer: Layer) -> anyhow::Result<Config> {
        let listen_text = layer.listen.unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
        let listen = listen_text
            .parse()
            .with_context(|| format!("listen address {listen_text:?} must be ADDR:PORT, e.g. 127.0.0.1:8080 or [::1]:8080"))?;
        let database_url = layer
            .database_url
            .map(|url| DatabaseUrl::parse(&url))
            .transpose()
            .context("database_url must start with sqlite: or postgres://")?;
        let body_limit_bytes = layer.body_limit_bytes.unwrap_or(DEFAULT_BODY_LIMIT_BYTES);
        if !(1024..=16 * 1024 * 1024).contains(&body_limit_bytes) {
            bail!("body_limit_bytes must be between 1024 and 16777216");
        }
        let opendata_upload_max_bytes = layer
            .opendata_upload_max_bytes
            .unwrap_or(bauhinia_opendata::publish::UPLOAD_MAX_BYTES);
        if !(1024..=OPENDATA_UPLOAD_MAX_BYTES_CEILING).contains(&opendata_upload_max_bytes) {
            bail!("opendata_upload_max_bytes must be between 1024 and {OPENDATA_UPLOAD_MAX_BYTES_CEILING}");
        }
        let opendata_json_max_bytes = layer
            .opendata_json_max_bytes
            .unwrap_or(bauhinia_opendata::publish::JSON_BODY_MAX_BYTES);
        if !(1024..=OPENDATA_JSON_MAX_BYTES_CEILING).contains(&opendata_json_max_bytes) {
            bail!("opendata_json_max_bytes must be between 1024 and {OPENDATA_JSON_MAX_BYTES_CEILING}");
        }
        let master_key = layer
            .master_key
            .as_deref()
            .map(MasterKey::from_base64)
            .transpose()
            .context("BAUHINIA_MASTER_KEY must be 32 bytes, base64-encoded")?;
        let public_url = layer
            .public_url
            .as_deref()
            .map(parse_public_url)
            .transpose()?;
        let data_dir = layer
            .data_dir
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        if let Some(token) = &layer.admin_token {
            bauhinia_core::admin::AdminToken::from_secret(token)
                .map_err(|e| anyhow::anyhow!("BAUHINIA_ADMIN_TOKEN: {e}"))?;
        }
        Ok(Config {
            admin_token: layer.admin_token.map(AdminSecret),
            admin_token_file: layer
                .admin_token_file
                .unwrap_or_else(|| data_dir.join("admin.token")),
            listen,
            master_key,
            master_key_file: layer
                .master_key_file
                .unwrap_or_else(|| data_dir.join("master.key")),
            data_dir,
            database_url,
            public_url,
            demo: layer.demo.unwrap_or(true),
            log_format: layer.log_format.unwrap_or(LogFormat::Pretty),
            body_limit_bytes,
            opendata_upload_max_bytes,
            opendata_json_max_bytes,
            rate_limit_per_second: layer
                .rate_limit_per_second
                .unwrap_or(DEFAULT_RATE_LIMIT_PER_SECOND),
        })
    }

    /// The public URL: the configured one, or `http://localhost:<port>` for the port the server
    /// listens on (pass the bound port when `listen` asked for port 0).
    pub fn public_url(&self, port: u16) -> anyhow::Result<url::Url> {
        match &self.public_url {
            Some(url) => Ok(url.clone()),
            None => parse_public_url(&format!("http://{DEFAULT_PUBLIC_HOST}:{port}")),
        }
    }

    /// The database to use: the configured URL, or the embedded SQLite file.
    pub fn effective_database_url(&self) -> DatabaseUrl {
        self.database_url
            .clone()
            .unwrap_or_else(|| DatabaseUrl::sqlite_file(&self.data_dir.join("bauhinia.db")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn layers_override_in_order() -> anyhow::Result<()> {
        let dir = std::env::temp_dir().join(format!("bauhinia-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let file = dir.join("bauhinia.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:9000\"\ndata_dir = \"/srv/from-file\"\ndemo = false\n",
        )?;
        let config = Config::load(
            Some(&file),
            &env(&[("BAUHINIA_DATA_DIR", "/srv/from-env"), ("PATH", "/bin")]),
            Layer::default(),
        )?;
        assert_eq!(config.listen.port(), 9000);
        assert_eq!(config.data_dir, PathBuf::from("/srv/from-env"));
        assert!(!config.demo);
        let flags = Layer {
            listen: Some("127.0.0.1:7000".into()),
            ..Layer::default()
        };
        let config = Config::load(Some(&file), &env(&[]), flags)?;
        assert_eq!(config.listen.port(), 7000);
        std::fs::remove_dir_all(&dir)?;
        Ok(())
    }

    #[test]
    fn unknown_keys_are_errors() -> anyhow::Result<()> {
        let dir = std::env::temp_dir().join(format!("bauhinia-config-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let file = dir.join("bauhinia.toml");
        std::fs::write(&file, "listen = \"127.0.0.1:9000\"\nlisten_port = 1\n")?;
        let error =
            Config::load(Some(&file), &env(&[]), Layer::default()).expect_err("unknown key");
        assert!(format!("{error:#}").contains("listen_port"), "{error:#}");
        let error = Config::load(None, &env(&[("BAUHINIA_LISTN", "x")]), Layer::default())
            .expect_err("unknown var");
        assert!(format!("{error:#}").contains("BAUHINIA_LISTN"), "{error:#}");
        assert!(Config::load(None, &env(&[("BAUHINIA_TEST_URL", "x")]), Layer::default()).is_ok());
        std::fs::remove_dir_all(&dir)?;
        Ok(())
    }

    #[test]
    fn secrets_are_redacted() -> anyhow::Result<()> {
        let config = Config::load(
            None,
            &env(&[("BAUHINIA_DATABASE_URL", "postgres://u:hunter2@db/x")]),
            Layer::default(),
        )?;
        let shown = format!("{config:?}");
        assert!(
            !shown.contains("hunter2") && shown.contains("***"),
            "{shown}"
        );
        Ok(())
    }

    #[test]
    fn public_url_defaults_to_localhost_and_must_suit_webauthn() -> anyhow::Result<()> {
        let config = Config::load(None, &env(&[]), Layer::default())?;
        assert_eq!(
            config.public_url(41234)?.as_str(),
            "http://localhost:41234/"
        );
        for ok in [
            "https://id.example.hk",
            "https://id.example.hk:8443/",
            "http://localhost:9000",
            "http://app.localhost",
        ] {
            let config =
                Config::load(None, &env(&[("BAUHINIA_PUBLIC_URL", ok)]), Layer::default())?;
            assert_eq!(
                config.public_url(1)?.as_str().trim_end_matches('/'),
                ok.trim_end_matches('/')
            );
        }
        for (bad, why) in [
            ("http://id.example.hk", "https"),
            ("http://127.0.0.1:8080", "IP addresses"),
            ("https://[::1]", "IP addresses"),
            ("https://id.example.hk/app", "origin only"),
            ("https://id.example.hk/?x=1", "origin only"),
            ("https://user@id.example.hk", "origin only"),
            ("ftp://id.example.hk", "https"),
            ("id.example.hk", "not a URL"),
        ] {
            let flags = Layer {
                public_url: Some(bad.into()),
                ..Layer::default()
            };
            let error = Config::load(None, &env(&[]), flags).expect_err(bad);
            assert!(format!("{error:#}").contains(why), "{bad}: {error:#}");
        }
        Ok(())
    }
}
