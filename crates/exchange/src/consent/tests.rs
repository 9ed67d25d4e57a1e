//! The pure rules: the lifecycle table pair by pair, `authorise` for every denial, request
//! parsing naming each field at fault, the artefact and the receipt, and property tests.

use proptest::prelude::*;
use serde_json::{json, Value};

use super::artefact::{self, ArtefactSigner, Es256Signer};
use super::domain::*;
use super::receipt::{self, Controller, ReceiptContext};
use bauhinia_core::{ErrorCode, Lang};

/// 2026-01-15T00:00:00Z.
const NOW: i64 = 1_768_435_200;
const DAY: i64 = 86_400;
const PRODUCTS: [&str; 4] = [
    "iads.account_availability",
    "iads.account_status",
    "iads.balance",
    "iads.transactions",
];

fn consumer() -> ParticipantId {
    ParticipantId::parse("bank-024").unwrap()
}

fn request_json() -> Value {
    json!({
        "purpose": {"code": "102", "text": "To assess your loan application"},
        "products": ["iads.balance", "iads.transactions"],
        "owner": {"resident": "3f0c6a52-6d0e-4a57-9a0b-0c1f1f1f1f1f"},
        "providers": ["bank-004"],
        "data_range": {"from": rfc3339(NOW - 365 * DAY), "to": rfc3339(NOW + 90 * DAY)},
        "frequency": {"unit": "DAY", "value": 2},
        "validity": {"from": rfc3339(NOW), "until": rfc3339(NOW + 90 * DAY)},
        "mode": "VIEW",
        "fetch_type": "PERIODIC",
    })
}

fn terms() -> ConsentTerms {
    parse_request(&request_json(), &consumer(), &PRODUCTS, NOW).unwrap()
}

fn consent(status: Status) -> Consent {
    Consent {
        id: ConsentId::parse("c-1").unwrap(),
        terms: terms(),
        status,
        created_at_s: NOW,
        approval_deadline_s: NOW + APPROVAL_WINDOW_S,
        updated_at_s: NOW,
        version: 1,
        artefact: None,
    }
}

fn fetch() -> FetchRequest {
    FetchRequest {
        consumer: consumer(),
        provider: ParticipantId::parse("bank-004").unwrap(),
        products: vec![ProductId::parse("iads.balance").unwrap()],
        range: Span {
            from_s: NOW - 30 * DAY,
            to_s: NOW,
        },
    }
}

