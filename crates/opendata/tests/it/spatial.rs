//! Spatial data: HK1980 Grid conversion against published control points, GeoJSON checking,
//! the OGC query parameters (cases and proptests), the synthetic layers, the store on both
//! dialects, and the OGC API through the router.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use bauhinia_opendata::domain::{DatasetDraft, ResourceDraft, TextDraft};
use bauhinia_opendata::spatial::crs::{wgs84_to_hk1980, Crs, ToWgs84};
use bauhinia_opendata::spatial::features::prepare;
use bauhinia_opendata::spatial::land::{self, HK_BBOX};
use bauhinia_opendata::spatial::query::{parse_datetime, parse_items, LIMIT_MAX};
use bauhinia_opendata::spatial::synthetic;
use bauhinia_opendata::{OpenData, OpendataError};
use bauhinia_store::testing::TestDb;
use http_body_util::BodyExt;
use proptest::prelude::*;
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::domain::good_draft;
use crate::store::counter;

/// Metres between two WGS84 points (equirectangular: exact enough over a few metres).
fn metres(a: (f64, f64), b: (f64, f64)) -> f64 {
    let r = 6_371_000.0_f64;
    let lat = ((a.1 + b.1) / 2.0).to_radians();
    let dx = (a.0 - b.0).to_radians() * lat.cos() * r;
    let dy = (a.1 - b.1).to_radians() * r;
    (dx * dx + dy * dy).sqrt()
}

#[test]
fn hk1980_grid_converts_to_wgs84_within_two_metres_of_published_points() {
    let grid = ToWgs84::new(Crs::Hk1980Grid).unwrap();
    // The Survey and Mapping Office's online transformation tool, as quoted by users of it:
    // (easting, northing) → (longitude, latitude) in WGS84.
    let control = [
        // Gloucester Road, by the Revenue Tower (a Transport Department journey-time sign).
        (
            (835_776.133, 815_604.834),
            (114.172_101_664, 22.279_311_622),
        ),
    ];
    for ((e, n), expected) in control {
        let got = grid.convert(e, n).unwrap();
        let off = metres(got, expected);
        assert!(
            off < 2.0,
            "({e}, {n}) → {got:?}, {off:.3} m from {expected:?}"
        );
    }
    // The tool's WGS84 UTM zone 50Q answer (to the metre) for 832591.320 E, 820351.389 N.
    let (lon, lat) = grid.convert(832_591.320, 820_351.389).unwrap();
    let utm =
        proj4rs::proj::Proj::from_proj_string("+proj=utm +zone=50 +datum=WGS84 +units=m").unwrap();
    let wgs84 = proj4rs::proj::Proj::from_proj_string("+proj=longlat +datum=WGS84").unwrap();
    let mut p = (lon.to_radians(), lat.to_radians(), 0.0);
    proj4rs::transform::transform(&wgs84, &utm, &mut p).unwrap();
    let off = ((p.0 - 205_494.0).powi(2) + (p.1 - 2_471_279.0).powi(2)).sqrt();
    assert!(
        off < 2.0,
        "UTM ({}, {}) is {off:.3} m from the tool's",
        p.0,
        p.1
    );
}

#[test]
fn crs_names_are_read_as_geojson_and_ogc_write_them() {
    for (name, crs) in [
        ("urn:ogc:def:crs:EPSG::2326", Some(Crs::Hk1980Grid)),
        ("EPSG:2326", Some(Crs::Hk1980Grid)),
        (
            "http://www.opengis.net/def/crs/EPSG/0/2326",
            Some(Crs::Hk1980Grid),
        ),
        ("urn:ogc:def:crs:OGC:1.3:CRS84", Some(Crs::Crs84)),
        (
            "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
            Some(Crs::Crs84),
        ),
        ("EPSG:4326", Some(Crs::Crs84)),
        ("EPSG:3857", None),
        ("", None),
    ] {
        assert_eq!(Crs::parse(name), crs, "{name}");
    }
}

