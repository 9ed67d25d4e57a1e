//! The authorization request: parsed from the pushed request (PAR) or the query of
//! `/authorize`, and checked against the service's registration before anything is stored.
//! Errors found before the redirect URI is known to be the service's are shown to the user,
//! never redirected (RFC 6749 section 4.1.2.1); later ones go back to the service.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::oidc::clients::{Client, Profile};
use crate::oidc::fields::{Field, Scope};
use crate::oidc::OAuthError;

const MAX_STATE_CHARS: usize = 1024;
const MAX_NONCE_CHARS: usize = 512;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Prompt {
    None,
    Login,
    Consent,
}

/// A validated authorization request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub scopes: Vec<Scope>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    /// S256 only.
    pub code_challenge: String,
    /// Fields the service asks for, released through userinfo.
    pub userinfo_fields: BTreeSet<Field>,
    /// Fields asked for in the ID token too (the `claims` parameter's `id_token` member).
    pub id_token_fields: BTreeSet<Field>,
    /// Fields the service marked essential.
    pub essential_fields: BTreeSet<Field>,
    pub prompt: Vec<Prompt>,
    pub max_age: Option<i64>,
    pub acr_values: Vec<String>,
    /// The DPoP key the code will be bound to (RFC 9449 section 10).
    pub dpop_jkt: Option<String>,
    pub ui_locales: Option<String>,
    pub pushed: bool,
}

impl AuthRequest {
    /// Every field the service asks for.
    pub fn fields(&self) -> BTreeSet<Field> {
        self.userinfo_fields
            .union(&self.id_token_fields)
            .copied()
            .collect()
    }

    /// Whether the service asks for corporate login (the `corpid` scope).
    pub fn corporate(&self) -> bool {
        self.scopes.contains(&Scope::Corpid)
    }

    pub fn scope_string(&self) -> String {
        self.scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// A failure, and whether it may be sent to the redirect URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestError {
    /// The client or redirect URI cannot be trusted: show the error, do not redirect.
    Unredirectable(OAuthError),
    /// Send the error to the (validated) redirect URI.
    Redirect {
        redirect_uri: String,
        state: Option<String>,
        error: OAuthError,
    },
}

impl RequestError {
    pub fn into_oauth(self) -> OAuthError {
        match self {
            RequestError::Unredirectable(e) | RequestError::Redirect { error: e, .. } => e,
        }
    }
}

fn single<'a>(
    params: &'a BTreeMap<String, Vec<String>>,
    name: &str,
) -> Result<Option<&'a str>, OAuthError> {
    match params.get(name).map(Vec::as_slice) {
        None | Some([]) => Ok(None),
        Some([one]) => Ok(Some(one.as_str()).filter(|v| !v.is_empty())),
        Some(_) => Err(OAuthError::invalid_request(format!(
            "{name} is given more than once"
        ))),
    }
}

/// Parses `application/x-www-form-urlencoded` (query or body) keeping repeated names.
pub fn parse_params(input: &[u8]) -> BTreeMap<String, Vec<String>> {
    let mut params: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in form_urlencoded::parse(input) {
        params
            .entry(name.into_owned())
            .or_default()
            .push(value.into_owned());
    }
    params
}

/// Reads one parameter that may appear at most once.
pub fn param<'a>(
    params: &'a BTreeMap<String, Vec<String>>,
    name: &str,
) -> Result<Option<&'a str>, OAuthError> {
    single(params, name)
}

fn is_pkce_value(text: &str) -> bool {
    (43..=128).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Whether a PKCE verifier matches the S256 challenge (RFC 7636).
pub fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    is_pkce_value(verifier)
        && openssl::memcmp::eq(
            crate::jose::sha256_b64(verifier.as_bytes()).as_bytes(),
            challenge.as_bytes(),
        )
        && challenge.len() == 43
}

/// Fields asked for through `claims`: for userinfo, for the ID token, and the essential ones.
type ClaimsRequest = (BTreeSet<Field>, BTreeSet<Field>, BTreeSet<Field>);

