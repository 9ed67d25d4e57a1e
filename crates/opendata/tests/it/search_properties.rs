//! Property tests of `package_search`'s input: any parameters give arguments or CKAN's error,
//! never a panic; `rows` is never above 1,000; what a client encodes is what the server reads;
//! any `q` text compiles to a query or a Search Error; the analyzer's offsets stay inside
//! the text.

use bauhinia_opendata::action::Params;
use bauhinia_opendata::search::analyzer::{tokenize, Mode};
use bauhinia_opendata::search::{PackageSearchArgs, QueryCompiler, Viewer};
use bauhinia_opendata::OpendataError;
use proptest::prelude::*;

/// Characters that make queries interesting: Solr's syntax, CJK in both scripts, letters.
fn query_text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            prop::sample::select(vec![
                "(", ")", "\"", ":", "+", "-", "*", "[", "]", "{", "}", "^", "~", " ", "AND", "OR",
                "NOT", "TO", "\\", "/", "!", "?", "'", ";",
            ])
            .prop_map(str::to_owned),
            prop::sample::select(vec![
                "交通",
                "運輸",
                "运输",
                "title",
                "tags",
                "name",
                "organization",
                "res_format",
                "metadata_modified",
                "2020-01-01T00:00:00Z",
                "roads",
                "hk-td",
                "nosuch",
            ])
            .prop_map(str::to_owned),
            ".{0,3}",
        ],
        0..24,
    )
    .prop_map(|parts| parts.concat())
}

fn checked(result: Result<PackageSearchArgs, OpendataError>) -> Option<PackageSearchArgs> {
    match result {
        Ok(args) => {
            assert!(args.rows <= 1_000);
            Some(args)
        }
        Err(OpendataError::Invalid(faults)) => {
            assert!(!faults.is_empty());
            for fault in faults {
                assert!(fault.pointer.starts_with('/'), "{fault:?}");
            }
            None
        }
        Err(OpendataError::Search(_) | OpendataError::SearchQuery(_)) => None,
        Err(other) => panic!("{other:?}"),
    }
}

proptest! {
    #[test]
    fn any_query_string_gives_args_or_ckans_error(query in ".{0,200}") {
        checked(PackageSearchArgs::parse(&Params::from_query(&query)));
    }

    #[test]
    fn any_q_and_fq_compile_or_are_a_search_error(q in query_text(), fq in query_text()) {
        let compiler = QueryCompiler::standalone();
        let args = PackageSearchArgs { q, fq: vec![fq], ..PackageSearchArgs::default() };
        match compiler.compile(&args, &Viewer::Anonymous) {
            Ok(_) | Err(OpendataError::Search(_)) => {}
            Err(other) => panic!("{other:?}"),
        }
    }

    #[test]
    fn what_a_client_encodes_is_read(
        q in ".{0,40}",
        rows in 0_u32..5_000,
        start in 0_u32..1_000_000,
        limit in -5_i64..500,
        mincount in 0_u32..10,
        private in any::<bool>(),
    ) {
        let body = serde_json::json!({
            "q": q, "rows": rows, "start": start, "facet.limit": limit,
            "facet.mincount": mincount, "include_private": private,
            "facet.field": ["tags", "organization"], "sort": "name desc",
            "include_drafts": false, "fl": "id,name",
        });
        let params = Params::from_json(&serde_json::to_vec(&body).unwrap()).unwrap();
        let args = checked(PackageSearchArgs::parse(&params)).unwrap();
        prop_assert_eq!(&args.q, &q);
        prop_assert_eq!(args.rows, rows.min(1_000));
        prop_assert_eq!(args.start, start);
        prop_assert_eq!(args.facet_limit, u32::try_from(limit).ok());
        prop_assert_eq!(args.facet_mincount, u64::from(mincount));
        prop_assert_eq!(args.include_private, private);
        prop_assert_eq!(args.facet_fields.len(), 2);
        prop_assert_eq!(args.sort_text.as_str(), "name desc");
    }

    #[test]
    fn token_offsets_stay_inside_the_text(text in ".{0,60}") {
        for mode in [Mode::Index, Mode::Query] {
            for token in tokenize(&text, mode) {
                prop_assert!(text.get(token.offset_from..token.offset_to).is_some(), "{:?}", token);
                prop_assert!(!token.text.is_empty());
            }
        }
    }
}
