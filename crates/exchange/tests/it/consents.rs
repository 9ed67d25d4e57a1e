//! The consents service on both dialects: the lifecycle with its history and audit, someone
//! else's approval refused and audited, racing approvals (one wins), concurrent fetches at the
//! frequency limit (exactly the limit pass), expiry by time, and the owner's, provider's and
//! consumer's lists.

use std::sync::Arc;

use bauhinia_core::{ErrorCode, Lang};
use bauhinia_exchange::consent::artefact::Es256Signer;
use bauhinia_exchange::consent::domain::{
    rfc3339, Action, ConsentId, Denial, FetchRequest, OwnerAction, ParticipantId, ProductId,
    ResidentId, Span, Status, TransitionRefused, APPROVAL_WINDOW_S,
};
use bauhinia_exchange::consent::receipt::{Controller, ReceiptContext};
use bauhinia_exchange::consent::{ConsentError, Consents, ConsentsConfig};
use bauhinia_store::testing::TestDb;
use bauhinia_store::Database;
use serde_json::{json, Value};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// 2026-01-15T00:00:00Z.
pub(crate) const NOW: i64 = 1_768_435_200;
const DAY: i64 = 86_400;
pub(crate) const OWNER: &str = "5b1e0f7c-0000-4000-8000-000000000001";
const STRANGER: &str = "5b1e0f7c-0000-4000-8000-000000000002";

pub(crate) fn id<T>(parse: fn(&str) -> Option<T>, text: &str) -> Result<T, Error> {
    parse(text).ok_or_else(|| format!("bad id {text}").into())
}

fn controller(name: &str) -> Controller {
    Controller {
        pii_controller: name.into(),
        on_behalf: false,
        contact: "Data Protection Officer".into(),
        address: "Hong Kong".into(),
        email: "dpo@example.hk".into(),
        phone: "+852 2000 0000".into(),
        pii_controller_url: None,
    }
}

fn service(db: &Database) -> Result<Consents, Error> {
    let group = openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1)?;
    let key = openssl::pkey::PKey::from_ec_key(openssl::ec::EcKey::generate(&group)?)?;
    let signer = Es256Signer::new(key, Some("gateway-test".into()))?;
    Ok(Consents::new(
        db,
        ConsentsConfig {
            signer: Arc::new(signer),
            known_products: ["iads.balance", "iads.transactions", "iads.account_status"]
                .map(str::to_owned)
                .to_vec(),
            receipt: ReceiptContext {
                operator: controller("Bauhinia exchange"),
                policy_url: "https://example.hk/privacy".into(),
                withdraw_url: "https://example.hk/exchange/consents".into(),
            },
        },
    ))
}

pub(crate) fn request(owner: Value, frequency: u32) -> Value {
    json!({
        "purpose": {"code": "102", "text": "To assess your loan application"},
        "products": ["iads.balance", "iads.transactions"],
        "owner": owner,
        "providers": ["bank-004", "bank-012"],
        "data_range": {"from": rfc3339(NOW - 365 * DAY), "to": rfc3339(NOW + 90 * DAY)},
        "frequency": {"unit": "DAY", "value": frequency},
        "validity": {"from": rfc3339(NOW), "until": rfc3339(NOW + 90 * DAY)},
        "mode": "VIEW",
        "fetch_type": "PERIODIC",
    })
}

fn fetch() -> Result<FetchRequest, Error> {
    Ok(FetchRequest {
        consumer: id(ParticipantId::parse, "bank-024")?,
        provider: id(ParticipantId::parse, "bank-004")?,
        products: vec![id(ProductId::parse, "iads.balance")?],
        range: Span {
            from_s: NOW - 30 * DAY,
            to_s: NOW,
        },
    })
}

/// (action, outcome, reason) of the consent's audit events, oldest first.
async fn audit(db: &Database, consent: &ConsentId) -> Result<Vec<(String, String, String)>, Error> {
    let records = db
        .audit_for_subject(&format!("consent:{consent}"), 1000)
        .await?;
    records
        .into_iter()
        .map(|r| {
            let detail: Value = serde_json::from_str(&r.detail)?;
            let reason = detail
                .get("reason")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            Ok((r.action, r.outcome, reason))
        })
        .collect()
}

