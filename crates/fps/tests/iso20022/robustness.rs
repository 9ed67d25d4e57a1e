//! No input makes the parser panic: arbitrary bytes, and valid messages with bytes flipped,
//! cut short, lines (elements) deleted, duplicated or swapped. `fuzz_parse` also checks that
//! whatever parses survives write → parse.

use bauhinia_fps::iso20022 as iso;
use proptest::prelude::*;

use crate::{strategies, SAMPLES};

#[derive(Debug, Clone)]
enum Mutation {
    Flip { at: usize, byte: u8 },
    Truncate { at: usize },
    DeleteLine { at: usize },
    DuplicateLine { at: usize },
    SwapLines { at: usize },
    Insert { at: usize, text: &'static str },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let at = any::<usize>();
    let snippet = prop::sample::select(vec![
        "<",
        ">",
        "&",
        "&amp;",
        "&#0;",
        "&#x110000;",
        "<!DOCTYPE x>",
        "<![CDATA[x]]>",
        "<?pi x?>",
        "<!-- c -->",
        "\"",
        "xmlns=\"urn:x\"",
        "<a:b>",
        "</",
        "\u{FEFF}",
        "-1",
        "9999999999999999999",
    ]);
    prop_oneof![
        (at, any::<u8>()).prop_map(|(at, byte)| Mutation::Flip { at, byte }),
        at.prop_map(|at| Mutation::Truncate { at }),
        at.prop_map(|at| Mutation::DeleteLine { at }),
        at.prop_map(|at| Mutation::DuplicateLine { at }),
        at.prop_map(|at| Mutation::SwapLines { at }),
        (at, snippet).prop_map(|(at, text)| Mutation::Insert { at, text }),
    ]
}

fn apply(document: &[u8], mutation: &Mutation) -> Vec<u8> {
    let mut bytes = document.to_vec();
    let len = bytes.len().max(1);
    let mut lines: Vec<Vec<u8>> = document
        .split(|&b| b == b'\n')
        .map(<[u8]>::to_vec)
        .collect();
    let line_count = lines.len().max(1);
    match *mutation {
        Mutation::Flip { at, byte } => {
            if let Some(b) = bytes.get_mut(at % len) {
                *b ^= byte | 1;
            }
            bytes
        }
        Mutation::Truncate { at } => {
            bytes.truncate(at % len);
            bytes
        }
        Mutation::DeleteLine { at } => {
            if at % line_count < lines.len() {
                lines.remove(at % line_count);
            }
            lines.join(&b'\n')
        }
        Mutation::DuplicateLine { at } => {
            if let Some(line) = lines.get(at % line_count).cloned() {
                lines.insert(at % line_count, line);
            }
            lines.join(&b'\n')
        }
        Mutation::SwapLines { at } => {
            let i = at % line_count;
            if i + 1 < lines.len() {
                lines.swap(i, i + 1);
            }
            lines.join(&b'\n')
        }
        Mutation::Insert { at, text } => {
            let at = at % len;
            bytes.splice(at..at, text.bytes());
            bytes
        }
    }
}

fn sample() -> impl Strategy<Value = Vec<u8>> {
    prop::sample::select(
        SAMPLES
            .iter()
            .map(|(_, bytes)| bytes.to_vec())
            .collect::<Vec<_>>(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        iso::fuzz_parse(&bytes);
    }

    #[test]
    fn mutated_samples_never_panic(document in sample(), mutations in proptest::collection::vec(mutation(), 1..4)) {
        let mutated = mutations.iter().fold(document, |doc, m| apply(&doc, m));
        iso::fuzz_parse(&mutated);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn mutated_random_messages_never_panic(message in strategies::message(), m in mutation()) {
        let mutated = apply(message.to_xml().as_bytes(), &m);
        iso::fuzz_parse(&mutated);
    }
}
