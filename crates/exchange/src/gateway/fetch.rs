//! A consumer's data request under a consent, as it arrives (JSON), read strictly: every
//! member checked and every failure named by JSON Pointer.
//!
//! ```json
//! {"provider": "bank-004", "products": ["iads.balance", "iads.transactions"],
//!  "from": "2026-01-01T00:00:00+08:00", "to": "2026-03-31T23:59:59+08:00",
//!  "key_material": {"version": 1, "scheme": "X25519-HKDF-SHA256-A256GCM",
//!                   "key": "<base64url 32 bytes>", "nonce": "<base64url 32 bytes>"}}
//! ```

use bauhinia_core::FieldError;
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::consent::domain::{FetchRequest, ParticipantId, Span};
use crate::crypto::blind::KeyMaterial;
use crate::products::ProductId;
use crate::sandbox::RANGE_DAYS_MAX;

/// The largest request body read (a request is a few hundred bytes).
pub const BODY_MAX_BYTES: usize = 8 * 1024;
/// The members of a data request.
pub const FIELDS: [&str; 5] = ["provider", "products", "from", "to", "key_material"];

/// A data request, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchSpec {
    pub provider: ParticipantId,
    pub products: Vec<ProductId>,
    pub range: Span,
    pub key_material: KeyMaterial,
}

impl FetchSpec {
    /// What the consent check sees.
    pub fn request(&self, consumer: &ParticipantId) -> FetchRequest {
        FetchRequest {
            consumer: consumer.clone(),
            provider: self.provider.clone(),
            products: self
                .products
                .iter()
                .filter_map(|p| crate::consent::domain::ProductId::parse(p.as_str()))
                .collect(),
            range: self.range,
        }
    }
}

fn time(json: &Value, name: &str, errors: &mut Vec<FieldError>) -> Option<i64> {
    let pointer = format!("/{name}");
    match json.get(name) {
        Some(Value::String(text)) => match OffsetDateTime::parse(text, &Rfc3339) {
            Ok(t) => Some(t.unix_timestamp()),
            Err(_) => {
                errors.push(FieldError::new(
                    pointer,
                    "must be an RFC 3339 date-time, e.g. 2026-01-31T00:00:00+08:00",
                ));
                None
            }
        },
        None | Some(Value::Null) => {
            errors.push(FieldError::new(pointer, "is required"));
            None
        }
        Some(_) => {
            errors.push(FieldError::new(pointer, "must be a string"));
            None
        }
    }
}

