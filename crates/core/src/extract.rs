//! `ApiJson<T>`: the JSON body extractor of every Bauhinia API. It differs from axum's `Json`
//! in what a client sees when the body is wrong: an RFC 9457 problem with a stable code and a
//! JSON Pointer to the field at fault, never a plain-text rejection.
//!
//! Classification: not JSON at all (syntax, truncated, trailing bytes) → 400
//! `request.malformed_json`; well-formed JSON of the wrong shape → 422 `request.unknown_field`
//! or `request.invalid_field`; too large → 413; wrong media type → 415.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, StatusCode};
use serde::de::DeserializeOwned;

use crate::{ErrorCode, FieldError, Problem};

/// A JSON request body, deserialized with precise, field-naming errors.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json_content_type(req.headers()) {
            return Err(Problem::new(ErrorCode::UnsupportedMediaType)
                .detail("send the body with `Content-Type: application/json`"));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                Problem::new(ErrorCode::BodyTooLarge)
            } else {
                Problem::new(ErrorCode::MalformedJson).detail(rejection.body_text())
            }
        })?;
        parse_json(&bytes).map(ApiJson)
    }
}

fn is_json_content_type(headers: &axum::http::HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Deserializes `bytes` as `T`, mapping every failure to a problem that names the field.
///
/// Two steps, so the status is always right: first the bytes must be JSON at all (else 400);
/// then the JSON value must have the shape of `T` (else 422). serde_json alone reports some
/// shape errors (an integer where an enum is expected) as syntax errors.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| Problem::new(ErrorCode::MalformedJson).detail(e.to_string()))?;
    serde_path_to_error::deserialize(value).map_err(shape_problem)
}

fn shape_problem(error: serde_path_to_error::Error<serde_json::Error>) -> Problem {
    let mut pointer = json_pointer(error.path());
    let message = strip_position(&error.inner().to_string());
    let code = match unknown_field_name(&message) {
        Some(name) => {
            // serde_path_to_error already ends the path with the unknown key.
            let token = format!("/{}", escape_pointer_token(name));
            if !pointer.ends_with(&token) {
                pointer.push_str(&token);
            }
            ErrorCode::UnknownField
        }
        None => ErrorCode::InvalidField,
    };
    if pointer.is_empty() {
        pointer.push('/');
    }
    Problem::new(code)
        .detail(format!("{pointer}: {message}"))
        .errors(vec![FieldError::new(pointer, message)])
}

/// serde names an unknown field as "unknown field `name`, expected …".
fn unknown_field_name(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("unknown field `")?;
    rest.split('`').next()
}

/// serde_json appends " at line L column C"; the pointer already says where.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message.get(..i).unwrap_or(message).to_owned(),
        None => message.to_owned(),
    }
}

fn json_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut pointer = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => pointer.push_str(&format!("/{index}")),
            Segment::Map { key } => pointer.push_str(&format!("/{}", escape_pointer_token(key))),
            Segment::Enum { variant } => {
                pointer.push_str(&format!("/{}", escape_pointer_token(variant)))
            }
            Segment::Unknown => {}
        }
    }
    pointer
}

fn escape_pointer_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Sample {
        employees: u32,
        tags: Vec<String>,
        #[serde(default)]
        inner: Option<Inner>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        name: String,
    }

    fn check(body: &str, code: &str, pointer: Option<&str>) {
        let problem = parse_json::<Sample>(body.as_bytes()).expect_err("must fail");
        assert_eq!(problem.code, code, "{body}: {problem:?}");
        assert_eq!(
            problem.errors.first().map(|e| e.pointer.as_str()),
            pointer,
            "{body}: {problem:?}"
        );
    }

    #[test]
    fn classifies_and_points() {
        check("{", "request.malformed_json", None);
        check("", "request.malformed_json", None);
        check(
            "{\"employees\": 1, \"tags\": []} x",
            "request.malformed_json",
            None,
        );
        check(
            "{\"employees\": -1, \"tags\": []}",
            "request.invalid_field",
            Some("/employees"),
        );
        check(
            "{\"employees\": \"3\", \"tags\": []}",
            "request.invalid_field",
            Some("/employees"),
        );
        check(
            "{\"employees\": 3, \"tags\": [1]}",
            "request.invalid_field",
            Some("/tags/0"),
        );
        check(
            "{\"employees\": 3, \"tags\": [], \"bogus\": 1}",
            "request.unknown_field",
            Some("/bogus"),
        );
        check(
            "{\"employees\": 3, \"tags\": [], \"inner\": {\"nam\": \"x\"}}",
            "request.unknown_field",
            Some("/inner/nam"),
        );
        check("{\"tags\": []}", "request.invalid_field", Some("/"));
        check("[]", "request.invalid_field", Some("/"));
    }

    #[test]
    fn accepts_valid() {
        let sample: Sample = parse_json(b"{\"employees\": 3, \"tags\": [\"a\"]}").expect("valid");
        assert_eq!(sample.employees, 3);
    }
}

/// The language of an API response: the `lang` query parameter (`zh-Hant`, `zh-Hans`, `en`),
/// else the `Accept-Language` header, else English. An unknown `lang` value is a 400.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiLang(pub crate::Lang);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ApiLang {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        for pair in query.split('&') {
            if let Some(value) = pair.strip_prefix("lang=") {
                return crate::Lang::from_tag(value).map(ApiLang).ok_or_else(|| {
                    Problem::new(ErrorCode::InvalidQuery)
                        .detail("lang must be one of zh-Hant, zh-Hans, en")
                        .errors(vec![FieldError::new(
                            "/lang",
                            "must be one of zh-Hant, zh-Hans, en",
                        )])
                });
            }
        }
        let negotiated = parts
            .headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(crate::Lang::negotiate);
        Ok(ApiLang(negotiated.unwrap_or(crate::Lang::En)))
    }
}

/// The value of cookie `name` in a request's `Cookie` headers (trimmed), if it is there.
pub fn cookie<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}