pub(crate) fn owner() -> Result<ResidentId, Error> {
    id(ResidentId::parse, OWNER)
}

async fn lifecycle(db: &Database) -> Result<(), Error> {
    let consents = service(db)?;
    let consumer = id(ParticipantId::parse, "bank-024")?;
    let me = owner()?;
    let c = consents
        .request(&consumer, &request(json!({ "resident": OWNER }), 5), NOW)
        .await?;
    assert_eq!(c.status, Status::Pending);
    assert_eq!(c.approval_deadline_s, NOW + APPROVAL_WINDOW_S);
    assert_eq!(consents.get(&c.id).await?, c);
    assert!(matches!(
        consents
            .check_and_record_use(&c.id, &fetch()?, None, NOW + 1)
            .await,
        Err(ConsentError::Denied(Denial::Pending))
    ));

    let active = consents
        .act(&c.id, &me, OwnerAction::Approve, NOW + 60)
        .await?;
    assert_eq!(active.status, Status::Active);
    assert_eq!(active.version, 2);
    assert!(active.artefact.is_some());
    assert!(consents.check_artefact(&c.id).await?);
    let (used, consent) = consents
        .check_and_record_use(&c.id, &fetch()?, None, NOW + 120)
        .await?;
    assert_eq!(used.at_s, NOW + 120);
    assert_eq!(consent.id, c.id);

    assert_eq!(
        consents
            .act(&c.id, &me, OwnerAction::Pause, NOW + 180)
            .await?
            .status,
        Status::Paused
    );
    let denied = consents
        .check_and_record_use(&c.id, &fetch()?, None, NOW + 181)
        .await;
    let Err(ConsentError::Denied(Denial::Paused)) = denied else {
        return Err(format!("a paused consent served a fetch: {denied:?}").into());
    };
    assert_eq!(
        ConsentError::Denied(Denial::Paused).problem().code,
        ErrorCode::ExchangeConsentPaused
    );
    assert_eq!(
        consents
            .act(&c.id, &me, OwnerAction::Resume, NOW + 240)
            .await?
            .status,
        Status::Active
    );
    // Resuming twice is a transition the table refuses, naming the status.
    match consents
        .act(&c.id, &me, OwnerAction::Resume, NOW + 241)
        .await
    {
        Err(ConsentError::Refused(TransitionRefused {
            from: Status::Active,
            action: Action::Resume,
        })) => {}
        other => return Err(format!("resumed an active consent: {other:?}").into()),
    }
    assert_eq!(
        consents
            .act(&c.id, &me, OwnerAction::Revoke, NOW + 300)
            .await?
            .status,
        Status::Revoked
    );
    assert!(matches!(
        consents
            .check_and_record_use(&c.id, &fetch()?, None, NOW + 301)
            .await,
        Err(ConsentError::Denied(Denial::Revoked))
    ));
    assert!(matches!(
        consents
            .act(&c.id, &me, OwnerAction::Resume, NOW + 302)
            .await,
        Err(ConsentError::Refused(_))
    ));

    let kinds: Vec<String> = consents
        .store()
        .events(&c.id)
        .await?
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds, ["request", "approve", "pause", "resume", "revoke"]);
    let expected = [
        ("exchange.consent.request", "success", ""),
        ("exchange.consent.use", "failure", "pending"),
        ("exchange.consent.approve", "success", ""),
        ("exchange.consent.use", "success", ""),
        ("exchange.consent.pause", "success", ""),
        ("exchange.consent.use", "failure", "paused"),
        ("exchange.consent.resume", "success", ""),
        ("exchange.consent.resume", "failure", "state"),
        ("exchange.consent.revoke", "success", ""),
        ("exchange.consent.use", "failure", "revoked"),
        ("exchange.consent.resume", "failure", "state"),
    ];
    let got = audit(db, &c.id).await?;
    let got: Vec<(&str, &str, &str)> = got
        .iter()
        .map(|(a, o, r)| (a.as_str(), o.as_str(), r.as_str()))
        .collect();
    assert_eq!(got, expected);
    // The same events, in the same order, on the hash chain, in the owner's usage log; and the
    // chain verifies.
    let chained: Vec<(String, Option<String>)> =
        bauhinia_exchange::chain::owner_log(db, OWNER, None, 100)
            .await?
            .into_iter()
            .rev()
            .filter(|r| r.consent.as_deref() == Some(c.id.as_str()))
            .map(|r| (r.kind, r.consent))
            .collect();
    let kinds: Vec<&str> = chained.iter().map(|(k, _)| k.as_str()).collect();
    let audited: Vec<&str> = expected.iter().map(|(a, _, _)| *a).collect();
    assert_eq!(kinds, audited);
    let report = bauhinia_exchange::chain::verify(db, |_| None).await?;
    assert!(report.intact(), "{}", report.summary());

    let bank = controller("Bank 024");
    let receipt = serde_json::to_value(consents.receipt(&c.id, Lang::En, &bank).await?)?;
    assert_eq!(
        receipt.pointer("/piiControllers/0/piiController"),
        Some(&json!("Bank 024"))
    );
    assert_eq!(receipt.get("consentTimestamp"), Some(&json!(NOW + 60)));
    assert_eq!(receipt.get("status"), Some(&json!("REVOKED")));
    let states: Vec<Value> = receipt
        .get("events")
        .and_then(Value::as_array)
        .ok_or("no events")?
        .iter()
        .map(|e| e.get("state").cloned().unwrap_or(Value::Null))
        .collect();
    assert_eq!(
        states,
        [
            Value::Null,
            json!("given"),
            json!("withdrawn"),
            json!("given"),
            json!("withdrawn")
        ]
    );

    let missing = id(ConsentId::parse, "no-such-consent")?;
    assert!(matches!(
        consents
            .check_and_record_use(&missing, &fetch()?, None, NOW)
            .await,
        Err(ConsentError::NotFound)
    ));
    assert_eq!(
        audit(db, &missing).await?,
        [(
            "exchange.consent.use".into(),
            "failure".into(),
            "not_found".into()
        )]
    );
    Ok(())
}

