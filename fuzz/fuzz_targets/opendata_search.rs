//! `package_search`'s outside input on arbitrary bytes: the parameters (query string or JSON
//! body, by the first byte) and then the `q` and `fq` texts through the query compiler.
//! Whatever the input, it answers without panicking: arguments or CKAN's errors, a query or
//! a Search Error; `rows` never above 1,000.
#![no_main]

use bauhinia_opendata::action::Params;
use bauhinia_opendata::search::{PackageSearchArgs, QueryCompiler, Viewer};
use bauhinia_opendata::OpendataError;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(params) = Params::from_tagged_bytes(data) else {
        return;
    };
    let compiler = QueryCompiler::standalone();
    match PackageSearchArgs::parse(&params) {
        Ok(args) => {
            assert!(args.rows <= 1_000);
            match compiler.compile(&args, &Viewer::Anonymous) {
                Ok(_) | Err(OpendataError::Search(_)) => {}
                Err(other) => panic!("{other:?}"),
            }
        }
        Err(OpendataError::Invalid(faults)) => assert!(!faults.is_empty()),
        Err(OpendataError::Search(_) | OpendataError::SearchQuery(_)) => {}
        Err(other) => panic!("{other:?}"),
    }
    // The raw text as an `fq` and as a `q` too, whatever the parameters said.
    let text = String::from_utf8_lossy(data);
    for parsed in [compiler.parse(&text), compiler.parse_q(&text)] {
        match parsed {
            Ok(_) | Err(OpendataError::Search(_)) => {}
            Err(other) => panic!("{other:?}"),
        }
    }
});
