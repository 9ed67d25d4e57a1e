//! DPoP proofs (RFC 9449): a JWT signed by the client's own key, carried in the `DPoP` header,
//! that binds a request (method and URL, and at a resource the access token) to that key.

use crate::jose::{self, Alg};
use crate::keys::now;
use crate::oidc::{OAuthError, CLOCK_SKEW_S, DPOP_MAX_AGE_S};

const MAX_JTI_CHARS: usize = 256;

/// A verified proof. `jti` must still be recorded to refuse a replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proof {
    /// The RFC 7638 thumbprint of the proof's key: what tokens are bound to.
    pub jkt: String,
    pub jti: String,
    pub iat: i64,
}

impl Proof {
    /// The replay record: unique per key and `jti`, kept until the proof is too old anyway.
    pub fn replay_scope(&self) -> String {
        format!("dpop:{}", self.jkt)
    }

    pub fn replay_expiry(&self) -> i64 {
        self.iat + DPOP_MAX_AGE_S + CLOCK_SKEW_S
    }
}

/// Compares the `htu` claim with the endpoint's URL, ignoring query and fragment (RFC 9449
/// section 4.3) and normalising case of scheme and host and default ports, as `url` does.
fn same_target(htu: &str, expected: &str) -> bool {
    match (url::Url::parse(htu), url::Url::parse(expected)) {
        (Ok(a), Ok(b)) => {
            a.scheme() == b.scheme()
                && a.host_str() == b.host_str()
                && a.port_or_known_default() == b.port_or_known_default()
                && a.path() == b.path()
        }
        _ => false,
    }
}

/// Verifies a DPoP proof for `method` on `url`; `access_token` is given at a resource, where
/// the proof must carry its hash (`ath`).
pub fn verify(
    header_values: &[&str],
    method: &str,
    url: &str,
    access_token: Option<&str>,
) -> Result<Proof, OAuthError> {
    let proof = match header_values {
        [one] => *one,
        [] => return Err(OAuthError::invalid_dpop_proof("a DPoP proof is required")),
        _ => return Err(OAuthError::invalid_dpop_proof("more than one DPoP header")),
    };
    let bad = |why: &str| OAuthError::invalid_dpop_proof(format!("DPoP proof {why}"));
    let decoded = jose::decode(proof).map_err(|e| bad(&format!("is not a valid JWS: {e}")))?;
    if decoded.header.typ.as_deref() != Some("dpop+jwt") {
        return Err(bad("must have typ dpop+jwt"));
    }
    if !matches!(decoded.alg, Alg::ES256 | Alg::PS256) {
        return Err(bad("must be signed with ES256 or PS256"));
    }
    let jwk = decoded
        .header
        .jwk
        .as_ref()
        .ok_or_else(|| bad("has no jwk header"))?;
    if jwk.has_private_parts() {
        return Err(bad("carries a private key"));
    }
    let key = jwk
        .to_key()
        .map_err(|e| bad(&format!("has an unusable key: {e}")))?;
    decoded
        .verify(&key)
        .map_err(|_| bad("signature does not verify"))?;
    let jti = decoded
        .str_claim("jti")
        .filter(|j| !j.is_empty() && j.len() <= MAX_JTI_CHARS);
    let jti = jti.ok_or_else(|| bad("needs a jti"))?.to_owned();
    if decoded.str_claim("htm") != Some(method) {
        return Err(bad("is for another HTTP method"));
    }
    if !decoded
        .str_claim("htu")
        .is_some_and(|htu| same_target(htu, url))
    {
        return Err(bad("is for another URL"));
    }
    let iat = decoded.int_claim("iat").ok_or_else(|| bad("needs iat"))?;
    let at = now();
    if iat > at + CLOCK_SKEW_S {
        return Err(bad("is issued in the future"));
    }
    if iat < at - DPOP_MAX_AGE_S {
        return Err(bad("is too old"));
    }
    if let Some(token) = access_token {
        let expected = jose::sha256_b64(token.as_bytes());
        if decoded.str_claim("ath") != Some(expected.as_str()) {
            return Err(bad("does not carry the hash of this access token (ath)"));
        }
    }
    let jkt = jwk.thumbprint().map_err(|e| bad(&e.to_string()))?;
    Ok(Proof { jkt, jti, iat })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn htu_ignores_query_and_default_port() {
        assert!(same_target(
            "https://id.example/token?x=1",
            "https://id.example:443/token"
        ));
        assert!(!same_target(
            "https://id.example/token2",
            "https://id.example/token"
        ));
        assert!(!same_target(
            "http://id.example/token",
            "https://id.example/token"
        ));
    }

    proptest! {
        #[test]
        fn never_panics(proof in ".{0,300}") {
            let _ = verify(&[proof.as_str()], "POST", "https://id.example/token", Some("t"));
        }
    }
}
