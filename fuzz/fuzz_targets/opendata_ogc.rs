//! Open data's spatial readers of outside input on arbitrary bytes: the first byte says whether
//! the rest is an OGC items query string or a GeoJSON upload (in CRS84 or the HK1980 Grid).
//! Whatever the input, reading answers without panicking, every fault names a parameter or a
//! member by a JSON Pointer, and what is accepted is within its limits.
#![no_main]

use bauhinia_opendata::spatial::crs::Crs;
use bauhinia_opendata::spatial::features::{prepare, FAULTS_MAX};
use bauhinia_opendata::spatial::query::{parse_items, parse_plain, LIMIT_MAX};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((first, rest)) = data.split_first() else {
        return;
    };
    match first % 3 {
        0 => {
            let query = String::from_utf8_lossy(rest);
            let queryables = ["district_en".to_owned(), "lanes".to_owned()];
            match parse_items(&query, &queryables) {
                Ok(q) => {
                    assert!((1..=LIMIT_MAX).contains(&q.limit));
                    if let Some(b) = q.bbox {
                        assert!(b.min_x <= b.max_x && b.min_y <= b.max_y);
                    }
                }
                Err(faults) => {
                    for f in faults {
                        assert!(f.pointer.is_empty() || f.pointer.starts_with('/'), "{f:?}");
                        assert!(!f.detail.is_empty());
                    }
                }
            }
            let _ = parse_plain(&query);
        }
        n => {
            let crs = (n == 2).then_some(Crs::Hk1980Grid);
            match prepare(rest, crs) {
                Ok(prepared) => {
                    for f in &prepared.features {
                        if let Some(b) = f.bbox {
                            assert!((-180.0..=180.0).contains(&b.min_x), "{b:?}");
                            assert!((-90.0..=90.0).contains(&b.max_y), "{b:?}");
                        }
                    }
                }
                Err(faults) => {
                    assert!(!faults.is_empty() && faults.len() <= FAULTS_MAX);
                    for f in faults {
                        assert!(f.pointer.is_empty() || f.pointer.starts_with('/'), "{f:?}");
                    }
                }
            }
        }
    }
});