/// Reads a data request's body.
pub fn parse(body: &[u8]) -> Result<FetchSpec, Vec<FieldError>> {
    if body.len() > BODY_MAX_BYTES {
        return Err(vec![FieldError::new(
            "",
            "the request is larger than 8 KiB",
        )]);
    }
    let json: Value = serde_json::from_slice(body)
        .map_err(|_| vec![FieldError::new("", "must be a JSON object")])?;
    let Some(object) = json.as_object() else {
        return Err(vec![FieldError::new("", "must be a JSON object")]);
    };
    let mut errors = Vec::new();
    for key in object.keys().filter(|k| !FIELDS.contains(&k.as_str())) {
        errors.push(FieldError::new(
            format!("/{}", key.replace('~', "~0").replace('/', "~1")),
            "is not a member of a data request",
        ));
    }
    let provider = match json.get("provider").and_then(Value::as_str) {
        Some(text) => {
            let id = ParticipantId::parse(text);
            if id.is_none() {
                errors.push(FieldError::new("/provider", "must be a participant id"));
            }
            id
        }
        None => {
            errors.push(FieldError::new(
                "/provider",
                "is required (a participant id)",
            ));
            None
        }
    };
    let products = match json.get("products") {
        Some(Value::Array(items)) if !items.is_empty() && items.len() <= ProductId::ALL.len() => {
            let mut out: Vec<ProductId> = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                match item.as_str().and_then(ProductId::parse) {
                    Some(p) if out.contains(&p) => {
                        errors.push(FieldError::new(format!("/products/{i}"), "is named twice"));
                    }
                    Some(p) => out.push(p),
                    None => errors.push(FieldError::new(
                        format!("/products/{i}"),
                        "is not a data product of the catalogue",
                    )),
                }
            }
            (out.len() == items.len()).then_some(out)
        }
        _ => {
            errors.push(FieldError::new(
                "/products",
                "must be a list of 1 to 10 data product ids",
            ));
            None
        }
    };
    let from = time(&json, "from", &mut errors);
    let to = time(&json, "to", &mut errors);
    if let (Some(from), Some(to)) = (from, to) {
        if to < from {
            errors.push(FieldError::new("/to", "must not be before `from`"));
        } else if (to - from) / 86_400 >= RANGE_DAYS_MAX {
            errors.push(FieldError::new(
                "/to",
                "must be less than 366 days after `from`",
            ));
        }
    }
    let key_material = match json.get("key_material") {
        Some(value) => match KeyMaterial::from_value(value.clone()) {
            Ok(material) => Some(material),
            Err(e) => {
                errors.push(FieldError::new("/key_material", e.to_string()));
                None
            }
        },
        None => {
            errors.push(FieldError::new("/key_material", "is required"));
            None
        }
    };
    match (provider, products, from, to, key_material) {
        (Some(provider), Some(products), Some(from_s), Some(to_s), Some(key_material))
            if errors.is_empty() =>
        {
            Ok(FetchSpec {
                provider,
                products,
                range: Span { from_s, to_s },
                key_material,
            })
        }
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;
    use crate::crypto::blind::EphemeralKeys;

    fn valid() -> Value {
        let keys = EphemeralKeys::from_bytes([7; 32], [9; 32]);
        json!({
            "provider": "bank-004",
            "products": ["iads.balance", "iads.transactions"],
            "from": "2026-01-01T00:00:00+08:00",
            "to": "2026-03-31T23:59:59+08:00",
            "key_material": serde_json::to_value(keys.material()).unwrap(),
        })
    }

    fn pointers(json: &Value) -> Vec<String> {
        parse(&serde_json::to_vec(json).unwrap())
            .unwrap_err()
            .into_iter()
            .map(|e| e.pointer)
            .collect()
    }

    #[test]
    fn a_valid_request_is_read() {
        let spec = parse(&serde_json::to_vec(&valid()).unwrap()).unwrap();
        assert_eq!(spec.provider.as_str(), "bank-004");
        assert_eq!(
            spec.products,
            vec![ProductId::Balance, ProductId::Transactions]
        );
        assert_eq!(spec.range.from_s, 1_767_196_800);
    }

    #[test]
    fn each_fault_is_named() {
        type Case = (fn(&mut Value), &'static [&'static str]);
        let cases: Vec<Case> = vec![
            (
                |v| v["provider"] = json!("no spaces allowed"),
                &["/provider"],
            ),
            (|v| v["products"] = json!([]), &["/products"]),
            (
                |v| v["products"] = json!(["iads.pension"]),
                &["/products/0"],
            ),
            (
                |v| v["products"] = json!(["iads.balance", "iads.balance"]),
                &["/products/1"],
            ),
            (|v| v["from"] = json!("yesterday"), &["/from"]),
            (|v| v["to"] = json!("2025-01-01T00:00:00Z"), &["/to"]),
            (|v| v["to"] = json!("2027-06-01T00:00:00Z"), &["/to"]),
            (
                |v| v["key_material"]["key"] = json!("AAAA"),
                &["/key_material"],
            ),
            (|v| v["colour"] = json!("red"), &["/colour"]),
        ];
        for (change, expected) in cases {
            let mut json = valid();
            change(&mut json);
            assert_eq!(pointers(&json), expected, "{json}");
        }
        assert_eq!(parse(b"[1]").unwrap_err()[0].pointer, "", "not an object");
    }

    proptest! {
        #[test]
        fn any_bytes_are_read_or_refused_without_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse(&bytes);
        }

        #[test]
        fn any_member_replaced_is_read_or_refused(
            member in prop::sample::select(FIELDS.to_vec()),
            value in prop_oneof![
                Just(json!(null)), Just(json!(1)), Just(json!("x")), Just(json!([])),
                Just(json!({})), ".*".prop_map(|s| json!(s)),
            ],
        ) {
            let mut json = valid();
            json[member] = value;
            if let Err(errors) = parse(&serde_json::to_vec(&json).unwrap()) {
                prop_assert!(!errors.is_empty());
            }
        }
    }
}