proptest! {
    #[test]
    fn grid_to_wgs84_and_back_is_within_a_millimetre(
        e in 800_000.0_f64..870_000.0,
        n in 800_000.0_f64..850_000.0,
    ) {
        let grid = ToWgs84::new(Crs::Hk1980Grid).unwrap();
        let (lon, lat) = grid.convert(e, n).unwrap();
        prop_assert!((113.5..114.7).contains(&lon) && (22.0..22.8).contains(&lat));
        let (e2, n2) = wgs84_to_hk1980(lon, lat).unwrap();
        prop_assert!((e - e2).abs() < 1e-3 && (n - n2).abs() < 1e-3, "{e},{n} → {e2},{n2}");
    }

    #[test]
    fn items_parameters_never_panic_and_name_their_faults(query in ".{0,200}") {
        let queryables = vec!["district_en".to_owned()];
        match parse_items(&query, &queryables) {
            Ok(q) => {
                prop_assert!((1..=LIMIT_MAX).contains(&q.limit));
                if let Some(b) = q.bbox {
                    prop_assert!(b.min_x <= b.max_x && b.min_y <= b.max_y);
                }
            }
            Err(faults) => {
                prop_assert!(!faults.is_empty());
                for f in faults {
                    prop_assert!(f.pointer.is_empty() || f.pointer.starts_with('/'));
                    prop_assert!(!f.detail.is_empty());
                }
            }
        }
    }

    #[test]
    fn any_bbox_inside_the_world_is_read_back(
        a in -180.0_f64..180.0, b in -90.0_f64..90.0, c in -180.0_f64..180.0, d in -90.0_f64..90.0,
    ) {
        let (w, e) = (a.min(c), a.max(c));
        let (s, n) = (b.min(d), b.max(d));
        let q = parse_items(&format!("bbox={w},{s},{e},{n}&limit=100"), &[]).unwrap();
        let bbox = q.bbox.unwrap();
        prop_assert_eq!([bbox.min_x, bbox.min_y, bbox.max_x, bbox.max_y], [w, s, e, n]);
        prop_assert_eq!(q.limit, 100);
    }

    #[test]
    fn any_date_interval_contains_its_ends(start in 0_i64..4_000_000_000, len in 0_i64..1_000_000_000) {
        let text = |s: i64| time::OffsetDateTime::from_unix_timestamp(s).unwrap()
            .format(&time::format_description::well_known::Rfc3339).unwrap();
        let interval = parse_datetime(&format!("{}/{}", text(start), text(start + len))).unwrap();
        prop_assert!(interval.contains(start) && interval.contains(start + len));
        prop_assert!(!interval.contains(start - 1) && !interval.contains(start + len + 1));
    }
}

