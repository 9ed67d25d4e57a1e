//! Publishers' API tokens: who may write to the catalogue. A token is 32 random bytes
//! (base64url, after the prefix `bod_`), shown once when it is issued and stored only as its
//! SHA-256. A request presents it as CKAN's clients do: the raw token in `Authorization`
//! (`ckanapi`, CKAN's own JavaScript), `Authorization: Bearer …`, or `X-CKAN-API-Key`.
//!
//! Looking a token up by its hash leaks nothing through timing: the hash of a 256-bit secret
//! tells nothing about the secret. The stored hash is still compared in constant time once
//! found. Guessing is also slowed by the server's per-address rate limit, which covers the
//! Action API. This module never logs a token.

use axum::http::HeaderMap;
use sha2::{Digest, Sha256};

/// What a token proves: a publisher, and the organisations whose datasets it may write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publisher {
    /// The token's id (never its secret).
    pub token_id: String,
    /// The publisher's user name, written into the audit log of every write.
    pub user: String,
    /// May write every organisation's datasets.
    pub sysadmin: bool,
    /// Organisation ids the publisher edits.
    pub organizations: Vec<String>,
}

impl Publisher {
    /// Whether the publisher may write the datasets of this organisation (by id).
    pub fn may_edit(&self, organization_id: &str) -> bool {
        self.sysadmin || self.organizations.iter().any(|o| o == organization_id)
    }
}

/// A token as stored (no secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub id: String,
    pub name: String,
    pub publisher: String,
    pub sysadmin: bool,
    pub organizations: Vec<String>,
    pub created_s: i64,
    pub last_used_s: Option<i64>,
    pub expires_s: Option<i64>,
    pub revoked_s: Option<i64>,
}

impl TokenRecord {
    /// Whether the token still opens the door at `now_s`.
    pub fn is_live(&self, now_s: i64) -> bool {
        self.revoked_s.is_none() && self.expires_s.is_none_or(|e| now_s < e)
    }

    pub fn publisher(&self) -> Publisher {
        Publisher {
            token_id: self.id.clone(),
            user: self.publisher.clone(),
            sysadmin: self.sysadmin,
            organizations: self.organizations.clone(),
        }
    }
}

/// Every token starts with this, so secret scanners can recognise a leaked one.
pub const TOKEN_PREFIX: &str = "bod_";
/// A presented token longer than this is not looked up.
pub const TOKEN_LENGTH_MAX: usize = 200;
/// A publisher's or token's name: at most this many characters.
pub const TOKEN_NAME_LENGTH_MAX: usize = 200;

/// A fresh secret: the prefix and 32 random bytes in base64url.
pub fn new_secret() -> String {
    use base64::Engine as _;
    let mut bytes = [0u8; 32];
    bauhinia_core::crypto::random_bytes(&mut bytes);
    format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// The stored form of a secret: its SHA-256 in lower-case hex.
pub fn secret_hash(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

/// Equality of two texts in time that depends only on their lengths.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The token a request presents, if any: `Authorization` (raw, or after `Bearer `), else
/// `X-CKAN-API-Key`. Blank or over-long values are none.
pub fn presented(headers: &HeaderMap) -> Option<String> {
    let from = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let value = from("authorization").or_else(|| from("x-ckan-api-key"))?;
    let token = match value.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
        _ => value,
    };
    (!token.is_empty() && token.len() <= TOKEN_LENGTH_MAX).then(|| token.to_owned())
}

/// A publisher's or token's name: 1–200 characters, no control characters.
pub fn parse_name(text: &str) -> Result<String, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() || trimmed.chars().count() > TOKEN_NAME_LENGTH_MAX {
        return Err(format!(
            "Must be 1 to {TOKEN_NAME_LENGTH_MAX} characters long"
        ));
    }
    if trimmed.chars().any(char::is_control) {
        return Err("Must not contain control characters".into());
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        map
    }

    #[test]
    fn presented_tokens() {
        type Case<'a> = (&'a [(&'static str, &'a str)], Option<&'a str>);
        let cases: [Case<'_>; 7] = [
            (&[], None),
            (&[("authorization", "bod_abc")], Some("bod_abc")),
            (&[("authorization", "Bearer bod_abc")], Some("bod_abc")),
            (&[("authorization", "bearer  bod_abc ")], Some("bod_abc")),
            (&[("x-ckan-api-key", "bod_x")], Some("bod_x")),
            (
                &[("authorization", "bod_a"), ("x-ckan-api-key", "bod_b")],
                Some("bod_a"),
            ),
            (&[("authorization", "  ")], None),
        ];
        for (pairs, expected) in cases {
            assert_eq!(presented(&headers(pairs)).as_deref(), expected, "{pairs:?}");
        }
        let long = "x".repeat(TOKEN_LENGTH_MAX + 1);
        assert_eq!(presented(&headers(&[("authorization", &long)])), None);
    }

    #[test]
    fn secrets_are_long_random_and_hashed() {
        let a = new_secret();
        let b = new_secret();
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX));
        assert_eq!(a.len(), TOKEN_PREFIX.len() + 43);
        assert_eq!(secret_hash(&a).len(), 64);
        assert_eq!(
            secret_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "abcd"));
    }

    #[test]
    fn rights() {
        let p = Publisher {
            token_id: "t".into(),
            user: "td-publisher".into(),
            sysadmin: false,
            organizations: vec!["org-1".into()],
        };
        assert!(p.may_edit("org-1"));
        assert!(!p.may_edit("org-2"));
        let admin = Publisher {
            sysadmin: true,
            organizations: Vec::new(),
            ..p
        };
        assert!(admin.may_edit("org-2"));
    }
}
