//! The open data catalogue in the composed application: the demo catalogue is loaded at start,
//! and the CKAN Action API answers at both of CKAN's paths in CKAN's shapes — the app's
//! problem+json handling leaves them alone; the fact sheet's tables are in the datastore and on
//! the portal's dataset pages.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};

use super::{app, get, post_json, send};

#[tokio::test]
async fn the_ckan_action_api_serves_the_demo_catalogue() {
    let app = app().await;
    let list = get(&app, "/api/3/action/package_list").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text());
    assert_eq!(list.content_type(), "application/json;charset=utf-8");
    let list = list.json();
    assert_eq!(list["success"], true);
    let names = list["result"].as_array().expect("names");
    assert!(
        names.iter().any(|n| n == "hk-dpo-opendata-datasets-opened"),
        "{names:?}"
    );

    let groups = post_json(&app, "/api/action/group_list", r#"{"all_fields": true}"#).await;
    assert_eq!(groups.json()["result"].as_array().map(Vec::len), Some(19));

    let org = get(&app, "/api/3/action/organization_show?id=hk-td")
        .await
        .json();
    assert_eq!(org["result"]["title"], "Transport Department");

    let unknown = get(&app, "/api/3/action/package_search").await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        unknown.json(),
        serde_json::json!("Bad request - Action name not known: package_search")
    );

    let missing = get(&app, "/api/3/action/package_show?id=nothing").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.json()["error"]["__type"], "Not Found Error");
}

/// The id of a demo dataset's one resource, from package_show.
async fn resource_of(app: &super::TestApp, dataset: &str) -> String {
    let package = get(app, &format!("/api/3/action/package_show?id={dataset}"))
        .await
        .json();
    assert_eq!(
        package["result"]["resources"][0]["format"], "CSV",
        "{dataset}"
    );
    package["result"]["resources"][0]["id"]
        .as_str()
        .expect("resource id")
        .to_owned()
}

#[tokio::test]
async fn the_fact_sheet_tables_are_in_the_datastore_and_previewed_in_three_languages() {
    let app = app().await;
    let id = resource_of(&app, "hk-itib-international-rankings").await;
    let found = get(
        &app,
        &format!("/api/3/action/datastore_search?resource_id={id}&sort=edition_year%20asc"),
    )
    .await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.text());
    let found = found.json();
    assert_eq!(found["success"], true);
    assert_eq!(found["result"]["total"], 8);
    let records = found["result"]["records"].as_array().expect("records");
    assert_eq!(records.len(), 8);
    assert_eq!(records[0]["ranking_en"], "Digital Intelligence Index");
    assert_eq!(records[0]["edition_year"], 2020);
    assert_eq!(records[0]["global_rank"], 3);
    let imd = records
        .iter()
        .find(|r| r["ranking_en"] == "World Digital Competitiveness Ranking")
        .expect("IMD");
    assert_eq!(
        (imd["regional_rank"].as_i64(), imd["global_rank"].as_i64()),
        (Some(2), Some(4))
    );
    assert!(imd["source"]
        .as_str()
        .is_some_and(|s| s.contains("亚太区第 2、全球第 4")));

    let dump = get(&app, &format!("/datastore/dump/{id}?format=csv")).await;
    assert_eq!(dump.status, StatusCode::OK);
    assert!(dump.text().starts_with("_id,ranking_en,ranking_zh_hant,"));

    for (lang, title, resource) in [
        ("zh-Hant", "香港在創新、數碼競爭力及智慧城市國際排名中的位置", "國際排名（表格）"),
        ("zh-Hans", "香港在创新、数码竞争力及智慧城市国际排名中的位置", "国际排名（表格）"),
        (
            "en",
            "Hong Kong in international rankings of innovation, digital competitiveness and smart cities",
            "International rankings (table)",
        ),
    ] {
        let page = send(
            &app,
            Request::get("/opendata/dataset/hk-itib-international-rankings")
                .header(header::COOKIE, format!("bauhinia_lang={lang}"))
                .body(Body::empty())
                .expect("request"),
        )
        .await;
        assert_eq!(page.status, StatusCode::OK, "{lang}");
        let html = page.text();
        assert!(html.contains(&format!("<html lang=\"{lang}\">")), "{lang}");
        assert!(html.contains(title), "{lang}: title");
        assert!(html.contains(resource), "{lang}: resource name");
        assert!(html.contains("<table class=\"preview\">"), "{lang}: preview");
        for cell in ["World Digital Competitiveness Ranking", "世界數碼競爭力排名", "ISUI 智慧城市指数"] {
            assert!(html.contains(cell), "{lang}: {cell}");
        }
    }
}

#[tokio::test]
async fn the_funding_easy_catalogue_is_a_table_whose_amounts_its_sentences_state() {
    let app = app().await;
    let id = resource_of(&app, bauhinia_opendata::demo::FUNDING_DATASET).await;
    let found = get(
        &app,
        &format!("/api/3/action/datastore_search?resource_id={id}&limit=1000"),
    )
    .await
    .json();
    let schemes = app.state.funding.catalogue().len();
    assert!(schemes > 10);
    assert_eq!(found["result"]["total"], schemes);
    let records = found["result"]["records"].as_array().expect("records");
    assert_eq!(records.len(), schemes);
    let mut amounts = 0;
    for record in records {
        let source = record["source"].as_str().expect("source");
        let stated = bauhinia_opendata::demo::figures(source);
        let object = record.as_object().expect("record");
        for (field, value) in object.iter().filter(|(k, _)| k.ends_with("_hkd")) {
            let text = match value {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            if let Some(amount) = bauhinia_opendata::demo::canonical(&text) {
                assert!(
                    stated.contains(&amount),
                    "{}: {field} = {amount} not in 「{source}」",
                    record["id"]
                );
                amounts += 1;
            }
        }
    }
    assert!(amounts >= 10, "{amounts} amounts checked");
}
