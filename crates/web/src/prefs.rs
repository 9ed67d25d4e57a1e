//! The visitor's portal preferences — language and text size — read from cookies (then
//! `Accept-Language`) and set by `GET /prefs`, which works without JavaScript.

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bauhinia_core::Lang;
use serde::Deserialize;

pub const LANG_COOKIE: &str = "bauhinia_lang";
pub const TEXT_COOKIE: &str = "bauhinia_text";
const COOKIE_MAX_AGE_S: u32 = 365 * 24 * 3600;
const NEXT_LEN_MAX: usize = 2048;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prefs {
    pub lang: Lang,
    pub large_text: bool,
}

impl Prefs {
    pub fn from_headers(headers: &HeaderMap) -> Prefs {
        let lang = bauhinia_core::extract::cookie(headers, LANG_COOKIE)
            .and_then(Lang::from_tag)
            .or_else(|| {
                headers
                    .get(header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(Lang::negotiate)
            })
            .unwrap_or_default();
        let large_text = bauhinia_core::extract::cookie(headers, TEXT_COOKIE) == Some("large");
        Prefs { lang, large_text }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Prefs {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Prefs::from_headers(&parts.headers))
    }
}

#[derive(Debug, Deserialize)]
pub struct PrefsQuery {
    lang: Option<String>,
    text: Option<String>,
    next: Option<String>,
}

/// Only a local path may be a redirect target: `/x`, never `//host` or `/\host`.
pub fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && n.len() <= NEXT_LEN_MAX
                && !n.chars().any(char::is_control) =>
        {
            n
        }
        _ => "/",
    }
}

/// `GET /prefs?lang=en&text=large&next=/funding`: remembers the choice and goes back.
pub async fn set_prefs(Query(query): Query<PrefsQuery>) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    if let Some(lang) = query.lang.as_deref().and_then(Lang::from_tag) {
        append_cookie(headers, LANG_COOKIE, lang.tag());
    }
    match query.text.as_deref() {
        Some("large") => append_cookie(headers, TEXT_COOKIE, "large"),
        Some("normal") => append_cookie(headers, TEXT_COOKIE, "normal"),
        _ => {}
    }
    if let Ok(location) = HeaderValue::from_str(safe_next(query.next.as_deref())) {
        headers.insert(header::LOCATION, location);
    }
    response
}

fn append_cookie(headers: &mut HeaderMap, name: &str, value: &str) {
    let cookie = format!("{name}={value}; Path=/; Max-Age={COOKIE_MAX_AGE_S}; SameSite=Lax");
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        headers.append(header::SET_COOKIE, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_redirects() {
        for (next, expected) in [
            (Some("/funding"), "/funding"),
            (Some("/funding/results?a=b"), "/funding/results?a=b"),
            (Some("//evil.example"), "/"),
            (Some("/\\evil.example"), "/"),
            (Some("https://evil.example"), "/"),
            (Some("/a\r\nSet-Cookie: x"), "/"),
            (None, "/"),
        ] {
            assert_eq!(safe_next(next), expected, "{next:?}");
        }
    }

    #[test]
    fn reads_cookie_then_header() {
        let mut headers = HeaderMap::new();
        assert_eq!(Prefs::from_headers(&headers).lang, Lang::ZhHant);
        headers.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_static("en-US"));
        assert_eq!(Prefs::from_headers(&headers).lang, Lang::En);
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=b; bauhinia_lang=zh-Hans; bauhinia_text=large"),
        );
        assert_eq!(
            Prefs::from_headers(&headers),
            Prefs {
                lang: Lang::ZhHans,
                large_text: true
            }
        );
    }

    proptest::proptest! {
        /// A redirect target is always a local path, whatever `next` a stranger sends.
        #[test]
        fn next_is_always_local(next in "\\PC{0,64}") {
            let target = safe_next(Some(&next));
            proptest::prop_assert!(target.starts_with('/') && !target.starts_with("//") && !target.contains('\\'));
        }

        /// Any cookie and Accept-Language header parse without panicking.
        #[test]
        fn any_headers_parse(cookie in "[ -~]{0,80}", accept in "[ -~]{0,80}") {
            let mut headers = HeaderMap::new();
            if let (Ok(c), Ok(a)) = (HeaderValue::from_str(&cookie), HeaderValue::from_str(&accept)) {
                headers.insert(header::COOKIE, c);
                headers.insert(header::ACCEPT_LANGUAGE, a);
            }
            let _ = Prefs::from_headers(&headers);
        }
    }
}
