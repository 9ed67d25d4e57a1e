//! The one integration-test binary of the open data crate (each extra binary costs link time).

// Test code fails by panicking; the production lints do not apply here.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod datastore;
mod demo;
mod domain;
mod feeds;
mod http;
mod ogc_clients;
mod properties;
mod search;
mod search_properties;
mod spatial;
mod store;
mod write_properties;

/// A GET through a router: the status, the Content-Type and the body as text.
async fn fetch(router: &axum::Router, uri: &str) -> (axum::http::StatusCode, String, String) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let request = axum::http::Request::get(uri)
        .body(axum::body::Body::empty())
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        content_type,
        String::from_utf8(bytes.to_vec()).unwrap(),
    )
}
mod writes;