#[test]
fn items_parameters_cases() {
    let q = ["district_en".to_owned(), "sensor_count".to_owned()];
    let ok = |text: &str| parse_items(text, &q).unwrap();
    let bad = |text: &str| {
        parse_items(text, &q)
            .unwrap_err()
            .into_iter()
            .map(|f| f.pointer)
            .collect::<Vec<_>>()
    };
    assert_eq!(ok("").limit, 10);
    assert_eq!(ok("limit=10000").limit, 10_000);
    assert_eq!(ok("limit=99999").limit, LIMIT_MAX, "served as the maximum");
    assert_eq!(ok("offset=20").offset, 20);
    assert!(
        ok("bbox=114.1,22.2,114.2,22.3&bbox-crs=http://www.opengis.net/def/crs/OGC/1.3/CRS84")
            .bbox
            .is_some()
    );
    assert!(
        ok("bbox=114.1,22.2,0,114.2,22.3,100").bbox.is_some(),
        "six numbers, heights ignored"
    );
    assert_eq!(
        ok("district_en=Wan%20Chai").filters,
        vec![(0, "Wan Chai".to_owned())]
    );
    assert_eq!(
        ok("datetime=2024-01-01").datetime.unwrap().start,
        Some(1_704_067_200)
    );
    assert_eq!(
        ok("datetime=../2024-01-01T00:00:00Z")
            .datetime
            .unwrap()
            .start,
        None
    );
    assert_eq!(
        ok("datetime=2024-01-01T00:00:00Z/..").datetime.unwrap().end,
        None
    );
    assert_eq!(ok("f=json").limit, 10);
    for (text, pointer) in [
        ("limit=0", "/limit"),
        ("limit=-1", "/limit"),
        ("limit=ten", "/limit"),
        ("offset=-5", "/offset"),
        ("bbox=1,2,3", "/bbox"),
        ("bbox=114.2,22.2,114.1,22.3", "/bbox"),
        ("bbox=114.1,22.3,114.2,22.2", "/bbox"),
        ("bbox=114,22,200,23", "/bbox"),
        ("bbox=a,b,c,d", "/bbox"),
        ("bbox=NaN,1,2,3", "/bbox"),
        ("bbox=114.1,22.2,114.2,22.3&bbox-crs=EPSG:2326", "/bbox-crs"),
        (
            "bbox-crs=http://www.opengis.net/def/crs/OGC/1.3/CRS84",
            "/bbox-crs",
        ),
        ("datetime=yesterday", "/datetime"),
        ("datetime=2025-01-01/2024-01-01", "/datetime"),
        ("f=xml", "/f"),
        ("colour=red", "/colour"),
        ("limit=5&limit=6", "/limit"),
        ("district_en=%27%20OR%201=1--&district_en=x", "/district_en"),
    ] {
        assert_eq!(bad(text), [pointer], "{text}");
    }
}

fn collection(features: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({ "type": "FeatureCollection", "features": features })).unwrap()
}

fn point(id: Value, lon: f64, lat: f64, properties: Value) -> Value {
    json!({ "type": "Feature", "id": id, "geometry": { "type": "Point", "coordinates": [lon, lat] }, "properties": properties })
}