async fn someone_else_cannot_approve(db: &Database) -> Result<(), Error> {
    let consents = service(db)?;
    let consumer = id(ParticipantId::parse, "bank-024")?;
    let stranger = id(ResidentId::parse, STRANGER)?;
    let c = consents
        .request(&consumer, &request(json!({ "resident": OWNER }), 5), NOW)
        .await?;
    for action in [
        OwnerAction::Approve,
        OwnerAction::Reject,
        OwnerAction::Pause,
        OwnerAction::Resume,
        OwnerAction::Revoke,
    ] {
        let result = consents.act(&c.id, &stranger, action, NOW + 10).await;
        let Err(error @ ConsentError::NotOwner) = result else {
            return Err(format!("a stranger could {action:?}: {result:?}").into());
        };
        assert_eq!(error.problem().code, ErrorCode::ExchangeConsentNotOwner);
    }
    assert_eq!(consents.get(&c.id).await?.status, Status::Pending);
    let got: Vec<(String, String, String)> = audit(db, &c.id).await?;
    let refused: Vec<(&str, &str, &str)> = got
        .iter()
        .skip(1)
        .map(|(a, o, r)| (a.as_str(), o.as_str(), r.as_str()))
        .collect();
    assert_eq!(
        refused,
        ["approve", "reject", "pause", "resume", "revoke"]
            .map(|a| (format!("exchange.consent.{a}"), "failure", "not_owner"))
            .iter()
            .map(|(a, o, r)| (a.as_str(), *o, *r))
            .collect::<Vec<_>>()
    );
    let actors: Vec<String> = db
        .audit_for_subject(&format!("consent:{}", c.id), 10)
        .await?
        .into_iter()
        .map(|r| r.actor)
        .collect();
    assert_eq!(actors.get(1), Some(&format!("resident:{STRANGER}")));

    // A company's consent: its representative approves, nobody else (not even the company's
    // other residents).
    let company = request(
        json!({ "company": "CR-0001234", "representative": STRANGER }),
        5,
    );
    let c = consents.request(&consumer, &company, NOW).await?;
    assert!(matches!(
        consents
            .act(&c.id, &owner()?, OwnerAction::Approve, NOW + 5)
            .await,
        Err(ConsentError::NotOwner)
    ));
    assert_eq!(
        consents
            .act(&c.id, &stranger, OwnerAction::Approve, NOW + 6)
            .await?
            .status,
        Status::Active
    );
    Ok(())
}

