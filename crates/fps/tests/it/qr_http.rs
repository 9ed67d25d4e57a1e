//! The QR code API, driven in-process: answers, problems, pictures and the OpenAPI entries.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt as _;
use serde_json::{json, Value};
use tower::ServiceExt as _;

type TestResult<T = ()> = Result<T, String>;

const PAYLOAD: &str = "00020101021226360012hk.com.hkicl01030040209123456789520400005303344\
                       540512.305802HK5902NA6002HK62090505INV016304AD06";

struct Answer {
    status: StatusCode,
    content_type: String,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> TestResult<Value> {
        serde_json::from_slice(&self.body).map_err(|e| format!("not JSON: {e}"))
    }
}

fn router() -> Router {
    bauhinia_fps::qr::http::router().split_for_parts().0
}

async fn post(uri: &str, content_type: &str, body: impl Into<Body>) -> TestResult<Answer> {
    let request = Request::post(uri)
        .header(header::CONTENT_TYPE, content_type)
        .body(body.into())
        .map_err(|e| e.to_string())?;
    let response = router().oneshot(request).await.map_err(|e| e.to_string())?;
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes()
        .to_vec();
    Ok(Answer {
        status,
        content_type,
        body,
    })
}

async fn post_json(uri: &str, body: &Value) -> TestResult<Answer> {
    post(uri, "application/json", body.to_string()).await
}

#[tokio::test]
async fn decode_answers_the_typed_fields_and_the_raw_list() -> TestResult {
    let answer = post_json("/api/v1/fps/qr/decode", &json!({ "payload": PAYLOAD })).await?;
    assert_eq!(answer.status, StatusCode::OK);
    let body = answer.json()?;
    assert_eq!(body["initiation"], "dynamic");
    assert_eq!(body["participant"], "004");
    assert_eq!(
        body["proxy"],
        json!({ "type": "fps_id", "value": "123456789" })
    );
    assert_eq!(body["currency"], "HKD");
    assert_eq!(body["amount"], "12.30");
    assert_eq!(body["amount_minor"], 1230);
    assert_eq!(body["reference_label"], "INV01");
    assert_eq!(body["crc"], "AD06");
    assert_eq!(body["fields"][2]["id"], "26");
    assert_eq!(body["fields"][2]["position"], 12);
    assert_eq!(
        body["fields"][2]["sub_fields"][1],
        json!({ "id": "01", "position": 32, "length": 3, "value": "004" })
    );
    Ok(())
}

#[tokio::test]
async fn a_bad_payload_is_a_problem_saying_what_and_where() -> TestResult {
    let wrong_crc = format!("{}0000", &PAYLOAD[..PAYLOAD.len() - 4]);
    let answer = post_json("/api/v1/fps/qr/decode", &json!({ "payload": wrong_crc })).await?;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer.content_type, "application/problem+json");
    let body = answer.json()?;
    assert_eq!(body["code"], "fps.qr_invalid");
    assert_eq!(body["status"], 422);
    assert_eq!(body["reason"], "crc_mismatch");
    assert_eq!(body["field"], "63");
    assert_eq!(body["position"], 107);
    assert_eq!(
        body["detail"],
        "wrong CRC: field 63 at position 107 says 0000, but the payload's CRC-16/CCITT-FALSE is AD06"
    );
    let answer = post_json("/api/v1/fps/qr/decode", &json!({ "payload": "" })).await?;
    let body = answer.json()?;
    assert_eq!(
        (
            body["reason"].as_str(),
            body.get("field"),
            body.get("position")
        ),
        (Some("empty"), None, None)
    );
    // The wrong shape of request is the usual request problem.
    let answer = post_json("/api/v1/fps/qr/decode", &json!({ "payload": 1 })).await?;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer.json()?["code"], "request.invalid_field");
    let answer = post("/api/v1/fps/qr/decode", "text/plain", PAYLOAD).await?;
    assert_eq!(answer.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    Ok(())
}

