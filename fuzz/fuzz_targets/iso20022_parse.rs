//! The ISO 20022 parser on arbitrary input: `fuzz_parse` never panics on a refusal; whatever
//! parses writes back to XML that parses to the same message and the same text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    bauhinia_fps::iso20022::fuzz_parse(data);
});
