//! The QR code API under `/api/v1/fps/qr`: decode a payload, encode one from typed fields, and
//! draw one as SVG or PNG. Stateless: no store, no session. A bad payload is a 422 problem
//! (`fps.qr_invalid`) that also carries `reason` (the stable machine name of what is wrong),
//! `field` and `position`.

use axum::extract::rejection::QueryRejection;
use axum::extract::Query;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bauhinia_core::extract::ApiJson;
use bauhinia_core::{ErrorCode, FieldError, Problem, ProblemDocument};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::QrError;
use super::wire::{DecodedQr, EncodeRequest, EncodedQr, PayloadRequest};
use super::{decode, encode, render};

pub const TAG: &str = "fps";

/// The routes of the QR code API, with their OpenAPI paths.
pub fn router() -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(decode_payload))
        .routes(routes!(encode_payload))
        .routes(routes!(draw_payload))
}

/// The problem for a bad payload: RFC 9457 members, then where and what exactly.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QrProblemDocument {
    #[serde(flatten)]
    pub problem: ProblemDocument,
    /// The stable machine name of what is wrong with the payload, e.g. `crc_mismatch`,
    /// `truncated_value`, `missing_fps_identifier`, `invalid_amount` (absent when the request
    /// itself had the wrong shape: then `code` is a `request.*` code).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "crc_mismatch")]
    pub reason: Option<&'static str>,
    /// The field at fault: `59`, or `26.02` for a sub-field of a template.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "63")]
    pub field: Option<String>,
    /// 0-based character offset in the payload (a byte offset for `not_utf8`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<usize>,
}

/// A bad payload, as a response.
#[derive(Debug, Clone)]
pub struct QrProblem(pub QrError);

impl QrProblem {
    pub fn document(&self) -> QrProblemDocument {
        let error = &self.0;
        QrProblemDocument {
            problem: Problem::new(ErrorCode::FpsQrInvalid)
                .detail(error.to_string())
                .document(),
            reason: Some(error.code()),
            field: error.field().map(|f| f.to_string()),
            position: error.position(),
        }
    }
}

impl IntoResponse for QrProblem {
    fn into_response(self) -> Response {
        let mut response =
            (ErrorCode::FpsQrInvalid.status(), Json(self.document())).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(bauhinia_core::problem::PROBLEM_JSON),
        );
        response
    }
}

impl From<QrError> for QrProblem {
    fn from(error: QrError) -> Self {
        QrProblem(error)
    }
}

/// Decodes a payload: the typed fields, then every field as it stands with its position. A
/// bad payload is a 422 naming exactly what is wrong (`reason`), which field and where.
#[utoipa::path(post, path = "/api/v1/fps/qr/decode", tag = TAG,
    request_body = PayloadRequest,
    responses(
        (status = 200, description = "The decoded code", body = DecodedQr),
        (status = 400, description = "Malformed JSON", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "Not a valid FPS QR payload (`fps.qr_invalid`, with `reason`, `field`, `position`), or a request of the wrong shape", body = QrProblemDocument, content_type = "application/problem+json"),
    ))]
async fn decode_payload(
    ApiJson(request): ApiJson<PayloadRequest>,
) -> Result<Json<DecodedQr>, QrProblem> {
    let decoded = decode(&request.payload)?;
    Ok(Json(DecodedQr::from(&decoded)))
}

/// Writes a payload from typed fields (CRC included). Exactly one of `fps_id`, `mobile` and
/// `email` names the payee; defaults: HKD, static without an amount and dynamic with one,
/// merchant name `NA`, city `HK`, category `0000`.
#[utoipa::path(post, path = "/api/v1/fps/qr/encode", tag = TAG,
    request_body = EncodeRequest,
    responses(
        (status = 200, description = "The payload", body = EncodedQr),
        (status = 400, description = "Malformed JSON", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (`fps.qr_request_invalid`; `errors` names each), or a request of the wrong shape", body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn encode_payload(
    ApiJson(request): ApiJson<EncodeRequest>,
) -> Result<Json<EncodedQr>, Problem> {
    let qr = request.into_qr().map_err(request_problem)?;
    let payload =
        encode(&qr).map_err(|e| request_problem(vec![FieldError::new("/", e.to_string())]))?;
    Ok(Json(EncodedQr { payload }))
}

fn request_problem(errors: Vec<FieldError>) -> Problem {
    let detail = errors
        .iter()
        .map(|e| format!("{}: {}", e.pointer, e.detail))
        .collect::<Vec<_>>()
        .join("; ");
    Problem::new(ErrorCode::FpsQrRequestInvalid)
        .detail(detail)
        .errors(errors)
}

/// The picture format.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ImageFormat {
    #[default]
    Svg,
    Png,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ImageQuery {
    /// `svg` (default) or `png`.
    #[param(inline)]
    format: Option<ImageFormat>,
}

/// Draws a payload as a QR code: SVG (scalable) or PNG (8 pixels a module), error correction
/// level M, with the 4-module quiet zone. The payload is decoded first: only a valid code is
/// drawn.
#[utoipa::path(post, path = "/api/v1/fps/qr/image", tag = TAG,
    params(ImageQuery),
    request_body = PayloadRequest,
    responses(
        (status = 200, description = "The picture", content(
            (String = "image/svg+xml"),
            ("image/png"),
        )),
        (status = 400, description = "Malformed JSON or bad query", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "Not a valid FPS QR payload (`fps.qr_invalid`, with `reason`, `field`, `position`), or a request of the wrong shape", body = QrProblemDocument, content_type = "application/problem+json"),
    ))]
async fn draw_payload(
    query: Result<Query<ImageQuery>, QueryRejection>,
    ApiJson(request): ApiJson<PayloadRequest>,
) -> Response {
    let format = match query {
        Ok(Query(query)) => query.format.unwrap_or_default(),
        Err(rejection) => {
            return Problem::new(ErrorCode::InvalidQuery)
                .detail(rejection.body_text())
                .errors(vec![FieldError::new("/format", "must be svg or png")])
                .into_response()
        }
    };
    if let Err(error) = decode(&request.payload) {
        return QrProblem(error).into_response();
    }
    let drawn = match format {
        ImageFormat::Svg => {
            render::svg(&request.payload).map(|svg| ("image/svg+xml", svg.into_bytes()))
        }
        ImageFormat::Png => render::png(&request.payload).map(|png| ("image/png", png)),
    };
    match drawn {
        Ok((content_type, bytes)) => {
            ([(header::CONTENT_TYPE, content_type)], bytes).into_response()
        }
        Err(e) => Problem::internal(&e).into_response(),
    }
}
