//! A company signature's parser on arbitrary bytes
//! (`bauhinia_corpid::signing::format::fuzz_parse`): the bytes as a company signature (the JWS
//! JSON general serialization: payload, protected headers, `x5c` chains, signatures) and as the
//! public verification endpoint's request body with its document hash; whatever parses has the
//! documented shape.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    bauhinia_corpid::signing::format::fuzz_parse(data);
});
