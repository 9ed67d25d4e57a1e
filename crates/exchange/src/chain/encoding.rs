//! The bytes the chain hashes and the checkpoints sign: a canonical, length-prefixed encoding
//! that an independent program can rebuild from the stored columns (`docs/exchange-audit.md`
//! gives it byte by byte). Pure: no I/O.

use sha2::{Digest, Sha256};

/// A SHA-256 digest.
pub type Hash = [u8; 32];

/// The first record's `prev_hash`.
pub const GENESIS: Hash = [0; 32];

/// Separates a record's hash from any other SHA-256 over similar fields.
pub const RECORD_LABEL: &[u8] = b"bauhinia/exchange/audit/record/v1";
/// Separates a checkpoint's signing input from a record's.
pub const CHECKPOINT_LABEL: &[u8] = b"bauhinia/exchange/audit/checkpoint/v1";

/// Written for an absent optional field, in place of a length: no present field is this long.
const ABSENT: u32 = u32::MAX;

/// A record's fields as stored, borrowed: the hash is computed over these bytes exactly, so a
/// verifier never re-parses the detail JSON or re-encodes text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordFields<'a> {
    pub seq: i64,
    pub prev_hash: &'a [u8],
    pub at_s: i64,
    pub kind: &'a [u8],
    pub actor: &'a [u8],
    pub owner: Option<&'a [u8]>,
    pub consent: Option<&'a [u8]>,
    pub detail: &'a [u8],
}

trait Sink {
    fn put(&mut self, bytes: &[u8]);

    fn field(&mut self, bytes: &[u8]) {
        // A field longer than 4 GiB cannot be stored; saturating keeps this total anyway.
        let len = u32::try_from(bytes.len()).unwrap_or(ABSENT - 1);
        self.put(&len.to_be_bytes());
        self.put(bytes);
    }

    fn optional(&mut self, bytes: Option<&[u8]>) {
        match bytes {
            Some(b) => self.field(b),
            None => self.put(&ABSENT.to_be_bytes()),
        }
    }

    fn int(&mut self, value: i64) {
        self.put(&value.to_be_bytes());
    }
}

impl Sink for Sha256 {
    fn put(&mut self, bytes: &[u8]) {
        self.update(bytes);
    }
}

impl Sink for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

fn encode_record(sink: &mut impl Sink, r: &RecordFields<'_>, seq: i64) {
    sink.field(RECORD_LABEL);
    sink.int(seq);
    sink.field(r.prev_hash);
    sink.int(r.at_s);
    sink.field(r.kind);
    sink.field(r.actor);
    sink.optional(r.owner);
    sink.optional(r.consent);
    sink.field(r.detail);
}

/// The record's hash, as if it stood at `seq` (the verifier tries other positions to tell a
/// moved record from an altered one).
pub fn record_hash_at(r: &RecordFields<'_>, seq: i64) -> Hash {
    let mut hasher = Sha256::new();
    encode_record(&mut hasher, r, seq);
    hasher.finalize().into()
}

/// The record's hash.
pub fn record_hash(r: &RecordFields<'_>) -> Hash {
    record_hash_at(r, r.seq)
}

/// The bytes hashed for a record (for the documentation's worked example and its test).
pub fn record_preimage(r: &RecordFields<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    encode_record(&mut out, r, r.seq);
    out
}

/// The bytes a checkpoint's ES256 signature is over.
pub fn checkpoint_input(seq: i64, hash: &[u8], at_s: i64, kid: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    out.field(CHECKPOINT_LABEL);
    out.int(seq);
    out.field(hash);
    out.int(at_s);
    out.field(kid.as_bytes());
    out
}

/// JSON with object keys sorted by their UTF-8 bytes and no whitespace: the same value always
/// gives the same text, whatever order its keys were built in.
pub fn canonical_json(value: &serde_json::Value) -> String {
    let mut out = String::new();
    write_canonical(&mut out, value);
    out
}

fn write_canonical(out: &mut String, value: &serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (i, (key, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(out, v);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(out, v);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields<'a>(detail: &'a [u8], owner: Option<&'a [u8]>) -> RecordFields<'a> {
        RecordFields {
            seq: 1,
            prev_hash: &GENESIS,
            at_s: 1_700_000_000,
            kind: b"consent.approved",
            actor: b"owner:o1",
            owner,
            consent: None,
            detail,
        }
    }

    #[test]
    fn absent_and_empty_differ() {
        assert_ne!(
            record_hash(&fields(b"{}", None)),
            record_hash(&fields(b"{}", Some(b"")))
        );
    }

    #[test]
    fn preimage_layout_is_the_documented_one() {
        let r = fields(b"{}", Some(b"o1"));
        let bytes = record_preimage(&r);
        let mut expected = Vec::new();
        expected.extend_from_slice(&(RECORD_LABEL.len() as u32).to_be_bytes());
        expected.extend_from_slice(RECORD_LABEL);
        expected.extend_from_slice(&1i64.to_be_bytes());
        expected.extend_from_slice(&32u32.to_be_bytes());
        expected.extend_from_slice(&[0; 32]);
        expected.extend_from_slice(&1_700_000_000i64.to_be_bytes());
        expected.extend_from_slice(&16u32.to_be_bytes());
        expected.extend_from_slice(b"consent.approved");
        expected.extend_from_slice(&8u32.to_be_bytes());
        expected.extend_from_slice(b"owner:o1");
        expected.extend_from_slice(&2u32.to_be_bytes());
        expected.extend_from_slice(b"o1");
        expected.extend_from_slice(&[0xff; 4]);
        expected.extend_from_slice(&2u32.to_be_bytes());
        expected.extend_from_slice(b"{}");
        assert_eq!(bytes, expected);
        let digest: Hash = Sha256::digest(&expected).into();
        assert_eq!(record_hash(&r), digest);
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_depth() {
        let value = serde_json::json!({"b": 1, "a": {"z": [1, {"y": true, "x": null}], "c": "é"}});
        assert_eq!(
            canonical_json(&value),
            r#"{"a":{"c":"é","z":[1,{"x":null,"y":true}]},"b":1}"#
        );
    }
}
