//! The ISO 20022 tests of the FPS crate: hand-written samples of every message, a table of
//! malformed documents and the exact error each gets, round trips of random messages, and
//! robustness against arbitrary and mutated input.

mod negative;
mod robustness;
mod roundtrip;
mod samples;
mod strategies;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// The hand-written samples, by message name.
const SAMPLES: &[(&str, &[u8])] = &[
    ("pacs.008.001.08", include_bytes!("samples/pacs.008.xml")),
    ("pacs.002.001.10", include_bytes!("samples/pacs.002.xml")),
    ("pacs.004.001.09", include_bytes!("samples/pacs.004.xml")),
    ("pacs.003.001.08", include_bytes!("samples/pacs.003.xml")),
    ("pain.009.001.06", include_bytes!("samples/pain.009.xml")),
    ("pain.010.001.06", include_bytes!("samples/pain.010.xml")),
    ("pain.011.001.06", include_bytes!("samples/pain.011.xml")),
    ("pain.012.001.06", include_bytes!("samples/pain.012.xml")),
    ("camt.053.001.08", include_bytes!("samples/camt.053.xml")),
    ("camt.054.001.08", include_bytes!("samples/camt.054.xml")),
];
