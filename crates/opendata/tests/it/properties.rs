//! Property tests of the Action API's parameter parsing: no input makes it panic, and what a
//! client encodes is what the server reads.

use bauhinia_opendata::action::{
    boolean, natural, GroupListArgs, PackageListArgs, Params, ShowArgs, TagListArgs,
};
use proptest::prelude::*;
use serde_json::Value;

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,20}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn any_query_string_parses_without_panicking(query in ".{0,200}") {
        let params = Params::from_query(&query);
        let _ = PackageListArgs::parse(&params);
        let _ = GroupListArgs::parse(&params);
        let _ = ShowArgs::parse(&params);
        let _ = TagListArgs::parse(&params);
    }

    #[test]
    fn any_body_parses_without_panicking(body in prop::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(params) = Params::from_json(&body) {
            let _ = PackageListArgs::parse(&params);
            let _ = GroupListArgs::parse(&params);
        }
    }

    #[test]
    fn any_json_object_gives_args_or_named_faults(
        object in prop::collection::btree_map(
            prop_oneof![Just("limit".to_owned()), Just("offset".to_owned()), Just("id".to_owned()),
                        Just("all_fields".to_owned()), Just("sort".to_owned()), "[a-z]{1,6}"],
            any_json(), 0..6)
    ) {
        let body = serde_json::to_vec(&object).unwrap();
        let params = Params::from_json(&body).unwrap();
        for result in [
            PackageListArgs::parse(&params).err(),
            GroupListArgs::parse(&params).err(),
            ShowArgs::parse(&params).err(),
        ] {
            for fault in result.unwrap_or_default() {
                let key = fault.pointer.trim_start_matches('/').to_owned();
                prop_assert!(
                    object.contains_key(&key) || key == "id",
                    "fault names a parameter that was not sent: {key}"
                );
            }
        }
    }

    #[test]
    fn encoded_pairs_are_read_back(
        pairs in prop::collection::vec(("[a-z_.]{1,10}", ".{0,20}"), 0..10)
    ) {
        let query = form_urlencoded_pairs(&pairs);
        let params = Params::from_query(&query);
        for (key, _) in &pairs {
            let sent: Vec<&String> = pairs.iter().filter(|(k, _)| k == key).map(|(_, v)| v).collect();
            let read = params.get(key).unwrap();
            match read {
                Value::String(s) => prop_assert_eq!(vec![s], sent),
                Value::Array(items) => {
                    let items: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
                    let sent: Vec<&str> = sent.iter().map(|s| s.as_str()).collect();
                    prop_assert_eq!(items, sent);
                }
                other => prop_assert!(false, "unexpected {other}"),
            }
        }
    }

    #[test]
    fn naturals_read_as_written(n in any::<u32>(), as_text in any::<bool>()) {
        let value = if as_text { Value::from(n.to_string()) } else { Value::from(n) };
        prop_assert_eq!(natural(Some(&value)), Ok(Some(n)));
    }

    #[test]
    fn negative_numbers_are_not_natural(n in i64::MIN..0) {
        prop_assert_eq!(natural(Some(&Value::from(n))), Err("Must be a natural number"));
    }

    #[test]
    fn booleans_read_as_written(b in any::<bool>()) {
        prop_assert_eq!(boolean(Some(&Value::from(b.to_string()))), Ok(Some(b)));
        prop_assert_eq!(boolean(Some(&Value::from(b))), Ok(Some(b)));
    }
}

fn form_urlencoded_pairs(pairs: &[(String, String)]) -> String {
    let mut out = String::new();
    for (key, value) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(&encode(key));
        out.push('=');
        out.push_str(&encode(value));
    }
    out
}

/// Percent-encodes every byte but unreserved ones (a client's encoding, written here so the
/// test does not use the parser's own library to encode).
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

mod datastore {
    use bauhinia_opendata::action::Params;
    use bauhinia_opendata::datastore::query::{SearchArgs, LIMIT_MAX};
    use bauhinia_opendata::datastore::table::{self, Cell};
    use proptest::prelude::*;

    fn write_csv(header: &[String], rows: &[Vec<String>]) -> Vec<u8> {
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer.write_record(header).unwrap();
        for row in rows {
            writer.write_record(row).unwrap();
        }
        writer.into_inner().unwrap()
    }

    proptest! {
        #[test]
        fn any_bytes_are_a_table_or_a_fault(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
            for parsed in [table::parse_csv(&bytes), table::parse_json(&bytes)] {
                match parsed {
                    Ok(t) => prop_assert!(t.rows.iter().all(|r| r.len() == t.fields.len())),
                    Err(e) => prop_assert!(!e.message.is_empty()),
                }
            }
        }

        /// What a CSV writer writes — any text, quotes, commas, newlines, CJK — is what the
        /// datastore reads, typed as its column's values allow.
        #[test]
        fn written_csv_reads_back(
            width in 1_usize..5,
            cells in prop::collection::vec(
                prop_oneof![
                    "[0-9]{1,6}",
                    "-?[1-9][0-9]{0,4}\\.[0-9]{1,3}",
                    "20[0-9]{2}-0[1-9]-1[0-9]",
                    "(true|false)",
                    "[a-zA-Z 中環,\"\n]{0,12}",
                ],
                0..40,
            ),
        ) {
            let header: Vec<String> = (0..width).map(|i| format!("field {i}")).collect();
            let rows: Vec<Vec<String>> = cells.chunks(width)
                .filter(|c| c.len() == width)
                .map(<[String]>::to_vec)
                .collect();
            let table = table::parse_csv(&write_csv(&header, &rows)).unwrap();
            prop_assert_eq!(table.rows.len(), rows.len());
            for (row, written) in table.rows.iter().zip(&rows) {
                for ((cell, text), field) in row.iter().zip(written).zip(&table.fields) {
                    prop_assert_eq!(cell, &table::cell(field.kind, text));
                    if let Cell::Text(read) = cell {
                        prop_assert_eq!(read, text);
                    }
                }
            }
        }

        #[test]
        fn any_search_parameters_parse_without_panicking(query in ".{0,200}") {
            if let Ok(args) = SearchArgs::parse(&Params::from_query(&query)) {
                prop_assert!(args.limit <= LIMIT_MAX);
            }
        }
    }
}
