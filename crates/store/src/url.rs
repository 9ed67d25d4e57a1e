//! A database URL that never prints its password.

use std::fmt;

use crate::{Backend, StoreError};

/// A validated database URL. `Debug` and `Display` redact any password, so the value can be
/// logged and put in configuration dumps safely; [`DatabaseUrl::expose`] gives the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    raw: String,
    backend: Backend,
}

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Result<Self, StoreError> {
        let backend = if raw.starts_with("sqlite:") {
            Backend::Sqlite
        } else if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl(redact(raw)));
        };
        Ok(Self {
            raw: raw.to_owned(),
            backend,
        })
    }

    /// The embedded default: a SQLite file in `data_dir`.
    pub fn sqlite_file(path: &std::path::Path) -> Self {
        Self {
            raw: format!("sqlite://{}", path.display()),
            backend: Backend::Sqlite,
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The URL with its password, for the driver only.
    pub fn expose(&self) -> &str {
        &self.raw
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({})", redact(&self.raw))
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact(&self.raw))
    }
}

/// Replaces the password of `scheme://user:password@host` (and any `password=` query value).
fn redact(raw: &str) -> String {
    let mut out = raw.to_owned();
    if let Some(scheme_end) = out.find("://") {
        let authority_start = scheme_end + 3;
        let authority_end = out
            .get(authority_start..)
            .and_then(|rest| rest.find('/').map(|i| i + authority_start))
            .unwrap_or(out.len());
        if let Some(at) = out
            .get(authority_start..authority_end)
            .and_then(|a| a.rfind('@'))
        {
            let userinfo_end = authority_start + at;
            if let Some(colon) = out
                .get(authority_start..userinfo_end)
                .and_then(|u| u.find(':'))
            {
                out.replace_range(authority_start + colon + 1..userinfo_end, "***");
            }
        }
    }
    if let Some(i) = out.find("password=") {
        let value_start = i + "password=".len();
        let value_end = out
            .get(value_start..)
            .and_then(|r| r.find('&'))
            .map_or(out.len(), |j| j + value_start);
        out.replace_range(value_start..value_end, "***");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        let cases = [
            (
                "postgres://app:s3cret@db:5432/bauhinia",
                "postgres://app:***@db:5432/bauhinia",
            ),
            (
                "postgresql://app@db/bauhinia",
                "postgresql://app@db/bauhinia",
            ),
            (
                "postgres://db/x?user=a&password=p4ss&sslmode=require",
                "postgres://db/x?user=a&password=***&sslmode=require",
            ),
            ("sqlite://data/bauhinia.db", "sqlite://data/bauhinia.db"),
        ];
        for (raw, shown) in cases {
            let url = DatabaseUrl::parse(raw).expect("valid");
            assert_eq!(url.to_string(), shown);
            assert!(!format!("{url:?}").contains("s3cret") && !format!("{url:?}").contains("p4ss"));
            assert_eq!(url.expose(), raw);
        }
        assert!(DatabaseUrl::parse("mysql://root:pw@x/y").is_err());
    }
}