async fn racing_approvals_one_wins(db: &Database) -> Result<(), Error> {
    let consents = service(db)?;
    let consumer = id(ParticipantId::parse, "bank-024")?;
    for round in 0..3 {
        let c = consents
            .request(&consumer, &request(json!({ "resident": OWNER }), 5), NOW)
            .await?;
        let mut tasks = Vec::new();
        for i in 0..8 {
            let (consents, id, me) = (consents.clone(), c.id.clone(), owner()?);
            tasks.push(tokio::spawn(async move {
                // Half approve and half reject, in the third round; all approve otherwise.
                if round == 2 && i % 2 == 1 {
                    consents.act(&id, &me, OwnerAction::Reject, NOW + 30).await
                } else {
                    consents.act(&id, &me, OwnerAction::Approve, NOW + 30).await
                }
            }));
        }
        let mut won = Vec::new();
        for task in tasks {
            match task.await? {
                Ok(consent) => won.push(consent.status),
                Err(ConsentError::Refused(TransitionRefused { from, .. })) => {
                    assert!(
                        matches!(from, Status::Active | Status::Rejected),
                        "{from:?}"
                    )
                }
                Err(other) => return Err(format!("unexpected {other:?}").into()),
            }
        }
        assert_eq!(won.len(), 1, "round {round}: {won:?}");
        let stored = consents.get(&c.id).await?;
        assert_eq!(Some(&stored.status), won.first());
        assert_eq!(stored.version, 2);
        assert_eq!(consents.store().events(&c.id).await?.len(), 2);
        let audit = audit(db, &c.id).await?;
        let successes = audit.iter().filter(|(_, o, _)| o == "success").count();
        let refusals = audit
            .iter()
            .filter(|(_, o, r)| o == "failure" && r == "state")
            .count();
        assert_eq!((successes, refusals), (2, 7), "{audit:?}");
    }
    Ok(())
}

async fn concurrent_uses_at_the_limit(db: &Database) -> Result<(), Error> {
    let consents = service(db)?;
    let consumer = id(ParticipantId::parse, "bank-024")?;
    for limit in [1_u32, 3] {
        let c = consents
            .request(
                &consumer,
                &request(json!({ "resident": OWNER }), limit),
                NOW,
            )
            .await?;
        consents
            .act(&c.id, &owner()?, OwnerAction::Approve, NOW + 1)
            .await?;
        let mut tasks = Vec::new();
        for _ in 0..10 {
            let (consents, id, request) = (consents.clone(), c.id.clone(), fetch()?);
            tasks.push(tokio::spawn(async move {
                consents
                    .check_and_record_use(&id, &request, None, NOW + 100)
                    .await
            }));
        }
        let (mut passed, mut limited) = (0, 0);
        for task in tasks {
            match task.await? {
                Ok(_) => passed += 1,
                Err(ConsentError::Denied(Denial::Frequency { next_allowed_at_s })) => {
                    // NOW is 08:00 in Hong Kong: the next day starts 16 hours later.
                    assert_eq!(next_allowed_at_s, Some(NOW + 16 * 3600));
                    limited += 1;
                }
                Err(other) => return Err(format!("unexpected {other:?}").into()),
            }
        }
        assert_eq!((passed, limited), (limit, 10 - limit));
        assert_eq!(consents.store().uses(&c.id).await?.len(), limit as usize);
        // The next Hong Kong day, the limit starts again.
        consents
            .check_and_record_use(&c.id, &fetch()?, None, NOW + 16 * 3600)
            .await?;
    }
    Ok(())
}

