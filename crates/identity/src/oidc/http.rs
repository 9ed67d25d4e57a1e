//! The provider's back-channel endpoints: discovery, JWKS, PAR, token, userinfo, revocation and
//! introspection. They speak OAuth's own error shape (`{"error", "error_description"}`), not
//! problem+json, and never cache. The front-channel endpoints (`/oauth2/authorize`, the
//! interaction pages, logout) render HTML and live in the portal crate.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

use crate::oidc::provider::{
    ResourceError, INTROSPECT_PATH, JWKS_PATH, PAR_PATH, REVOKE_PATH, TOKEN_PATH, USERINFO_PATH,
};
use crate::oidc::request::parse_params;
use crate::oidc::{OAuthError, Provider};

pub const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";

pub fn router(provider: Arc<Provider>) -> Router {
    Router::new()
        .route(DISCOVERY_PATH, get(discovery))
        .route(JWKS_PATH, get(jwks))
        .route(PAR_PATH, post(par))
        .route(TOKEN_PATH, post(token))
        .route(USERINFO_PATH, get(userinfo).post(userinfo))
        .route(REVOKE_PATH, post(revoke))
        .route(INTROSPECT_PATH, post(introspect))
        .with_state(provider)
}

fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// The form body of a back-channel request; anything else is `invalid_request`.
fn form(headers: &HeaderMap, body: &Bytes) -> Result<BTreeMap<String, Vec<String>>, OAuthError> {
    let form_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !form_type {
        return Err(OAuthError::invalid_request(
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    Ok(parse_params(body))
}

fn dpop_values(headers: &HeaderMap) -> Result<Vec<&str>, OAuthError> {
    headers
        .get_all("dpop")
        .iter()
        .map(|v| {
            v.to_str()
                .map_err(|_| OAuthError::invalid_dpop_proof("the DPoP header is not text"))
        })
        .collect()
}

async fn discovery(State(provider): State<Arc<Provider>>) -> Response {
    let mut response = Json(provider.discovery()).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    response
}

async fn jwks(State(provider): State<Arc<Provider>>) -> Response {
    let mut response = (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/jwk-set+json"),
        )],
        Json(provider.keys.jwks()),
    )
        .into_response();
    // Short, so a rotation reaches services quickly.
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    );
    response
}

async fn par(State(provider): State<Arc<Provider>>, headers: HeaderMap, body: Bytes) -> Response {
    let result = async {
        let params = form(&headers, &body)?;
        let dpop = dpop_values(&headers)?;
        provider.push(&headers, &params, &dpop).await
    }
    .await;
    match result {
        Ok((request_uri, expires_in)) => no_store(
            (
                StatusCode::CREATED,
                Json(serde_json::json!({ "request_uri": request_uri, "expires_in": expires_in })),
            )
                .into_response(),
        ),
        Err(e) => e.into_response(),
    }
}

async fn token(State(provider): State<Arc<Provider>>, headers: HeaderMap, body: Bytes) -> Response {
    let result = async {
        let params = form(&headers, &body)?;
        let dpop = dpop_values(&headers)?;
        provider.token(&headers, &params, &dpop).await
    }
    .await;
    match result {
        Ok(tokens) => no_store(Json(tokens).into_response()),
        Err(e) => e.into_response(),
    }
}

async fn introspect(
    State(provider): State<Arc<Provider>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        let params = form(&headers, &body)?;
        provider.introspect(&headers, &params).await
    }
    .await;
    match result {
        Ok(answer) => no_store(Json(answer).into_response()),
        Err(e) => e.into_response(),
    }
}

async fn revoke(
    State(provider): State<Arc<Provider>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        let params = form(&headers, &body)?;
        provider.revoke(&headers, &params).await
    }
    .await;
    match result {
        Ok(()) => no_store(StatusCode::OK.into_response()),
        Err(e) => e.into_response(),
    }
}

async fn userinfo(
    State(provider): State<Arc<Provider>>,
    method: Method,
    headers: HeaderMap,
) -> Response {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let dpop = match dpop_values(&headers) {
        Ok(values) => values,
        Err(e) => return resource_error(ResourceError::Proof(e)),
    };
    match provider
        .userinfo(authorization, &dpop, method.as_str())
        .await
    {
        Ok(claims) => no_store(Json(claims).into_response()),
        Err(e) => resource_error(e),
    }
}

/// RFC 6750 / RFC 9449 errors: the status, and a `WWW-Authenticate` challenge for both schemes.
fn resource_error(error: ResourceError) -> Response {
    let (status, code, description) = match &error {
        ResourceError::Missing => (
            StatusCode::UNAUTHORIZED,
            None,
            "an access token is required".to_owned(),
        ),
        ResourceError::Invalid(why) => (
            StatusCode::UNAUTHORIZED,
            Some("invalid_token"),
            (*why).to_owned(),
        ),
        ResourceError::Proof(e) => (
            StatusCode::UNAUTHORIZED,
            Some("invalid_dpop_proof"),
            e.error_description.clone(),
        ),
        ResourceError::Server(why) => {
            tracing::error!(error = %why, "userinfo failed");
            return OAuthError::server_error(why).into_response();
        }
    };
    let escaped = description.replace(['"', '\\'], "'");
    let challenge = match code {
        Some(code) => format!(
            "DPoP algs=\"ES256 PS256\", error=\"{code}\", error_description=\"{escaped}\", Bearer error=\"{code}\", error_description=\"{escaped}\""
        ),
        None => "DPoP algs=\"ES256 PS256\", Bearer".to_owned(),
    };
    let mut response = (
        status,
        Json(serde_json::json!({ "error": code.unwrap_or("invalid_request"), "error_description": description })),
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    no_store(response)
}