#[tokio::test]
async fn encode_writes_the_payload_from_typed_fields() -> TestResult {
    let request = json!({
        "participant": "004",
        "fps_id": "123456789",
        "amount": "12.3",
        "reference_label": "INV01",
    });
    let answer = post_json("/api/v1/fps/qr/encode", &request).await?;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json()?, json!({ "payload": PAYLOAD }));
    Ok(())
}

#[tokio::test]
async fn encode_names_every_bad_field() -> TestResult {
    let request = json!({
        "participant": "4",
        "mobile": "1234",
        "amount": "12.345",
        "merchant_name": "茶餐廳",
        "initiation": "dynamic",
    });
    let answer = post_json("/api/v1/fps/qr/encode", &request).await?;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    let body = answer.json()?;
    assert_eq!(body["code"], "fps.qr_request_invalid");
    let pointers: Vec<&str> = body["errors"]
        .as_array()
        .ok_or("errors")?
        .iter()
        .filter_map(|e| e["pointer"].as_str())
        .collect();
    assert_eq!(
        pointers,
        ["/mobile", "/participant", "/amount", "/merchant_name"]
    );
    let answer = post_json(
        "/api/v1/fps/qr/encode",
        &json!({ "fps_id": "1234567", "email": "a@b.hk" }),
    )
    .await?;
    assert_eq!(answer.json()?["errors"][0]["pointer"], "/email");
    let answer = post_json("/api/v1/fps/qr/encode", &json!({})).await?;
    assert_eq!(answer.json()?["errors"][0]["pointer"], "/");
    let answer = post_json(
        "/api/v1/fps/qr/encode",
        &json!({ "fps_id": "1234567", "initiation": "dynamic" }),
    )
    .await?;
    assert_eq!(
        answer.json()?["errors"][0]["detail"],
        "a dynamic code needs an amount"
    );
    let answer = post_json(
        "/api/v1/fps/qr/encode",
        &json!({ "fps_id": "1234567", "colour": "red" }),
    )
    .await?;
    assert_eq!(answer.json()?["code"], "request.unknown_field");
    Ok(())
}

#[tokio::test]
async fn image_draws_svg_and_png() -> TestResult {
    let body = json!({ "payload": PAYLOAD });
    let svg = post_json("/api/v1/fps/qr/image", &body).await?;
    assert_eq!(
        (svg.status, svg.content_type.as_str()),
        (StatusCode::OK, "image/svg+xml")
    );
    assert!(String::from_utf8_lossy(&svg.body).contains("<svg"));
    let png = post_json("/api/v1/fps/qr/image?format=png", &body).await?;
    assert_eq!(
        (png.status, png.content_type.as_str()),
        (StatusCode::OK, "image/png")
    );
    assert_eq!(png.body.get(..8), Some(&b"\x89PNG\r\n\x1a\n"[..]));
    let bad = post_json("/api/v1/fps/qr/image?format=gif", &body).await?;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.json()?["code"], "request.invalid_query");
    let invalid = post_json("/api/v1/fps/qr/image", &json!({ "payload": "000201" })).await?;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(invalid.json()?["reason"], "missing_field");
    Ok(())
}

#[test]
fn openapi_documents_the_routes_under_the_fps_tag() -> TestResult {
    let (_, doc) = bauhinia_fps::qr::http::router().split_for_parts();
    let doc = serde_json::to_value(&doc).map_err(|e| e.to_string())?;
    for path in [
        "/api/v1/fps/qr/decode",
        "/api/v1/fps/qr/encode",
        "/api/v1/fps/qr/image",
    ] {
        let operation = &doc["paths"][path]["post"];
        assert_eq!(operation["tags"], json!(["fps"]), "{path}");
        assert!(operation["responses"]["422"].is_object(), "{path}");
    }
    let image = &doc["paths"]["/api/v1/fps/qr/image"]["post"]["responses"]["200"]["content"];
    assert!(
        image["image/png"].is_object() && image["image/svg+xml"].is_object(),
        "{image}"
    );
    Ok(())
}
