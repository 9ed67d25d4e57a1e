//! The OGC API's definition, OpenAPI 3.0 (the `oas30` conformance class): its paths, their
//! parameters with the limits `query` enforces, and their answers' media types.

use serde_json::{json, Value};

use super::query::{LIMIT_DEFAULT, LIMIT_MAX};

fn ok(description: &str, media: &str) -> Value {
    json!({
        "200": { "description": description, "content": { media: { "schema": { "type": "object" } } } },
        "400": { "$ref": "#/components/responses/Exception" },
    })
}

fn get(summary: &str, id: &str, parameters: Value, responses: Value) -> Value {
    json!({ "get": { "summary": summary, "operationId": id, "parameters": parameters, "responses": responses } })
}

/// The document, with `base` (`…/ogc`) as its server.
pub fn document(base: &str) -> Value {
    let f = json!({ "$ref": "#/components/parameters/f" });
    let collection_id = json!({ "$ref": "#/components/parameters/collectionId" });
    let mut items = ok("A GeoJSON FeatureCollection", "application/geo+json");
    let mut one = ok("A GeoJSON Feature", "application/geo+json");
    for r in [&mut items, &mut one] {
        if let Value::Object(m) = r {
            m.insert(
                "404".into(),
                json!({ "$ref": "#/components/responses/Exception" }),
            );
        }
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Bauhinia spatial data: OGC API – Features",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "GeoJSON resources of the open data catalogue as OGC API – Features (Part 1: Core, GeoJSON) collections, in CRS84.",
        },
        "servers": [{ "url": base }],
        "paths": {
            "/": get("Landing page", "getLandingPage", json!([f]), ok("Links to the API", "application/json")),
            "/conformance": get("Conformance classes", "getConformance", json!([f]), ok("The conformance classes", "application/json")),
            "/api": get("This document", "getApi", json!([f]), ok("The API definition", "application/vnd.oai.openapi+json;version=3.0")),
            "/collections": get("Collections", "getCollections", json!([f]), ok("The collections", "application/json")),
            "/collections/{collectionId}": get("A collection", "describeCollection", json!([collection_id, f]), ok("The collection", "application/json")),
            "/collections/{collectionId}/items": get(
                "Features of a collection",
                "getFeatures",
                json!([
                    collection_id,
                    f,
                    { "$ref": "#/components/parameters/bbox" },
                    { "$ref": "#/components/parameters/bbox-crs" },
                    { "$ref": "#/components/parameters/limit" },
                    { "$ref": "#/components/parameters/offset" },
                    { "$ref": "#/components/parameters/datetime" },
                ]),
                items,
            ),
            "/collections/{collectionId}/items/{featureId}": get(
                "One feature",
                "getFeature",
                json!([collection_id, { "name": "featureId", "in": "path", "required": true, "schema": { "type": "string" } }, f]),
                one,
            ),
        },
        "components": {
            "parameters": {
                "f": { "name": "f", "in": "query", "required": false, "schema": { "type": "string", "enum": ["json", "geojson"] } },
                "collectionId": { "name": "collectionId", "in": "path", "required": true, "schema": { "type": "string" } },
                "bbox": {
                    "name": "bbox", "in": "query", "required": false, "style": "form", "explode": false,
                    "description": "minLon,minLat,maxLon,maxLat in CRS84. Property filters name=value are also accepted for each of a collection's queryables.",
                    "schema": { "type": "array", "minItems": 4, "maxItems": 6, "items": { "type": "number" } },
                },
                "bbox-crs": { "name": "bbox-crs", "in": "query", "required": false, "schema": { "type": "string", "enum": [super::crs::CRS84] } },
                "limit": { "name": "limit", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 1, "maximum": LIMIT_MAX, "default": LIMIT_DEFAULT } },
                "offset": { "name": "offset", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 0, "default": 0 } },
                "datetime": { "name": "datetime", "in": "query", "required": false, "schema": { "type": "string" } },
            },
            "responses": {
                "Exception": {
                    "description": "An OGC exception",
                    "content": { "application/json": { "schema": {
                        "type": "object", "required": ["code"],
                        "properties": { "code": { "type": "string" }, "description": { "type": "string" } },
                    } } },
                },
            },
        },
    })
}
