//! The sandbox: every document validates against its product's JSON Schema (checked by the
//! `jsonschema` crate) for many owners, providers and ranges; the same inputs give the same
//! document, different owners different ones; dated items stay inside the range; the hosted
//! banks' account numbers are used when given.

use bauhinia_exchange::products::ProductId;
use bauhinia_exchange::sandbox::{generate, KnownAccount, SandboxError, SandboxRequest};
use proptest::prelude::*;
use serde_json::Value;
use time::{Date, Duration};

fn date(days_since_2020: i64) -> Date {
    time::macros::date!(2020 - 01 - 01) + Duration::days(days_since_2020)
}

fn validator(product: ProductId) -> jsonschema::Validator {
    let schema: Value = match serde_json::from_str(product.schema()) {
        Ok(schema) => schema,
        Err(e) => unreachable!("{product}: {e}"),
    };
    match jsonschema::draft202012::new(&schema) {
        Ok(v) => v,
        Err(e) => unreachable!("{product}: {e}"),
    }
}

/// Every date-valued string under `value` whose key names a booking or receipt.
fn dated(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("booking_date" | "date", Value::String(s)) => out.push(s.clone()),
                    ("received_at", Value::String(s)) => out.push(s.chars().take(10).collect()),
                    _ => dated(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| dated(v, out)),
        _ => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]
    #[test]
    fn every_document_follows_its_schema_and_its_range(
        owner in "[a-z0-9-]{1,40}",
        provider in prop::sample::select(vec!["bank-004", "bank-mox", "cdi-ecommerce-01", "companies-registry"]),
        start in 0i64..2500,
        length in 0i64..366,
    ) {
        let (from, to) = (date(start), date(start + length));
        for product in ProductId::ALL {
            let req = SandboxRequest { product, owner: &owner, provider, bank_code: Some("004"), from, to, accounts: &[] };
            let doc = generate(&req).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let errors: Vec<String> = validator(product).iter_errors(&doc).map(|e| format!("{} {e}", e.instance_path())).collect();
            prop_assert!(errors.is_empty(), "{product}: {errors:?}");
            let mut dates = Vec::new();
            dated(&doc, &mut dates);
            let (from_text, to_text) = (doc["from"].as_str().unwrap_or(""), doc["to"].as_str().unwrap_or(""));
            for d in dates {
                prop_assert!(d.as_str() >= from_text && d.as_str() <= to_text, "{product}: {d} outside {from_text}..{to_text}");
            }
        }
    }
}

#[test]
fn the_same_inputs_give_the_same_data_and_owners_differ() -> Result<(), SandboxError> {
    let (from, to) = (date(1800), date(1900));
    for product in ProductId::ALL {
        let req = |owner| SandboxRequest {
            product,
            owner,
            provider: "bank-012",
            bank_code: Some("012"),
            from,
            to,
            accounts: &[],
        };
        let a = generate(&req("resident-a"))?;
        assert_eq!(a, generate(&req("resident-a"))?, "{product}");
        assert_ne!(a, generate(&req("resident-b"))?, "{product}");
    }
    Ok(())
}

#[test]
fn known_accounts_are_used_and_ranges_are_checked() -> Result<(), SandboxError> {
    let accounts = [KnownAccount {
        number: "004-100000001".into(),
        currency: "HKD".into(),
        kind: "savings".into(),
    }];
    let req = SandboxRequest {
        product: ProductId::Transactions,
        owner: "resident-a",
        provider: "bank-004",
        bank_code: Some("004"),
        from: date(1800),
        to: date(1830),
        accounts: &accounts,
    };
    let doc = generate(&req)?;
    let numbers: Vec<&str> = doc["accounts"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x["account_number"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(numbers, ["004-100000001"]);
    let synthetic = generate(&SandboxRequest {
        accounts: &[],
        ..req.clone()
    })?;
    assert!(synthetic["accounts"].as_array().is_some_and(|a| a
        .iter()
        .all(|x| x["account_number"]
            .as_str()
            .is_some_and(|n| n.starts_with("004-9")))));
    assert_eq!(
        generate(&SandboxRequest {
            from: date(10),
            to: date(9),
            ..req.clone()
        }),
        Err(SandboxError::RangeInverted)
    );
    assert_eq!(
        generate(&SandboxRequest {
            from: date(0),
            to: date(366),
            ..req.clone()
        }),
        Err(SandboxError::RangeTooLong)
    );
    assert_eq!(
        generate(&SandboxRequest { owner: "", ..req }),
        Err(SandboxError::Owner)
    );
    Ok(())
}
