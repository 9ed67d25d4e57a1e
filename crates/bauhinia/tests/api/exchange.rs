//! The exchange's public reference API: the directory with published keys, the products and
//! their schemas, the gateway's JWKS; bad filters and unknown ids are problems with codes.

use axum::http::StatusCode;

use super::{app, get};

#[tokio::test]
async fn the_directory_products_and_gateway_keys_are_published() {
    let app = app().await;
    let all = get(&app, "/api/v1/exchange/participants").await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text());
    let all = all.json();
    let all = all.as_array().expect("a list");
    assert!(all.len() >= 60, "the demo directory: {}", all.len());
    let hsbc = all
        .iter()
        .find(|p| p["fps_code"] == "004")
        .expect("the FPS demo's bank 004 is a participant");
    assert_eq!(hsbc["status"], "active");
    let keys = hsbc["jwks"]["keys"].as_array().expect("published keys");
    assert!(!keys.is_empty());
    assert!(keys.iter().all(|k| k.get("d").is_none()), "no private part");

    let banks = get(&app, "/api/v1/exchange/participants?licence=digital_bank").await;
    let banks = banks.json();
    let banks = banks.as_array().expect("a list");
    assert_eq!(
        banks.len(),
        8,
        "eight digital bank licences, as the fact sheet says"
    );
    assert!(banks.iter().all(|p| p["licence"] == "digital_bank"));

    let id = hsbc["id"].as_str().expect("an id");
    let one = get(&app, &format!("/api/v1/exchange/participants/{id}")).await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.json()["id"], id);

    let missing = get(&app, "/api/v1/exchange/participants/no-such-bank").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.json()["code"], "exchange.participant_not_found");
    let bad = get(&app, "/api/v1/exchange/participants?licence=pirate").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.json()["code"], "request.invalid_query");
    let unknown = get(&app, "/api/v1/exchange/participants?colour=red").await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);

    let products = get(&app, "/api/v1/exchange/products").await;
    assert_eq!(products.status, StatusCode::OK);
    let products = products.json();
    let products = products.as_array().expect("a list");
    assert_eq!(products.len(), 10);
    let balance = products
        .iter()
        .find(|p| p["id"] == "iads.balance")
        .expect("IADS balance");
    assert_eq!(balance["system"], "IADS");
    assert!(!balance["providers"]
        .as_array()
        .expect("providers")
        .is_empty());
    let schema = get(&app, balance["schema"].as_str().expect("a link")).await;
    assert_eq!(schema.status, StatusCode::OK);
    assert_eq!(schema.content_type(), "application/schema+json");
    assert!(schema.json().get("$schema").is_some());
    let no_schema = get(&app, "/api/v1/exchange/products/iads.secrets/schema").await;
    assert_eq!(no_schema.status, StatusCode::NOT_FOUND);
    assert_eq!(no_schema.json()["code"], "exchange.product_not_found");

    let jwks = get(&app, "/api/v1/exchange/jwks").await;
    assert_eq!(jwks.status, StatusCode::OK);
    assert_eq!(jwks.content_type(), "application/jwk-set+json");
    let jwks = jwks.json();
    let keys = jwks["keys"].as_array().expect("keys");
    assert!(!keys.is_empty());
    assert!(keys
        .iter()
        .all(|k| k["crv"] == "P-256" && k.get("d").is_none()));
}