/// Parses the `claims` request parameter (OpenID Connect Core 5.5) into fields: only our field
/// names, as `null` or `{"essential": bool}` members of `userinfo` / `id_token`.
fn parse_claims(text: &str) -> Result<ClaimsRequest, OAuthError> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|_| OAuthError::invalid_request("claims is not a JSON object"))?;
    let object = value
        .as_object()
        .ok_or_else(|| OAuthError::invalid_request("claims is not a JSON object"))?;
    let mut userinfo = BTreeSet::new();
    let mut id_token = BTreeSet::new();
    let mut essential = BTreeSet::new();
    for (member, requests) in object {
        let into = match member.as_str() {
            "userinfo" => &mut userinfo,
            "id_token" => &mut id_token,
            other => {
                return Err(OAuthError::invalid_request(format!(
                    "claims member {other:?} is not userinfo or id_token"
                )))
            }
        };
        let requests = requests.as_object().ok_or_else(|| {
            OAuthError::invalid_request(format!("claims.{member} is not an object"))
        })?;
        for (name, request) in requests {
            // Standard claims that are not fields (sub, auth_time, acr, ...) are always present or
            // decided elsewhere, and corporate login's come with the `corpid` scope; naming them
            // is harmless.
            if matches!(
                name.as_str(),
                "sub" | "auth_time" | "acr" | "amr" | "iss" | "aud"
            ) || crate::oidc::corporate::CLAIMS.contains(&name.as_str())
            {
                continue;
            }
            let field = Field::parse(name).ok_or_else(|| {
                OAuthError::invalid_request(format!(
                    "claim {name:?} is not a field this provider releases"
                ))
            })?;
            match request {
                serde_json::Value::Null => {}
                serde_json::Value::Object(options) => {
                    if options
                        .get("essential")
                        .and_then(serde_json::Value::as_bool)
                        == Some(true)
                    {
                        essential.insert(field);
                    }
                }
                _ => {
                    return Err(OAuthError::invalid_request(format!(
                        "claim {name:?} must be null or an object"
                    )))
                }
            }
            into.insert(field);
        }
    }
    Ok((userinfo, id_token, essential))
}

/// Checks the client and redirect URI: the part whose failure must not be redirected.
pub fn check_client_and_redirect<'a>(
    client: Option<&'a Client>,
    redirect_uri: Option<&str>,
) -> Result<&'a Client, OAuthError> {
    let client = client
        .filter(|c| c.active)
        .ok_or_else(|| OAuthError::invalid_request("unknown or disabled client_id"))?;
    let redirect_uri =
        redirect_uri.ok_or_else(|| OAuthError::invalid_request("redirect_uri is required"))?;
    // Exact string comparison, as FAPI 2.0 and OAuth 2.1 ask.
    if !client
        .registration
        .redirect_uris
        .iter()
        .any(|r| r == redirect_uri)
    {
        return Err(OAuthError::invalid_request(
            "redirect_uri is not registered for this client",
        ));
    }
    Ok(client)
}

