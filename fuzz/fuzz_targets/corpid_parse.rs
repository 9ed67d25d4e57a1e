//! CorpID's readers of outside input on arbitrary bytes (`bauhinia_corpid::wire::fuzz_parse`):
//! the bytes as a BRN (what parses writes back as itself) and as every request body of the
//! CorpID APIs — registration, status change, grant, role change, delegation, licence,
//! signing policy — each body that parses taken through the same conversion to domain values
//! the handlers make (a registration that validates keeps its BRN; accepted delegation terms
//! never delegate administration and end in the future).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    bauhinia_corpid::wire::fuzz_parse(data);
});
