//! The datastore on both dialects: a CSV and a JSON resource ingested with their types,
//! searched with every parameter of `datastore_search`, replaced whole or not at all, dumped,
//! and never readable through a private dataset. Then the same through the router.

use std::sync::Arc;

use axum::http::StatusCode;
use bauhinia_opendata::action::Params;
use bauhinia_opendata::datastore::query::SearchArgs;
use bauhinia_opendata::domain::{DatasetDraft, Format, ResourceDraft, TextDraft};
use bauhinia_opendata::{OpenData, OpendataError};
use bauhinia_store::testing::TestDb;
use serde_json::{json, Value};

use crate::domain::good_draft;
use crate::store::counter;

const NOW: i64 = 1_700_000_000;

const HOTSPOTS: &str = "district,venue,hotspots,share,opened,indoor\n\
Sha Tin,Sha Tin Town Hall,12,0.5,2019-04-01,true\n\
Tai Po,\"Tai Po Market, Library\",8,0.25,2020-01-15,false\n\
Central and Western,City Hall 大會堂,30,1.5,2018-11-30,true\n\
Sha Tin,Ma On Shan Park,5,,2021-06-01,false\n";

struct Fixture {
    open: OpenData,
    csv: String,
    json: String,
    private: String,
}

fn resource(format: &str) -> ResourceDraft {
    ResourceDraft {
        name: TextDraft::new("Table", "表", "表"),
        description: TextDraft::new("Rows", "列", "列"),
        format: format.into(),
        url: "https://example.org/table".into(),
        size_bytes: None,
        hash: String::new(),
    }
}

async fn fixture(test: &TestDb) -> Fixture {
    let open = OpenData::start(&test.db, "http://localhost", &test.files, NOW)
        .await
        .unwrap();
    bauhinia_opendata::demo::load(&open, NOW).await.unwrap();
    let mut ids = counter();
    let public = DatasetDraft {
        name: "hk-ogcio-wifi-venues".into(),
        ..good_draft()
    }
    .validate(&[resource("CSV"), resource("JSON")], &mut ids, NOW)
    .unwrap();
    open.store().insert_dataset(&public, "test").await.unwrap();
    let private = DatasetDraft {
        name: "hk-ogcio-wifi-plans".into(),
        private: true,
        ..good_draft()
    }
    .validate(&[resource("CSV")], &mut ids, NOW)
    .unwrap();
    open.store().insert_dataset(&private, "test").await.unwrap();
    Fixture {
        csv: public.resources[0].id.clone(),
        json: public.resources[1].id.clone(),
        private: private.resources[0].id.clone(),
        open,
    }
}

async fn search(open: &OpenData, params: Value) -> Result<Value, OpendataError> {
    let params = Params::from_json(params.to_string().as_bytes()).unwrap();
    let args = SearchArgs::parse(&params).map_err(OpendataError::Invalid)?;
    open.datastore()
        .search(&args, "/api/3/action/datastore_search")
        .await
}

