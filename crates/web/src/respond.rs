//! Small answers the portal's modules share: a 303 that no cache keeps, `no-store`, reading a
//! cookie (`bauhinia_core::extract::cookie`), and the one-message page.

use askama::Template;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::page::{Page, Section};
use crate::render;

/// `303 See Other` to `location`, not to be cached (FAPI 2.0 asks for 303 in redirects).
pub(crate) fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    no_store(response)
}

/// Pages about a person or a secret must not be kept by caches or the back button's cache.
pub(crate) fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

pub(crate) use bauhinia_core::extract::cookie;

#[derive(Template)]
#[template(path = "signin_message.html")]
struct MessageTemplate {
    page: Page,
    title: String,
    body: String,
    link: Option<(String, String)>,
}

/// A page with a title and one message.
pub(crate) fn message(page: Page, status: StatusCode, title: &str, body: &str) -> Response {
    render(
        &MessageTemplate {
            page,
            title: title.to_owned(),
            body: body.to_owned(),
            link: None,
        },
        status,
    )
}