#[test]
fn the_transition_table_pair_by_pair() {
    use Action as A;
    use Status as S;
    let allowed = [
        (S::Pending, A::Approve, S::Active),
        (S::Pending, A::Reject, S::Rejected),
        (S::Pending, A::Expire, S::Expired),
        (S::Active, A::Pause, S::Paused),
        (S::Active, A::Revoke, S::Revoked),
        (S::Active, A::Expire, S::Expired),
        (S::Paused, A::Resume, S::Active),
        (S::Paused, A::Revoke, S::Revoked),
        (S::Paused, A::Expire, S::Expired),
    ];
    let mut checked = 0;
    for from in Status::ALL {
        for action in Action::ALL {
            let expected = allowed
                .iter()
                .find(|(f, a, _)| *f == from && *a == action)
                .map(|(_, _, to)| *to);
            match (transition(from, action), expected) {
                (Ok(to), Some(want)) => assert_eq!(to, want, "{from:?} {action:?}"),
                (Err(refused), None) => {
                    assert_eq!(refused, TransitionRefused { from, action });
                    assert!(refused.to_string().contains(from.as_str()), "{refused}");
                }
                (got, want) => panic!("{from:?} {action:?}: got {got:?}, want {want:?}"),
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 36);
    for status in Status::ALL {
        let leaves = Action::ALL.iter().any(|&a| transition(status, a).is_ok());
        assert_eq!(status.is_final(), !leaves, "{status:?}");
    }
}

#[test]
fn authorise_allows_what_the_consent_allows() {
    assert_eq!(
        authorise(&consent(Status::Active), &fetch(), NOW, 0),
        Ok(())
    );
    assert_eq!(
        authorise(&consent(Status::Active), &fetch(), NOW, 1),
        Ok(())
    );
}

#[test]
fn authorise_denies_each_reason_with_its_code() {
    let active = consent(Status::Active);
    let until = active.terms.validity.to_s;
    let other = |f: fn(&mut FetchRequest)| {
        let mut request = fetch();
        f(&mut request);
        request
    };
    let tomorrow_hkt = {
        // NOW is 08:00 in Hong Kong; the next day starts at 16:00 UTC.
        NOW + 16 * 3600
    };
    let cases: Vec<(Consent, FetchRequest, i64, u32, Denial, ErrorCode)> = vec![
        (
            active.clone(),
            other(|r| r.consumer = ParticipantId::parse("bank-003").unwrap()),
            NOW,
            0,
            Denial::WrongConsumer,
            ErrorCode::ExchangeConsentWrongConsumer,
        ),
        (
            consent(Status::Pending),
            fetch(),
            NOW,
            0,
            Denial::Pending,
            ErrorCode::ExchangeConsentPending,
        ),
        (
            consent(Status::Paused),
            fetch(),
            NOW,
            0,
            Denial::Paused,
            ErrorCode::ExchangeConsentPaused,
        ),
        (
            consent(Status::Revoked),
            fetch(),
            NOW,
            0,
            Denial::Revoked,
            ErrorCode::ExchangeConsentRevoked,
        ),
        (
            consent(Status::Expired),
            fetch(),
            NOW,
            0,
            Denial::Expired,
            ErrorCode::ExchangeConsentExpired,
        ),
        (
            consent(Status::Rejected),
            fetch(),
            NOW,
            0,
            Denial::Rejected,
            ErrorCode::ExchangeConsentRejected,
        ),
        (
            active.clone(),
            fetch(),
            NOW - 1,
            0,
            Denial::NotYetValid { from_s: NOW },
            ErrorCode::ExchangeConsentNotYetValid,
        ),
        (
            active.clone(),
            fetch(),
            until + 1,
            0,
            Denial::ValidityEnded { until_s: until },
            ErrorCode::ExchangeConsentExpired,
        ),
        (
            active.clone(),
            other(|r| r.provider = ParticipantId::parse("bank-012").unwrap()),
            NOW,
            0,
            Denial::Provider(ParticipantId::parse("bank-012").unwrap()),
            ErrorCode::ExchangeConsentProvider,
        ),
        (
            active.clone(),
            other(|r| {
                r.products
                    .push(ProductId::parse("iads.account_status").unwrap())
            }),
            NOW,
            0,
            Denial::Product(ProductId::parse("iads.account_status").unwrap()),
            ErrorCode::ExchangeConsentProduct,
        ),
        (
            active.clone(),
            other(|r| r.range.from_s = NOW - 400 * DAY),
            NOW,
            0,
            Denial::DateRange {
                allowed: active.terms.data_range,
            },
            ErrorCode::ExchangeConsentDateRange,
        ),
        (
            active.clone(),
            other(|r| {
                r.range = Span {
                    from_s: NOW,
                    to_s: NOW - 1,
                }
            }),
            NOW,
            0,
            Denial::DateRange {
                allowed: active.terms.data_range,
            },
            ErrorCode::ExchangeConsentDateRange,
        ),
        (
            active.clone(),
            fetch(),
            NOW,
            2,
            Denial::Frequency {
                next_allowed_at_s: Some(tomorrow_hkt),
            },
            ErrorCode::ExchangeConsentFrequency,
        ),
    ];
    for (consent, request, now, uses, denial, code) in cases {
        assert_eq!(
            authorise(&consent, &request, now, uses),
            Err(denial.clone())
        );
        assert_eq!(denial.code(), code, "{denial:?}");
    }
}

#[test]
fn a_onetime_consent_is_used_once_and_never_again() {
    let mut onetime = consent(Status::Active);
    onetime.terms.fetch_type = FetchType::Onetime;
    onetime.terms.frequency.value = 1;
    assert_eq!(authorise(&onetime, &fetch(), NOW, 0), Ok(()));
    assert_eq!(
        authorise(&onetime, &fetch(), NOW + 300 * DAY / 10, 1),
        Err(Denial::Frequency {
            next_allowed_at_s: None
        })
    );
}

#[test]
fn frequency_windows_follow_the_hong_kong_calendar() {
    let mut t = terms();
    // 2026-01-31T20:00:00+08:00: the last day of January in Hong Kong.
    let at = 1_769_860_800;
    let cases = [
        (TimeUnit::Hour, 1_769_860_800, 1_769_864_400),
        (TimeUnit::Day, 1_769_788_800, 1_769_875_200),
        (TimeUnit::Month, 1_767_196_800, 1_769_875_200),
        (TimeUnit::Year, 1_767_196_800, 1_798_732_800),
    ];
    for (unit, start, end) in cases {
        t.frequency.unit = unit;
        assert_eq!(frequency_window(&t, at), (start, Some(end)), "{unit:?}");
    }
    // December rolls over into January of the next year.
    t.frequency.unit = TimeUnit::Month;
    let december = 1_796_054_400; // 2026-12-01T00:00:00+08:00
    assert_eq!(
        frequency_window(&t, december + DAY),
        (december, Some(1_798_732_800))
    );
}

#[test]
fn a_valid_request_parses_to_its_terms() {
    let t = terms();
    assert_eq!(t.purpose.code, PurposeCode::CreditAssessment);
    assert_eq!(
        t.owner.approver().as_str(),
        "3f0c6a52-6d0e-4a57-9a0b-0c1f1f1f1f1f"
    );
    assert_eq!(
        t.validity,
        Span {
            from_s: NOW,
            to_s: NOW + 90 * DAY
        }
    );
    assert_eq!(
        t.frequency,
        Frequency {
            unit: TimeUnit::Day,
            value: 2
        }
    );
    assert_eq!(t.data_life, None);
    let mut company = request_json();
    company["owner"] = json!({"company": "CR-1234567", "representative": "r-1"});
    company["mode"] = json!("STORE");
    company["data_life"] = json!({"unit": "MONTH", "value": 3});
    let t = parse_request(&company, &consumer(), &PRODUCTS, NOW).unwrap();
    assert_eq!(t.owner.company().map(CompanyId::as_str), Some("CR-1234567"));
    assert_eq!(t.owner.approver().as_str(), "r-1");
    assert_eq!(
        t.data_life,
        Some(DataLife {
            unit: TimeUnit::Month,
            value: 3
        })
    );
}

/// Each change to a valid request, and the pointers it must be refused with.
fn check(change: impl Fn(&mut Value), pointers: &[&str]) {
    let mut request = request_json();
    change(&mut request);
    let errors = parse_request(&request, &consumer(), &PRODUCTS, NOW).unwrap_err();
    let got: Vec<&str> = errors.iter().map(|e| e.pointer.as_str()).collect();
    assert_eq!(got, pointers, "{request}");
}

#[test]
fn a_return_url_is_kept_when_https_or_loopback() {
    for good in [
        "https://bank.example/consent/done?x=1",
        "http://localhost:8080/done",
    ] {
        let mut request = request_json();
        request["return_url"] = json!(good);
        let terms = parse_request(&request, &consumer(), &PRODUCTS, NOW).unwrap();
        assert_eq!(terms.return_url.as_deref(), Some(good));
    }
    assert_eq!(terms().return_url, None);
}

/// Found with the `exchange_parse` fuzz target's round trip (its seed `consent-edges` sits on
/// both limits): terms are written back as a request, and shown on a receipt, only if each
/// time is an RFC 3339 date-time in UTC; the return URL is kept percent-encoded. Both limits
/// hold for what is kept, not only for what was sent.
#[test]
fn what_parses_can_be_written_back() {
    let late = "9999-12-31T23:00:00-02:00";
    check(|r| r["data_range"]["to"] = json!(late), &["/data_range/to"]);
    check(
        |r| {
            r["validity"]["from"] = json!("9999-06-01T00:00:00Z");
            r["validity"]["until"] = json!(late);
        },
        &["/validity/until"],
    );
    let last = *RFC3339_UTC_RANGE_S.end();
    assert_eq!(rfc3339(last), "9999-12-31T23:59:59Z");
    assert_eq!(
        rfc3339(*RFC3339_UTC_RANGE_S.start()),
        "0000-01-01T00:00:00Z"
    );
    assert_eq!(rfc3339(last + 1), (last + 1).to_string());
    let mut request = request_json();
    request["data_range"]["to"] = json!("9999-12-31T21:59:59-02:00");
    let terms = parse_request(&request, &consumer(), &PRODUCTS, NOW).unwrap();
    assert_eq!(terms.data_range.to_s, last);
    // 1,000 two-byte characters are 2,021 bytes sent and 6,021 bytes percent-encoded.
    let long = format!("https://bank.example/{}", "é".repeat(1000));
    check(|r| r["return_url"] = json!(long), &["/return_url"]);
    let mut request = request_json();
    request["return_url"] = json!(format!("https://bank.example/{}", "é".repeat(337)));
    let terms = parse_request(&request, &consumer(), &PRODUCTS, NOW).unwrap();
    assert_eq!(terms.return_url.map(|u| u.len()), Some(2043));
}

#[test]
fn invalid_requests_name_their_fields() {
    check(|r| r["purpose"]["code"] = json!("999"), &["/purpose/code"]);
    check(|r| r["purpose"]["text"] = json!("  "), &["/purpose/text"]);
    check(|r| r["products"] = json!([]), &["/products"]);
    check(
        |r| r["products"] = json!(["iads.balance", 7]),
        &["/products/1"],
    );
    check(
        |r| r["products"] = json!(["iads.pension"]),
        &["/products/0"],
    );
    check(
        |r| r["products"] = json!(["iads.balance", "iads.balance"]),
        &["/products/1"],
    );
    check(
        |r| r["providers"] = json!(["bank-004", "bank-024"]),
        &["/providers/1"],
    );
    check(|r| r["providers"] = json!("bank-004"), &["/providers"]);
    check(
        |r| r["owner"] = json!({"resident": "x", "company": "y"}),
        &["/owner"],
    );
    check(
        |r| r["owner"] = json!({"resident": "not an id"}),
        &["/owner/resident"],
    );
    check(
        |r| r["owner"] = json!({"company": "c", "representative": ""}),
        &["/owner/representative"],
    );
    check(
        |r| r["data_range"]["from"] = json!("yesterday"),
        &["/data_range/from"],
    );
    check(
        |r| r["data_range"]["to"] = json!(rfc3339(NOW - 400 * DAY)),
        &["/data_range/to"],
    );
    check(
        |r| r["frequency"]["unit"] = json!("WEEK"),
        &["/frequency/unit"],
    );
    check(
        |r| r["frequency"]["value"] = json!(0),
        &["/frequency/value"],
    );
    check(
        |r| r["frequency"]["value"] = json!(-1),
        &["/frequency/value"],
    );
    check(
        |r| r["frequency"]["value"] = json!("2"),
        &["/frequency/value"],
    );
    check(
        |r| r["validity"]["until"] = json!(rfc3339(NOW - 10)),
        &["/validity/until"],
    );
    check(
        |r| r["validity"]["until"] = json!(rfc3339(NOW + 366 * DAY)),
        &["/validity/until"],
    );
    check(
        |r| {
            r["validity"]["from"] = json!(rfc3339(NOW - 20 * DAY));
            r["validity"]["until"] = json!(rfc3339(NOW - 10 * DAY));
        },
        &["/validity/until"],
    );
    check(|r| r["mode"] = json!("STREAM"), &["/mode"]);
    check(
        |r| r["fetch_type"] = json!("ONETIME"),
        &["/frequency/value"],
    );
    check(|r| r["mode"] = json!("STORE"), &["/data_life"]);
    check(
        |r| r["data_life"] = json!({"unit": "DAY", "value": 3}),
        &["/data_life"],
    );
    check(|r| r["colour"] = json!("blue"), &["/colour"]);
    for bad in [
        json!("http://bank.example/done"),
        json!("/relative"),
        json!("https://bank.example/done#x"),
        json!("https://user:pw@bank.example/"),
        json!(format!("https://bank.example/{}", "a".repeat(2048))),
        json!(7),
    ] {
        check(|r| r["return_url"] = bad.clone(), &["/return_url"]);
    }
    check(
        |r| {
            r.as_object_mut().unwrap().remove("mode");
            r["fetch_type"] = json!(1);
        },
        &["/mode", "/fetch_type"],
    );
    assert_eq!(
        parse_request(&json!([1]), &consumer(), &PRODUCTS, NOW).unwrap_err()[0].pointer,
        ""
    );
}

fn signer() -> Es256Signer {
    let group = openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1).unwrap();
    let key =
        openssl::pkey::PKey::from_ec_key(openssl::ec::EcKey::generate(&group).unwrap()).unwrap();
    Es256Signer::new(key, Some("gateway-1".into())).unwrap()
}

#[test]
fn the_artefact_is_signed_and_bound_to_its_consent() {
    let signer = signer();
    let active = consent(Status::Active);
    let claims = artefact::claims(&active, NOW);
    assert_eq!(claims["ver"], "1");
    assert_eq!(claims["consent_id"], "c-1");
    assert_eq!(
        claims["products"],
        json!(["iads.balance", "iads.transactions"])
    );
    assert_eq!(claims["frequency"], json!({"unit": "DAY", "value": 2}));
    let jws = signer.sign(&claims).unwrap();
    assert_eq!(signer.verify(&jws).unwrap(), claims);
    assert_eq!(artefact::check(&signer, &jws, &active), Ok(()));
    // Another consent's terms, another key, or one altered byte: refused.
    let mut other = active.clone();
    other.terms.frequency.value = 50;
    assert!(artefact::check(&signer, &jws, &other).is_err());
    assert!(artefact::check(&self::signer(), &jws, &active).is_err());
    let (head, sig) = jws.rsplit_once('.').unwrap();
    let flipped = if sig.starts_with('A') { "B" } else { "A" };
    let tampered = format!("{head}.{flipped}{}", &sig[1..]);
    assert!(signer.verify(&tampered).is_err());
}

fn context() -> ReceiptContext {
    let controller = |name: &str| Controller {
        pii_controller: name.into(),
        on_behalf: false,
        contact: "Data Protection Officer".into(),
        address: "Hong Kong".into(),
        email: "dpo@example.hk".into(),
        phone: "+852 2000 0000".into(),
        pii_controller_url: None,
    };
    ReceiptContext {
        operator: controller("Bauhinia exchange"),
        policy_url: "https://example.hk/privacy".into(),
        withdraw_url: "https://example.hk/exchange/consents".into(),
    }
}

#[test]
fn the_receipt_has_the_kantara_and_27560_fields() {
    let active = consent(Status::Active);
    let events = vec![
        ConsentEvent {
            at_s: NOW,
            kind: EVENT_REQUEST.into(),
            actor: "participant:bank-024".into(),
            from: None,
            to: Status::Pending,
        },
        ConsentEvent {
            at_s: NOW + 60,
            kind: "approve".into(),
            actor: "resident:r-1".into(),
            from: Some(Status::Pending),
            to: Status::Active,
        },
        ConsentEvent {
            at_s: NOW + 120,
            kind: "revoke".into(),
            actor: "resident:r-1".into(),
            from: Some(Status::Active),
            to: Status::Revoked,
        },
    ];
    let receipt = serde_json::to_value(receipt::receipt(
        &active,
        &events,
        &context(),
        &Controller::named("Bank 024"),
        Lang::En,
    ))
    .unwrap();
    for field in [
        "version",
        "jurisdiction",
        "consentTimestamp",
        "collectionMethod",
        "consentReceiptID",
        "language",
        "piiPrincipalId",
        "piiControllers",
        "policyUrl",
        "services",
        "sensitive",
        "spiCat",
        "schemaVersion",
        "recordId",
        "notice",
        "lawfulBasis",
        "retention",
        "processingLocations",
        "withdrawal",
        "events",
    ] {
        assert!(receipt.get(field).is_some(), "no {field} in {receipt}");
    }
    assert_eq!(receipt["jurisdiction"], "HK");
    assert_eq!(receipt["consentTimestamp"], NOW + 60);
    assert_eq!(
        receipt["piiPrincipalId"],
        "resident:3f0c6a52-6d0e-4a57-9a0b-0c1f1f1f1f1f"
    );
    let purpose = &receipt["services"][0]["purposes"][0];
    for field in [
        "purpose",
        "purposeCategory",
        "consentType",
        "piiCategory",
        "primaryPurpose",
        "termination",
        "thirdPartyDisclosure",
        "thirdPartyName",
    ] {
        assert!(purpose.get(field).is_some(), "no {field} in {purpose}");
    }
    assert_eq!(purpose["thirdPartyName"], "bank-024");
    let states: Vec<&Value> = receipt["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["state"])
        .collect();
    assert_eq!(states, [&Value::Null, &json!("given"), &json!("withdrawn")]);
    let zh = receipt::notice(&active, Lang::ZhHant);
    assert!(zh.contains("信貸評估") && zh.contains("bank-004"), "{zh}");
}

fn action() -> impl Strategy<Value = Action> {
    prop::sample::select(Action::ALL.to_vec())
}

proptest! {
    #[test]
    fn any_request_json_is_parsed_or_refused_without_panic(json in arbitrary_json(3)) {
        let _ = parse_request(&json, &consumer(), &PRODUCTS, NOW);
    }

    #[test]
    fn any_mutation_of_a_valid_request_is_parsed_or_refused(
        key in prop::sample::select(REQUEST_FIELDS.to_vec()),
        value in arbitrary_json(2),
    ) {
        let mut request = request_json();
        request[key] = value;
        if let Err(errors) = parse_request(&request, &consumer(), &PRODUCTS, NOW) {
            prop_assert!(!errors.is_empty());
            for error in errors {
                prop_assert!(error.pointer.starts_with('/'), "{}", error.pointer);
            }
        }
    }

    #[test]
    fn any_sequence_of_actions_stays_in_the_table(actions in prop::collection::vec(action(), 0..30)) {
        let mut status = Status::Pending;
        for action in actions {
            match transition(status, action) {
                Ok(next) => {
                    prop_assert!(!status.is_final());
                    status = next;
                }
                Err(refused) => prop_assert_eq!(refused.from, status),
            }
            prop_assert!(Status::ALL.contains(&status));
        }
    }
}

fn arbitrary_json(depth: u32) -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,20}".prop_map(Value::String),
        prop::sample::select(vec![
            "102",
            "DAY",
            "VIEW",
            "2026-01-01T00:00:00Z",
            "iads.balance"
        ])
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(depth, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop::sample::select(
                    [
                        "code",
                        "text",
                        "resident",
                        "company",
                        "representative",
                        "from",
                        "to",
                        "until",
                        "unit",
                        "value",
                        "x",
                    ]
                    .into_iter()
                    .chain(REQUEST_FIELDS)
                    .collect::<Vec<_>>()
                )
                .prop_map(str::to_owned),
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

#[test]
fn a_denial_travels_as_a_problem_with_its_code_and_reason() {
    use super::service::ConsentError;
    let next = NOW + 16 * 3600;
    let problem = ConsentError::Denied(Denial::Frequency {
        next_allowed_at_s: Some(next),
    })
    .problem();
    assert_eq!(problem.code, ErrorCode::ExchangeConsentFrequency);
    assert_eq!(problem.reason, Some("frequency"));
    let detail = problem.detail.unwrap_or_default();
    assert!(detail.contains("2026-01-15T16:00:00Z"), "{detail}");
    let problem =
        ConsentError::Invalid(vec![bauhinia_core::FieldError::new("/mode", "x")]).problem();
    assert_eq!(problem.code, ErrorCode::ExchangeConsentInvalid);
    assert_eq!(problem.errors.len(), 1);
    assert_eq!(
        ConsentError::NotOwner.problem().code,
        ErrorCode::ExchangeConsentNotOwner
    );
    let refused = TransitionRefused {
        from: Status::Revoked,
        action: Action::Resume,
    };
    let problem = ConsentError::Refused(refused).problem();
    assert_eq!(problem.code, ErrorCode::ExchangeConsentState);
    assert!(problem.detail.unwrap_or_default().contains("REVOKED"));
}