fn column(result: &Value, field: &str) -> Vec<Value> {
    result["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[field].clone())
        .collect()
}

async fn suite(test: &TestDb) {
    let f = fixture(test).await;
    let ds = f.open.datastore();
    let info = ds
        .ingest(&f.csv, Format::Csv, HOTSPOTS.as_bytes(), "test", NOW)
        .await
        .unwrap();
    assert_eq!(info.rows, 4);

    // Everything, typed, with the row number first.
    let all = search(&f.open, json!({"resource_id": f.csv}))
        .await
        .unwrap();
    assert_eq!(
        all["fields"],
        json!([
            {"id": "_id", "type": "int"},
            {"id": "district", "type": "text"},
            {"id": "venue", "type": "text"},
            {"id": "hotspots", "type": "int"},
            {"id": "share", "type": "numeric"},
            {"id": "opened", "type": "timestamp"},
            {"id": "indoor", "type": "bool"},
        ])
    );
    assert_eq!(all["total"], 4);
    assert_eq!(
        all["records"][1],
        json!({"_id": 2, "district": "Tai Po", "venue": "Tai Po Market, Library",
               "hotspots": 8, "share": 0.25, "opened": "2020-01-15T00:00:00", "indoor": false})
    );
    assert_eq!(all["records"][3]["share"], Value::Null);

    // Filters (a list is any of them), typed; sort; fields; paging.
    let sha_tin = search(
        &f.open,
        json!({"resource_id": f.csv, "filters": {"district": "Sha Tin"},
               "sort": "hotspots desc", "fields": "venue,hotspots"}),
    )
    .await
    .unwrap();
    assert_eq!(
        sha_tin["records"],
        json!([{"venue": "Sha Tin Town Hall", "hotspots": 12}, {"venue": "Ma On Shan Park", "hotspots": 5}])
    );
    let some = search(
        &f.open,
        json!({"resource_id": f.csv, "filters": {"hotspots": ["8", 30]}, "sort": "_id"}),
    )
    .await
    .unwrap();
    assert_eq!(column(&some, "_id"), [json!(2), json!(3)]);
    let page = search(
        &f.open,
        json!({"resource_id": f.csv, "limit": 2, "offset": 1, "records_format": "lists",
               "fields": ["_id"], "include_total": false}),
    )
    .await
    .unwrap();
    assert_eq!(page["records"], json!([[2], [3]]));
    assert!(page.get("total").is_none(), "{page}");
    assert_eq!(
        page["_links"]["next"],
        json!(format!(
            "/api/3/action/datastore_search?offset=3&resource_id={}",
            f.csv
        ))
    );

    // q: any field, case-insensitive for ASCII, Chinese too; or per field; wildcards literal.
    let q = search(&f.open, json!({"resource_id": f.csv, "q": "LIBRARY"}))
        .await
        .unwrap();
    assert_eq!(column(&q, "_id"), [json!(2)]);
    let q = search(&f.open, json!({"resource_id": f.csv, "q": "大會堂"}))
        .await
        .unwrap();
    assert_eq!(column(&q, "_id"), [json!(3)]);
    let q = search(
        &f.open,
        json!({"resource_id": f.csv, "q": {"district": "tin"}}),
    )
    .await
    .unwrap();
    assert_eq!(q["total"], 2);
    for hostile in [
        "%",
        "_",
        "' OR '1'='1",
        "\"; DROP TABLE opendata_datastore; --",
    ] {
        let none = search(&f.open, json!({"resource_id": f.csv, "q": hostile}))
            .await
            .unwrap();
        assert_eq!(none["total"], 0, "{hostile}");
    }

    // Names and values that do not fit are validation faults naming them.
    for (params, expected) in [
        (
            json!({"resource_id": f.csv, "filters": {"nope": 1}}),
            "field \"nope\" not in table",
        ),
        (
            json!({"resource_id": f.csv, "filters": {"hotspots": "many"}}),
            "is not a int",
        ),
        (
            json!({"resource_id": f.csv, "sort": "venue sideways"}),
            "field \"venue sideways\" not in table",
        ),
        (
            json!({"resource_id": f.csv, "fields": "district; DROP TABLE x"}),
            "not in table",
        ),
    ] {
        let Err(OpendataError::Invalid(faults)) = search(&f.open, params.clone()).await else {
            panic!("{params} was not refused");
        };
        let details: Vec<String> = faults.iter().map(|f| f.detail.clone()).collect();
        assert!(
            details.iter().any(|d| d.contains(expected)),
            "{params}: {details:?}"
        );
    }
    assert!(matches!(
        search(&f.open, json!({"resource_id": "no-such-resource"})).await,
        Err(OpendataError::NotFound(_))
    ));

    // A private dataset's rows are not published.
    ds.ingest(&f.private, Format::Csv, b"a\n1\n", "test", NOW)
        .await
        .unwrap();
    assert!(matches!(
        search(&f.open, json!({"resource_id": f.private})).await,
        Err(OpendataError::Forbidden(_))
    ));

    // A malformed file changes nothing; a good one replaces the rows whole.
    for bad in [
        &b"district,venue\nSha Tin\n"[..],
        b"a,a\n1,2\n",
        b"x\n\xff\n",
    ] {
        let refused = ds.ingest(&f.csv, Format::Csv, bad, "test", NOW).await;
        assert!(
            matches!(refused, Err(OpendataError::Invalid(_))),
            "{refused:?}"
        );
    }
    assert_eq!(
        search(&f.open, json!({"resource_id": f.csv}))
            .await
            .unwrap()["total"],
        4
    );
    ds.ingest(
        &f.csv,
        Format::Csv,
        b"district,count\nIslands,3\n",
        "test",
        NOW + 60,
    )
    .await
    .unwrap();
    let replaced = search(&f.open, json!({"resource_id": f.csv}))
        .await
        .unwrap();
    assert_eq!(
        replaced["records"],
        json!([{"_id": 1, "district": "Islands", "count": 3}])
    );

    // JSON records: nested values are json; keys in the order first seen.
    ds.ingest(
        &f.json,
        Format::Json,
        br#"[{"id": "L-001", "sensors": ["air", "camera"]}, {"id": "L-002", "height_m": 9.5}]"#,
        "test",
        NOW,
    )
    .await
    .unwrap();
    let lamps = search(&f.open, json!({"resource_id": f.json, "sort": "id desc"}))
        .await
        .unwrap();
    assert_eq!(
        lamps["records"],
        json!([
            {"_id": 2, "id": "L-002", "sensors": null, "height_m": 9.5},
            {"_id": 1, "id": "L-001", "sensors": ["air", "camera"], "height_m": null},
        ])
    );
    let info = ds.info(&f.json).await.unwrap();
    assert_eq!(info["meta"]["count"], 2);

    assert!(ds.store().delete(&f.json, "test").await.unwrap());
    assert!(matches!(
        ds.readable(&f.json).await,
        Err(OpendataError::NotFound(_))
    ));
}

#[tokio::test]
async fn datastore_sqlite() {
    let test = TestDb::sqlite().await.unwrap();
    suite(&test).await;
    test.cleanup().await.unwrap();
}

#[tokio::test]
async fn datastore_postgres() {
    let Some(test) = TestDb::postgres().await.unwrap() else {
        eprintln!("datastore: postgres not run (DATABASE_URL unset; scripts/test always sets it)");
        return;
    };
    suite(&test).await;
    test.cleanup().await.unwrap();
    println!("datastore: postgres passed");
}

#[tokio::test]
async fn search_and_dumps_over_http() {
    let test = TestDb::sqlite().await.unwrap();
    let f = fixture(&test).await;
    f.open
        .datastore()
        .ingest(&f.csv, Format::Csv, HOTSPOTS.as_bytes(), "test", NOW)
        .await
        .unwrap();
    // Enough rows for a dump of several pages.
    let mut many = String::from("n,label\n");
    for n in 0..12_345 {
        many.push_str(&format!("{n},\"row {n}, quoted\"\n"));
    }
    f.open
        .datastore()
        .ingest(&f.json, Format::Csv, many.as_bytes(), "test", NOW)
        .await
        .unwrap();
    let private = f.private.clone();
    f.open
        .datastore()
        .ingest(&private, Format::Csv, b"a\n1\n", "test", NOW)
        .await
        .unwrap();
    let (csv_id, many_id) = (f.csv.clone(), f.json.clone());
    let router = bauhinia_opendata::http::router(Arc::new(f.open));

    let filters = "%7B%22district%22%3A%22Sha%20Tin%22%7D";
    let (status, _, text) = crate::fetch(
        &router,
        &format!("/api/3/action/datastore_search?resource_id={csv_id}&filters={filters}&sort=_id"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let answer: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(answer["success"], true);
    assert_eq!(column(&answer["result"], "_id"), [json!(1), json!(4)]);

    let (status, _, text) = crate::fetch(
        &router,
        &format!("/api/action/datastore_search?resource_id={csv_id}&sort=nope"),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let answer: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(answer["error"]["__type"], "Validation Error");
    assert_eq!(
        answer["error"]["sort"],
        json!(["field \"nope\" not in table"])
    );

    let (status, _, text) = crate::fetch(
        &router,
        &format!("/api/3/action/datastore_search?resource_id={private}"),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{text}");

    let (status, content_type, csv) =
        crate::fetch(&router, &format!("/datastore/dump/{many_id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "text/csv; charset=utf-8");
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert_eq!(lines[0], "_id,n,label");
    assert_eq!(lines[1], "1,0,\"row 0, quoted\"");
    assert_eq!(lines[12_345], "12345,12344,\"row 12344, quoted\"");
    assert_eq!(lines.len(), 12_347, "header, rows, and the last line's end");

    let (status, content_type, text) =
        crate::fetch(&router, &format!("/datastore/dump/{many_id}?format=json")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "application/json");
    let dump: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(dump["fields"][1], json!({"id": "n", "type": "int"}));
    assert_eq!(dump["records"].as_array().unwrap().len(), 12_345);
    assert_eq!(
        dump["records"][12_344],
        json!([12_345, 12_344, "row 12344, quoted"])
    );

    for (uri, status, code) in [
        (
            format!("/datastore/dump/{csv_id}?format=xlsx"),
            StatusCode::BAD_REQUEST,
            "opendata.dump_format",
        ),
        (
            "/datastore/dump/nothing".to_owned(),
            StatusCode::NOT_FOUND,
            "opendata.datastore_not_found",
        ),
        (
            format!("/datastore/dump/{private}"),
            StatusCode::FORBIDDEN,
            "opendata.datastore_forbidden",
        ),
    ] {
        let (got, content_type, text) = crate::fetch(&router, &uri).await;
        assert_eq!(got, status, "{uri}: {text}");
        assert_eq!(content_type, "application/problem+json", "{uri}");
        let problem: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(problem["code"], code, "{uri}");
    }
    test.cleanup().await.unwrap();
}