/// Validates an authorization request's parameters against `client`. `pushed` is true at the
/// PAR endpoint, where the client has already authenticated.
pub fn validate(
    client: Option<&Client>,
    params: &BTreeMap<String, Vec<String>>,
    pushed: bool,
    dpop_jkt_from_header: Option<String>,
) -> Result<AuthRequest, RequestError> {
    let unredirectable = RequestError::Unredirectable;
    let redirect_uri = single(params, "redirect_uri").map_err(unredirectable)?;
    let client = check_client_and_redirect(client, redirect_uri).map_err(unredirectable)?;
    let redirect_uri = redirect_uri.unwrap_or_default().to_owned();
    let state = single(params, "state").ok().flatten().map(str::to_owned);
    let fail = |error: OAuthError| RequestError::Redirect {
        redirect_uri: redirect_uri.clone(),
        state: state.clone(),
        error,
    };
    if state
        .as_ref()
        .is_some_and(|s| s.chars().count() > MAX_STATE_CHARS)
    {
        return Err(fail(OAuthError::invalid_request("state is too long")));
    }
    let get = |name: &str| single(params, name).map_err(&fail);
    if let Some(id) = get("client_id")? {
        if id != client.client_id {
            return Err(RequestError::Unredirectable(OAuthError::invalid_request(
                "client_id does not match",
            )));
        }
    }
    if params.contains_key("request") {
        return Err(fail(OAuthError::request_not_supported(
            "request objects are not supported; use PAR",
        )));
    }
    if pushed && params.contains_key("request_uri") {
        return Err(fail(OAuthError::invalid_request(
            "request_uri is not allowed in a pushed request",
        )));
    }
    if client.registration.profile == Profile::Fapi2 && !pushed {
        return Err(fail(OAuthError::invalid_request(
            "this FAPI 2.0 client must push its authorization request (PAR)",
        )));
    }
    match get("response_type")? {
        Some("code") => {}
        Some(other) => {
            return Err(fail(OAuthError::unsupported_response_type(format!(
                "response_type {other:?} is not supported; only code"
            ))))
        }
        None => {
            return Err(fail(OAuthError::invalid_request(
                "response_type is required",
            )))
        }
    }
    match get("response_mode")? {
        None | Some("query") => {}
        Some(other) => {
            return Err(fail(OAuthError::invalid_request(format!(
                "response_mode {other:?} is not supported"
            ))))
        }
    }
    let mut scopes = Vec::new();
    for word in get("scope")?
        .unwrap_or_default()
        .split(' ')
        .filter(|w| !w.is_empty())
    {
        let scope = Scope::parse(word)
            .ok_or_else(|| fail(OAuthError::invalid_scope(format!("unknown scope {word:?}"))))?;
        if !client.registration.allows_scope(scope) {
            return Err(fail(OAuthError::invalid_scope(format!(
                "this client may not ask for scope {word:?}"
            ))));
        }
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    if !scopes.contains(&Scope::Openid) {
        return Err(fail(OAuthError::invalid_scope("scope must include openid")));
    }
    match (get("code_challenge")?, get("code_challenge_method")?) {
        (None, _) => {
            return Err(fail(OAuthError::invalid_request(
                "PKCE is required: code_challenge is missing",
            )))
        }
        (Some(_), Some("plain")) => {
            return Err(fail(OAuthError::invalid_request(
                "PKCE method plain is not allowed; use S256",
            )))
        }
        (Some(_), None) => {
            return Err(fail(OAuthError::invalid_request(
                "code_challenge_method is required and must be S256",
            )))
        }
        (Some(_), Some(m)) if m != "S256" => {
            return Err(fail(OAuthError::invalid_request(format!(
                "PKCE method {m:?} is not supported; use S256"
            ))))
        }
        _ => {}
    }
    let code_challenge = get("code_challenge")?.unwrap_or_default().to_owned();
    if code_challenge.len() != 43 || !is_pkce_value(&code_challenge) {
        return Err(fail(OAuthError::invalid_request(
            "code_challenge is not a base64url SHA-256 value",
        )));
    }
    let nonce = get("nonce")?.map(str::to_owned);
    if nonce
        .as_ref()
        .is_some_and(|n| n.chars().count() > MAX_NONCE_CHARS)
    {
        return Err(fail(OAuthError::invalid_request("nonce is too long")));
    }
    let mut userinfo_fields: BTreeSet<Field> = scopes
        .iter()
        .flat_map(|s| s.fields().iter().copied())
        .collect();
    let mut id_token_fields = BTreeSet::new();
    let mut essential_fields = BTreeSet::new();
    if let Some(claims) = get("claims")? {
        let (u, i, e) = parse_claims(claims).map_err(&fail)?;
        userinfo_fields.extend(u);
        id_token_fields = i;
        essential_fields = e;
    }
    for field in userinfo_fields.iter().chain(&id_token_fields) {
        if !client.registration.allows_field(*field) {
            return Err(fail(OAuthError::invalid_request(format!(
                "this client is not registered to ask for {}",
                field.as_str()
            ))));
        }
    }
    // The business's data describes the business chosen at a corporate login: without
    // `corpid` there is no business to describe.
    if !scopes.contains(&Scope::Corpid) {
        if let Some(field) = userinfo_fields
            .iter()
            .chain(&id_token_fields)
            .find(|f| f.corporate())
        {
            return Err(fail(OAuthError::invalid_scope(format!(
                "{} describes the business of a corporate login: ask for the corpid scope too",
                field.as_str()
            ))));
        }
    }
    let mut prompt = Vec::new();
    for word in get("prompt")?
        .unwrap_or_default()
        .split(' ')
        .filter(|w| !w.is_empty())
    {
        let p = match word {
            "none" => Prompt::None,
            "login" => Prompt::Login,
            "consent" => Prompt::Consent,
            other => {
                return Err(fail(OAuthError::invalid_request(format!(
                    "prompt {other:?} is not supported"
                ))))
            }
        };
        prompt.push(p);
    }
    if prompt.contains(&Prompt::None) && prompt.len() > 1 {
        return Err(fail(OAuthError::invalid_request(
            "prompt=none cannot be combined",
        )));
    }
    let max_age = match get("max_age")? {
        None => None,
        Some(text) => Some(
            text.parse::<i64>()
                .ok()
                .filter(|v| *v >= 0)
                .ok_or_else(|| {
                    fail(OAuthError::invalid_request(
                        "max_age must be a whole number of seconds",
                    ))
                })?,
        ),
    };
    let acr_values = get("acr_values")?
        .unwrap_or_default()
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect();
    let dpop_jkt = match (get("dpop_jkt")?, dpop_jkt_from_header) {
        (Some(param), Some(header)) if param != header => {
            return Err(fail(OAuthError::invalid_dpop_proof(
                "dpop_jkt does not match the DPoP proof's key",
            )))
        }
        (Some(param), _) => Some(param.to_owned()),
        (None, header) => header,
    };
    let ui_locales = get("ui_locales")?.map(str::to_owned);
    Ok(AuthRequest {
        client_id: client.client_id.clone(),
        redirect_uri: redirect_uri.clone(),
        scopes,
        state: state.clone(),
        nonce,
        code_challenge,
        userinfo_fields,
        id_token_fields,
        essential_fields,
        prompt,
        max_age,
        acr_values,
        dpop_jkt,
        ui_locales,
        pushed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn parsing_never_panics(query in ".{0,300}") {
            let params = parse_params(query.as_bytes());
            let _ = validate(None, &params, false, None);
            let _ = parse_claims(&query);
        }
    }

    #[test]
    fn pkce_checks_the_s256_transform() {
        // RFC 7636 appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(pkce_matches(verifier, challenge));
        assert!(!pkce_matches(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXK",
            challenge
        ));
        assert!(!pkce_matches(challenge, challenge));
    }
}