#[test]
fn invalid_geojson_is_refused_naming_the_feature_and_member() {
    let pointers = |bytes: &[u8]| -> Vec<String> {
        prepare(bytes, None)
            .unwrap_err()
            .into_iter()
            .map(|f| f.pointer)
            .collect()
    };
    assert_eq!(pointers(b"not json"), [""]);
    assert_eq!(
        pointers(br#"{"type":"Feature","geometry":null,"properties":{}}"#),
        ["/type"]
    );
    assert_eq!(pointers(br#"{"type":"FeatureCollection"}"#), ["/features"]);
    let good = point(json!(1), 114.17, 22.3, json!({}));
    let cases = [
        (
            json!([good, { "type": "Feature", "geometry": { "type": "Pointy", "coordinates": [1, 2] }, "properties": {} }]),
            "/features/1",
        ),
        (
            json!([good, { "type": "Feature", "geometry": { "type": "Point", "coordinates": [1] }, "properties": {} }]),
            "/features/1",
        ),
        (
            json!([good, point(json!(2), 214.17, 22.3, json!({}))]),
            "/features/1/geometry/coordinates",
        ),
        (
            json!([good, point(json!(2), 114.17, 95.0, json!({}))]),
            "/features/1/geometry/coordinates",
        ),
        (
            json!([good, point(json!(1), 114.17, 22.3, json!({}))]),
            "/features/1/id",
        ),
        (
            json!([good, point(json!(""), 114.17, 22.3, json!({}))]),
            "/features/1/id",
        ),
        (
            json!([
                good,
                point(json!(2), 114.17, 22.3, json!({ "datetime": "last week" }))
            ]),
            "/features/1/properties/datetime",
        ),
        (
            json!([
                good,
                point(json!(2), 114.17, 22.3, json!({ "datetime": 2024 }))
            ]),
            "/features/1/properties/datetime",
        ),
        (
            json!([{ "type": "Feature", "geometry": { "type": "Polygon", "coordinates": [[[114.1, 22.3], [114.2, 22.3], [114.2, 22.4], [114.1, 22.4]]] }, "properties": {} }]),
            "/features/0/geometry/coordinates/0",
        ),
        (
            json!([{ "type": "Feature", "geometry": { "type": "Polygon", "coordinates": [[[114.1, 22.3], [114.2, 22.3], [114.1, 22.3]]] }, "properties": {} }]),
            "/features/0/geometry/coordinates/0",
        ),
        (
            json!([{ "type": "Feature", "geometry": { "type": "LineString", "coordinates": [[114.1, 22.3]] }, "properties": {} }]),
            "/features/0/geometry/coordinates",
        ),
        (
            json!([{ "type": "Feature", "geometry": { "type": "GeometryCollection", "geometries": [{ "type": "Point", "coordinates": [114.1, 22.3, 1.0, 2.0] }] }, "properties": {} }]),
            "/features/0/geometry/geometries/0/coordinates",
        ),
    ];
    for (features, pointer) in cases {
        assert_eq!(
            pointers(&collection(features.clone())),
            [pointer],
            "{features}"
        );
    }
    let unknown_crs = br#"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:3857"}},"features":[]}"#;
    assert_eq!(pointers(unknown_crs), ["/crs/properties/name"]);
    let grid = br#"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::2326"}},"features":[]}"#;
    let clash: Vec<String> = prepare(grid, Some(Crs::Crs84))
        .unwrap_err()
        .into_iter()
        .map(|f| f.pointer)
        .collect();
    assert_eq!(clash, ["/crs"]);
}

#[test]
fn a_grid_upload_is_detected_converted_and_summarised() {
    let bytes = br#"{"type":"FeatureCollection",
        "crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::2326"}},
        "features":[
          {"type":"Feature","geometry":{"type":"Point","coordinates":[835776.133,815604.834]},
           "properties":{"name":"Gloucester Road","datetime":"2024-03-01","lanes":3,"tags":["a"]}},
          {"type":"Feature","id":"sq","geometry":{"type":"Polygon","coordinates":[[[835000,815000],[836000,815000],[836000,816000],[835000,816000],[835000,815000]]]},
           "properties":{"name":"A square","datetime":"2024-05-01T08:00:00+08:00"}}]}"#;
    let prepared = prepare(bytes, None).unwrap();
    assert_eq!(prepared.source_crs, Crs::Hk1980Grid);
    assert_eq!(prepared.features.len(), 2);
    let first = &prepared.features[0];
    assert_eq!(first.id, "1", "position from 1 when the feature has no id");
    let b = first.bbox.unwrap();
    assert!(metres((b.min_x, b.min_y), (114.172_101_664, 22.279_311_622)) < 2.0);
    let served: Value = serde_json::from_str(&first.geojson).unwrap();
    assert_eq!(served["type"], "Feature");
    assert_eq!(served["id"], 1);
    assert_eq!(served["properties"]["lanes"], 3);
    let lon = served["geometry"]["coordinates"][0].as_f64().unwrap();
    assert!((114.0..114.3).contains(&lon));
    assert_eq!(prepared.features[1].id, "sq");
    assert_eq!(prepared.interval, Some((1_709_251_200, 1_714_521_600)));
    assert_eq!(
        prepared.queryables,
        ["lanes", "name"],
        "tags is a list; datetime is reserved"
    );
    let extent = prepared.extent.unwrap();
    assert!(extent.min_x < extent.max_x && extent.min_y < extent.max_y);
}