async fn lists_and_expiry(db: &Database) -> Result<(), Error> {
    let consents = service(db)?;
    let consumer = id(ParticipantId::parse, "bank-024")?;
    let me = owner()?;
    let used = consents
        .request(&consumer, &request(json!({ "resident": OWNER }), 5), NOW)
        .await?;
    consents
        .act(&used.id, &me, OwnerAction::Approve, NOW + 1)
        .await?;
    for at in [NOW + 10, NOW + 20] {
        consents
            .check_and_record_use(&used.id, &fetch()?, None, at)
            .await?;
    }
    let unused = consents
        .request(
            &consumer,
            &request(json!({ "resident": OWNER }), 5),
            NOW + 5,
        )
        .await?;
    let other = consents
        .request(
            &consumer,
            &request(json!({ "resident": STRANGER }), 5),
            NOW + 6,
        )
        .await?;

    let mine = consents.list_for_owner(&me).await?;
    let summary: Vec<(ConsentId, usize)> = mine
        .iter()
        .map(|c| (c.consent.id.clone(), c.uses.len()))
        .collect();
    assert_eq!(summary, [(unused.id.clone(), 0), (used.id.clone(), 2)]);
    let use_times: Vec<i64> = mine
        .iter()
        .flat_map(|c| c.uses.iter().map(|u| u.at_s))
        .collect();
    assert_eq!(use_times, [NOW + 20, NOW + 10]);
    let for_provider = consents
        .list_for_provider(&id(ParticipantId::parse, "bank-012")?)
        .await?;
    assert_eq!(for_provider.len(), 3);
    assert!(consents
        .list_for_provider(&id(ParticipantId::parse, "bank-099")?)
        .await?
        .is_empty());
    assert_eq!(consents.list_for_consumer(&consumer).await?.len(), 3);

    // The approval deadline passes: the two pending ones expire; approving one is refused.
    let late = NOW + APPROVAL_WINDOW_S + 10;
    match consents
        .act(&unused.id, &me, OwnerAction::Approve, late)
        .await
    {
        Err(ConsentError::Refused(TransitionRefused {
            from: Status::Expired,
            ..
        })) => {}
        result => return Err(format!("approved after the deadline: {result:?}").into()),
    }
    assert_eq!(consents.expire_due(late).await?, 1);
    assert_eq!(consents.get(&other.id).await?.status, Status::Expired);
    assert_eq!(consents.get(&used.id).await?.status, Status::Active);
    assert_eq!(consents.expire_due(late).await?, 0);
    // The validity ends: the active one expires too.
    let after = NOW + 90 * DAY + 1;
    assert_eq!(consents.expire_due(after).await?, 1);
    assert_eq!(consents.get(&used.id).await?.status, Status::Expired);
    let kinds: Vec<(String, String)> = consents
        .store()
        .events(&used.id)
        .await?
        .into_iter()
        .map(|e| (e.kind, e.actor))
        .collect();
    assert_eq!(kinds.last(), Some(&("expire".into(), "system".into())));
    Ok(())
}

/// Every sequence of three owner actions, on the real store: the stored status is always the
/// one the transition table gives, and a refused action changes nothing.
async fn every_action_sequence_follows_the_table(db: &Database) -> Result<(), Error> {
    use bauhinia_exchange::consent::domain::transition;
    let consents = service(db)?;
    let consumer = id(ParticipantId::parse, "bank-024")?;
    let me = owner()?;
    let all = [
        OwnerAction::Approve,
        OwnerAction::Reject,
        OwnerAction::Pause,
        OwnerAction::Resume,
        OwnerAction::Revoke,
    ];
    for first in all {
        for second in all {
            for third in all {
                let c = consents
                    .request(&consumer, &request(json!({ "resident": OWNER }), 5), NOW)
                    .await?;
                let mut model = Status::Pending;
                for (step, action) in [first, second, third].into_iter().enumerate() {
                    let at = NOW + 10 + step as i64;
                    let result = consents.act(&c.id, &me, action, at).await;
                    match (transition(model, action.into()), result) {
                        (Ok(next), Ok(stored)) => {
                            assert_eq!(stored.status, next);
                            model = next;
                        }
                        (Err(_), Err(ConsentError::Refused(refused))) => {
                            assert_eq!(refused.from, model)
                        }
                        (want, got) => {
                            return Err(format!(
                                "{first:?} {second:?} {third:?}: table {want:?}, store {got:?}"
                            )
                            .into())
                        }
                    }
                    assert_eq!(consents.get(&c.id).await?.status, model);
                }
            }
        }
    }
    Ok(())
}

on_both_dialects!(
    lifecycle,
    someone_else_cannot_approve,
    racing_approvals_one_wins,
    concurrent_uses_at_the_limit,
    lists_and_expiry,
    every_action_sequence_follows_the_table,
);
