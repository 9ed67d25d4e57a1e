//! Property tests of the write side's readers of outside input — CKAN package and resource
//! dictionaries, the historical archive's parameters, presented tokens: no input makes them
//! panic, every fault names a field, and what a client encodes is what the server reads.

use axum::http::{HeaderMap, HeaderValue};
use bauhinia_opendata::archive::{self, GetFile, ListFiles, ListVersions};
use bauhinia_opendata::package_input;
use bauhinia_opendata::token;
use proptest::prelude::*;
use serde_json::{json, Map, Value};

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        ".{0,20}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("name".to_owned()),
                    Just("title".to_owned()),
                    Just("resources".to_owned()),
                    Just("groups".to_owned()),
                    Just("tags".to_owned()),
                    Just("extras".to_owned()),
                    Just("url".to_owned()),
                    Just("size".to_owned()),
                    Just("private".to_owned()),
                    "[a-z_]{1,8}",
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => [("resources".to_owned(), other)].into_iter().collect(),
    }
}

proptest! {
    #[test]
    fn any_package_dictionary_reads_or_names_its_faults(dict in any_json()) {
        match package_input::package(&object(dict.clone())) {
            Ok(input) => {
                // A Chinese text not given is the English one.
                prop_assert!(input.draft.title.en.is_empty() || !input.draft.title.zh_hant.is_empty());
                prop_assert!(input.draft.notes.en.is_empty() || !input.draft.notes.zh_hans.is_empty());
            }
            Err(faults) => {
                prop_assert!(!faults.is_empty());
                for f in faults {
                    prop_assert!(f.pointer.starts_with('/'), "{:?}", f);
                    prop_assert!(!f.detail.is_empty());
                }
            }
        }
        let _ = package_input::resource(&object(dict.clone()), "");
        let _ = package_input::organization(&object(dict), 0);
    }

    // A text of white space alone counts as not given (the Chinese falls back to the English),
    // so only texts with something in them must come back verbatim.
    #[test]
    fn texts_round_trip_verbatim(
        title in "\\PC{1,60}".prop_filter("not blank", |s| !s.trim().is_empty()),
        tc in "\\PC{1,60}".prop_filter("not blank", |s| !s.trim().is_empty()),
    ) {
        let input = package_input::package(&object(json!({
            "title": title, "extras": [{"key": "title_tc", "value": tc}],
        }))).unwrap();
        prop_assert_eq!(input.draft.title.en, title);
        prop_assert_eq!(input.draft.title.zh_hant, tc);
    }

    #[test]
    fn any_archive_query_parses_without_panicking(query in ".{0,200}") {
        for faults in [
            ListFiles::parse(&query).err(),
            ListVersions::parse(&query).err(),
            GetFile::parse(&query).err(),
        ].into_iter().flatten() {
            prop_assert!(faults.iter().all(|f| f.pointer.starts_with('/') && !f.detail.is_empty()));
        }
    }

    #[test]
    fn archive_minutes_round_trip(unix_minute in 0_i64..100_000_000) {
        let unix_s = unix_minute * 60;
        let text = archive::timestamp(unix_s);
        prop_assert_eq!(archive::minute(&text), Ok(unix_s));
        let day = text.split('-').next().unwrap().to_owned();
        let query = format!("url=x&start={day}&end={day}");
        let period = ListVersions::parse(&query).unwrap().period;
        prop_assert!(period.from_s <= unix_s && unix_s < period.to_s);
        prop_assert_eq!(period.to_s - period.from_s, 86_400);
    }

    #[test]
    fn list_files_limits_hold(max in any::<u32>(), skip in any::<u32>()) {
        let query = format!("start=20240101&end=20240131&max={max}&skip={skip}");
        match ListFiles::parse(&query) {
            Ok(args) => {
                prop_assert!(args.filter.max <= archive::LIST_FILES_MAX);
                prop_assert_eq!(args.filter.skip, skip);
            }
            Err(faults) => {
                prop_assert!(max > archive::LIST_FILES_MAX);
                prop_assert_eq!(faults[0].pointer.as_str(), "/max");
            }
        }
    }

    #[test]
    fn presented_tokens_are_read_as_sent(secret in "[A-Za-z0-9_-]{1,100}", bearer in any::<bool>()) {
        let mut headers = HeaderMap::new();
        let value = if bearer { format!("Bearer {secret}") } else { secret.clone() };
        headers.insert("authorization", HeaderValue::from_str(&value).unwrap());
        prop_assert_eq!(token::presented(&headers), Some(secret));
    }
}