#[test]
fn the_synthetic_layers_are_on_land_deterministic_and_labelled() {
    let hotspots = synthetic::hotspots(synthetic::HOTSPOTS);
    let lampposts = synthetic::lampposts(synthetic::LAMPPOSTS);
    assert_eq!(hotspots["features"].as_array().unwrap().len(), 42_000);
    const { assert!(synthetic::LAMPPOSTS > 900) };
    assert_eq!(hotspots, synthetic::hotspots(synthetic::HOTSPOTS), "seeded");
    let hot = prepare(&serde_json::to_vec(&hotspots).unwrap(), None).unwrap();
    let lamp = prepare(&serde_json::to_vec(&lampposts).unwrap(), None).unwrap();
    assert_eq!(lamp.source_crs, Crs::Hk1980Grid, "the crs member is read");
    assert_eq!(lamp.features.len(), synthetic::LAMPPOSTS);
    assert!(
        hot.queryables.contains(&"district_en".to_owned()),
        "{:?}",
        hot.queryables
    );
    assert!(hot.queryables.contains(&"venue_type_zh_hant".to_owned()));
    assert!(
        !hot.queryables.contains(&"name_en".to_owned()),
        "thousands of distinct names are no filter"
    );
    let [w, s, e, n] = HK_BBOX;
    for f in hot.features.iter().chain(&lamp.features) {
        let b = f.bbox.unwrap();
        assert!(
            land::on_land(b.min_x, b.min_y),
            "{} at {b:?} is not on land",
            f.id
        );
        assert!(
            (w..=e).contains(&b.min_x) && (s..=n).contains(&b.min_y),
            "{}",
            f.id
        );
    }
    let districts: std::collections::HashSet<&str> = hotspots["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["district_en"].as_str().unwrap())
        .collect();
    assert!(districts.len() >= 15, "{districts:?}");
    let fact_sheet =
        include_str!("../../../funding/data/factsheet-2026-02.zh-Hans.txt").replace("**", "");
    assert!(fact_sheet.contains(synthetic::HOTSPOTS_SOURCE));
    assert!(fact_sheet.contains(synthetic::LAMPPOSTS_SOURCE));
}

#[test]
fn the_land_polygons_leave_out_the_harbour() {
    // Victoria Harbour between Central and Tsim Sha Tsui, Tolo Harbour, and the sea off Lamma.
    for (lon, lat) in [
        (114.165, 22.290),
        (114.24, 22.45),
        (114.10, 22.20),
        (113.80, 22.30),
    ] {
        assert!(!land::on_land(lon, lat), "({lon}, {lat})");
    }
    for (lon, lat) in [(114.158, 22.270), (114.172, 22.318), (113.93, 22.31)] {
        assert!(land::on_land(lon, lat), "({lon}, {lat})");
    }
}

const SITE: &str = "http://localhost:8080";

/// A catalogue with a GeoJSON dataset; returns the service and the dataset and resource ids.
async fn with_geojson_dataset(test: &TestDb) -> (OpenData, String, String) {
    let open = OpenData::start(&test.db, SITE, &test.files, 1_700_000_000)
        .await
        .unwrap();
    let org = bauhinia_opendata::domain::Organization {
        id: "00000000-0000-4000-8000-00000000000a".into(),
        name: bauhinia_opendata::domain::Name::parse("hk-td").unwrap(),
        kind: bauhinia_opendata::domain::OrgKind::Department,
        title: bauhinia_core::Localized {
            en: "TD".into(),
            zh_hant: "運輸署".into(),
            zh_hans: "运输署".into(),
        },
        description: bauhinia_core::Localized {
            en: "d".into(),
            zh_hant: "d".into(),
            zh_hans: "d".into(),
        },
        url: None,
        created_s: 0,
    };
    open.store()
        .insert_organization(&org, "test")
        .await
        .unwrap();
    let geojson = ResourceDraft {
        name: TextDraft::new("Signs", "標誌", "标志"),
        description: TextDraft::new("Signs", "標誌", "标志"),
        format: "GeoJSON".into(),
        url: "https://example.invalid/signs.geojson".into(),
        size_bytes: None,
        hash: String::new(),
    };
    let d = DatasetDraft {
        name: "hk-td-signs".into(),
        ..good_draft()
    }
    .validate(&[geojson.clone(), geojson], counter(), 1_700_000_000)
    .unwrap();
    open.store().insert_dataset(&d, "test").await.unwrap();
    let resource = d.resources[0].id.clone();
    (open, d.id, resource)
}

fn signs() -> Vec<u8> {
    collection(json!([
        point(
            json!("a"),
            114.15,
            22.28,
            json!({ "district": "Central and Western", "lanes": 2, "datetime": "2024-01-10" })
        ),
        point(
            json!("b"),
            114.17,
            22.30,
            json!({ "district": "Yau Tsim Mong", "lanes": 3, "datetime": "2024-06-10" })
        ),
        point(
            json!("c"),
            114.03,
            22.45,
            json!({ "district": "Yuen Long", "lanes": 2 })
        ),
    ]))
}

async fn store_suite(test: &TestDb) {
    let (open, dataset, resource) = with_geojson_dataset(test).await;
    let meta = open
        .publish_features(&dataset, &resource, &signs(), None, "test", 1_700_000_100)
        .await
        .unwrap();
    assert_eq!(meta.id, "hk-td-signs");
    assert_eq!(meta.feature_count, 3);
    assert_eq!(open.spatial().get_public("hk-td-signs").unwrap().len(), 3);

    // A private dataset's collection is stored but not served until the dataset is public.
    let private_geojson = ResourceDraft {
        format: "GeoJSON".into(),
        ..crate::domain::good_resource()
    };
    let private = DatasetDraft {
        name: "hk-td-private-signs".into(),
        private: true,
        ..good_draft()
    }
    .validate(
        &[private_geojson],
        || uuid::Uuid::new_v4().to_string(),
        1_700_000_000,
    )
    .unwrap();
    open.store().insert_dataset(&private, "test").await.unwrap();
    let hidden = open
        .publish_features(
            &private.id,
            &private.resources[0].id,
            &signs(),
            None,
            "test",
            1,
        )
        .await
        .unwrap();
    assert!(open.spatial().get(&hidden.id).is_some());
    assert!(open.spatial().get_public(&hidden.id).is_none());
    open.spatial().set_dataset_public(&dataset, false);
    assert!(open.spatial().get_public("hk-td-signs").is_none());
    open.sync_spatial_visibility(&dataset).await.unwrap();
    assert!(
        open.spatial().get_public("hk-td-signs").is_some(),
        "the dataset is public"
    );

    // A bad upload changes nothing: the old features are still stored and served.
    let bad = collection(json!([
        point(json!("x"), 114.1, 22.3, json!({})),
        point(json!("x"), 114.1, 22.3, json!({}))
    ]));
    let err = open
        .publish_features(&dataset, &resource, &bad, None, "test", 1)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, OpendataError::Invalid(f) if f[0].pointer == "/features/1/id"),
        "{err:?}"
    );
    let wrong = open
        .publish_features(&dataset, "no-such-resource", &signs(), None, "test", 1)
        .await;
    assert!(matches!(wrong, Err(OpendataError::NotFound(_))));

    // A second GeoJSON resource of the dataset gets an id of its own.
    let second = open
        .store()
        .dataset(&dataset)
        .await
        .unwrap()
        .unwrap()
        .resources[1]
        .id
        .clone();
    let other = open
        .publish_features(&dataset, &second, &signs(), None, "test", 1)
        .await
        .unwrap();
    assert_ne!(other.id, meta.id);
    assert!(other.id.starts_with("hk-td-signs-"));

    // Republishing replaces; a restart serves what is stored.
    let two = collection(json!([
        point(json!("a"), 114.15, 22.28, json!({})),
        point(json!("z"), 114.16, 22.29, json!({}))
    ]));
    open.publish_features(&dataset, &resource, &two, None, "test", 1_700_000_200)
        .await
        .unwrap();
    // (Another directory: this process still holds the first one's search index lock.)
    let again = OpenData::start(&test.db, SITE, &test.files.join("again"), 0)
        .await
        .unwrap();
    let layer = again.spatial().get("hk-td-signs").unwrap();
    assert_eq!(layer.len(), 2);
    assert!(layer.feature("z").is_some() && layer.feature("b").is_none());
    assert_eq!(layer.meta.modified_s, 1_700_000_200);
    assert_eq!(again.spatial().all().len(), 3);
    assert!(
        again.spatial().get_public("hk-td-private-signs").is_none(),
        "still private after a restart"
    );
    let audit = test
        .db
        .audit_for_subject("opendata_collection:hk-td-signs", 10)
        .await
        .unwrap();
    assert_eq!(
        audit.len(),
        2,
        "one event per publication, none for the refused one"
    );
}

#[tokio::test]
async fn store_sqlite() {
    let test = TestDb::sqlite().await.unwrap();
    store_suite(&test).await;
}

#[tokio::test]
async fn store_postgres() {
    let Some(test) = TestDb::postgres().await.expect("postgres test database") else {
        return;
    };
    store_suite(&test).await;
    test.cleanup().await.unwrap();
}

async fn ogc() -> (Router, TestDb) {
    let test = TestDb::sqlite().await.unwrap();
    let (open, dataset, resource) = with_geojson_dataset(&test).await;
    open.publish_features(&dataset, &resource, &signs(), None, "test", 1_700_000_100)
        .await
        .unwrap();
    (bauhinia_opendata::http::router(Arc::new(open)), test)
}

async fn get(router: &Router, uri: &str, accept: Option<&str>) -> (StatusCode, String, Value) {
    let mut request = Request::get(uri);
    if let Some(a) = accept {
        request = request.header(header::ACCEPT, a);
    }
    let response = router
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let media = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        media,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn ids(body: &Value) -> Vec<&str> {
    body["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect()
}

fn href<'a>(body: &'a Value, rel: &str) -> Option<&'a str> {
    body["links"].as_array()?.iter().find(|l| l["rel"] == rel)?["href"].as_str()
}

#[tokio::test]
async fn the_ogc_api_serves_landing_conformance_and_collections() {
    let (router, _db) = ogc().await;
    let (status, media, landing) = get(&router, "/ogc", None).await;
    assert_eq!(
        (status, media.as_str()),
        (StatusCode::OK, "application/json")
    );
    for rel in ["self", "service-desc", "conformance", "data"] {
        assert!(href(&landing, rel).is_some(), "{rel}");
    }
    let (_, _, conformance) = get(&router, "/ogc/conformance?f=json", None).await;
    let classes = conformance["conformsTo"].as_array().unwrap();
    assert!(classes.contains(&json!(
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"
    )));
    assert!(classes.contains(&json!(
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson"
    )));
    assert!(!classes.contains(&json!(
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html"
    )));
    let (status, media, api) = get(&router, "/ogc/api", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(media.starts_with("application/vnd.oai.openapi+json"));
    assert_eq!(api["openapi"], "3.0.3");
    assert!(api["paths"]["/collections/{collectionId}/items"]["get"].is_object());

    let (_, _, list) = get(&router, "/ogc/collections", None).await;
    let c = &list["collections"][0];
    assert_eq!(c["id"], "hk-td-signs");
    assert_eq!(
        c["extent"]["spatial"]["crs"],
        "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    );
    assert_eq!(
        c["extent"]["spatial"]["bbox"][0],
        json!([114.03, 22.28, 114.17, 22.45])
    );
    assert_eq!(
        c["extent"]["temporal"]["interval"][0][0],
        "2024-01-10T00:00:00Z"
    );
    assert_eq!(c["itemType"], "feature");
    let (status, _, one) = get(&router, "/ogc/collections/hk-td-signs", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one, *c);
    assert_eq!(
        href(&one, "items"),
        Some("http://localhost:8080/ogc/collections/hk-td-signs/items")
    );
}

#[tokio::test]
async fn items_are_filtered_by_bbox_datetime_and_properties_and_paged() {
    let (router, _db) = ogc().await;
    let base = "/ogc/collections/hk-td-signs/items";
    let (status, media, all) = get(&router, base, Some("application/geo+json")).await;
    assert_eq!(
        (status, media.as_str()),
        (StatusCode::OK, "application/geo+json")
    );
    assert_eq!(all["type"], "FeatureCollection");
    assert_eq!(
        (
            all["numberMatched"].as_u64(),
            all["numberReturned"].as_u64()
        ),
        (Some(3), Some(3))
    );
    assert!(all["timeStamp"].as_str().unwrap().ends_with('Z'));
    assert_eq!(ids(&all), ["a", "b", "c"]);
    assert!(href(&all, "next").is_none());

    let (_, _, urban) = get(
        &router,
        &format!("{base}?bbox=114.1,22.2,114.2,22.35"),
        None,
    )
    .await;
    assert_eq!(ids(&urban), ["a", "b"]);
    let (_, _, none) = get(&router, &format!("{base}?bbox=113.0,21.0,113.1,21.1"), None).await;
    assert_eq!(
        (none["numberMatched"].as_u64(), ids(&none).len()),
        (Some(0), 0)
    );

    let (_, _, page) = get(&router, &format!("{base}?limit=1&offset=1"), None).await;
    assert_eq!(ids(&page), ["b"]);
    assert_eq!(page["numberMatched"], 3);
    assert_eq!(
        href(&page, "next"),
        Some("http://localhost:8080/ogc/collections/hk-td-signs/items?limit=1&offset=2")
    );
    assert_eq!(
        href(&page, "prev"),
        Some("http://localhost:8080/ogc/collections/hk-td-signs/items?limit=1&offset=0")
    );

    let (_, _, dated) = get(
        &router,
        &format!("{base}?datetime=2024-06-01T00:00:00Z/.."),
        None,
    )
    .await;
    assert_eq!(ids(&dated), ["b"]);
    let (_, _, day) = get(&router, &format!("{base}?datetime=2024-01-10"), None).await;
    assert_eq!(ids(&day), ["a"]);
    let (_, _, lanes) = get(&router, &format!("{base}?lanes=2"), None).await;
    assert_eq!(ids(&lanes), ["a", "c"]);
    let (_, _, both) = get(
        &router,
        &format!("{base}?lanes=2&district=Yuen%20Long&bbox=113.9,22.4,114.1,22.5"),
        None,
    )
    .await;
    assert_eq!(ids(&both), ["c"]);

    let (status, media, feature) = get(&router, &format!("{base}/b"), None).await;
    assert_eq!(
        (status, media.as_str()),
        (StatusCode::OK, "application/geo+json")
    );
    assert_eq!(feature["properties"]["district"], "Yau Tsim Mong");
    assert_eq!(
        href(&feature, "collection"),
        Some("http://localhost:8080/ogc/collections/hk-td-signs")
    );
}

#[tokio::test]
async fn bad_requests_get_ogc_exceptions() {
    let (router, _db) = ogc().await;
    for (uri, status, code) in [
        ("/ogc/collections/nope", StatusCode::NOT_FOUND, "NotFound"),
        (
            "/ogc/collections/nope/items",
            StatusCode::NOT_FOUND,
            "NotFound",
        ),
        (
            "/ogc/collections/hk-td-signs/items/zz",
            StatusCode::NOT_FOUND,
            "NotFound",
        ),
        (
            "/ogc/collections/hk-td-signs/items?bbox=1,2",
            StatusCode::BAD_REQUEST,
            "InvalidParameterValue",
        ),
        (
            "/ogc/collections/hk-td-signs/items?limit=0",
            StatusCode::BAD_REQUEST,
            "InvalidParameterValue",
        ),
        (
            "/ogc/collections/hk-td-signs/items?colour=red",
            StatusCode::BAD_REQUEST,
            "InvalidParameterValue",
        ),
        (
            "/ogc/collections/hk-td-signs/items?f=html",
            StatusCode::BAD_REQUEST,
            "InvalidParameterValue",
        ),
        (
            "/ogc/collections?limit=5",
            StatusCode::BAD_REQUEST,
            "InvalidParameterValue",
        ),
    ] {
        let (got, media, body) = get(&router, uri, None).await;
        assert_eq!((got, media.as_str()), (status, "application/json"), "{uri}");
        assert_eq!(body["code"], code, "{uri}");
        assert!(!body["description"].as_str().unwrap().is_empty(), "{uri}");
    }
    let (status, _, body) = get(&router, "/ogc/collections", Some("text/html")).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_ACCEPTABLE, Some("NotAcceptable"))
    );
    let (status, _, _) = get(&router, "/ogc/collections", Some("text/html,*/*;q=0.8")).await;
    assert_eq!(status, StatusCode::OK);
}
