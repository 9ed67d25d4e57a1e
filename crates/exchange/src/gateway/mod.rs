//! The gateway between data consumers and data providers: who is calling ([`auth`]), how fast
//! ([`limits`]), what a data request says ([`fetch`]), and who answers it ([`provider`]).
//!
//! A consented fetch, in order: the consumer's signature (a registered key of an active data
//! consumer); its rate limits; the request read strictly; the consent's own rate limit; the
//! provider (active, a data provider, providing every product); then, in one transaction, the
//! request's replay record, the consent check (consumer, status, validity, provider, products,
//! dates, frequency) and the use counted, audited and chained. Only then is the provider asked:
//! it seals the data to the consumer's one-time key and signs its answer, and the gateway
//! relays that answer's bytes unchanged. No payload is stored, and none can be read here.

pub mod auth;
pub mod fetch;
pub mod http;
pub mod limits;
pub mod provider;

use std::time::Duration;

use bauhinia_core::{ErrorCode, FieldError, Hkid, Problem};
use bauhinia_identity::IdentityService;
use bauhinia_store::audit::{AuditEvent, Outcome};
use serde_json::json;
use serde_json::Value;

use crate::consent::domain::{ConsentId, ParticipantId};
use crate::consent::store::Records;
use crate::consent::ConsentError;
use crate::directory::{DirectoryError, Role};
use crate::Exchange;
use auth::Caller;
use limits::Limited;
use provider::{hk_date, ProviderAnswer, ProviderError, ProviderRequest};

/// A data request served.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub use_id: i64,
    pub session: String,
    pub provider: String,
    pub answer: ProviderAnswer,
}

/// Why a data request was not served.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("the data request is invalid")]
    Invalid(Vec<FieldError>),
    #[error("the {} rate limit is reached", .0.as_str())]
    Limited(Limited, Duration),
    #[error("the provider: {0}")]
    Provider(DirectoryError),
    #[error(transparent)]
    Consent(#[from] ConsentError),
    #[error("the provider did not answer: {0}")]
    Upstream(ProviderError),
}

/// A 429 for a rate limit, `Retry-After` in whole seconds (at least 1).
pub fn limited_problem(which: Limited, wait: Duration) -> (Problem, u64) {
    let seconds = (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1);
    (
        Problem::new(ErrorCode::ExchangeRateLimited)
            .reason(which.as_str())
            .detail(format!(
                "the {} rate limit is reached; retry after {seconds} s",
                which.as_str()
            )),
        seconds,
    )
}

impl FetchError {
    /// The client's problem, and the `Retry-After` seconds when there is one.
    pub fn problem(&self) -> (Problem, Option<u64>) {
        match self {
            FetchError::Invalid(errors) => (
                Problem::new(ErrorCode::ExchangeFetchInvalid).errors(errors.clone()),
                None,
            ),
            FetchError::Limited(which, wait) => {
                let (problem, seconds) = limited_problem(*which, *wait);
                (problem, Some(seconds))
            }
            FetchError::Provider(e) => (
                match e {
                    DirectoryError::Suspended(id) => {
                        Problem::new(ErrorCode::ExchangeParticipantSuspended)
                            .detail(format!("the provider {id:?} is suspended"))
                    }
                    DirectoryError::WrongRole { id, .. } => {
                        Problem::new(ErrorCode::ExchangeParticipantRole)
                            .detail(format!("{id:?} is not a data provider"))
                    }
                    DirectoryError::NotFound(id) => {
                        Problem::new(ErrorCode::ExchangeParticipantNotFound)
                            .detail(format!("no provider {id:?}"))
                    }
                    other => Problem::internal(other),
                },
                None,
            ),
            FetchError::Consent(ConsentError::Denied(
                denial @ crate::consent::domain::Denial::Frequency {
                    next_allowed_at_s: Some(at),
                },
            )) => {
                let wait = u64::try_from(at.saturating_sub(crate::crypto::jws::now_s()))
                    .unwrap_or(0)
                    .max(1);
                (
                    Problem::new(denial.code())
                        .reason(denial.reason())
                        .detail(denial.to_string()),
                    Some(wait),
                )
            }
            FetchError::Consent(e) => (e.problem(), None),
            FetchError::Upstream(e) => (
                Problem::new(ErrorCode::ExchangeProviderUnavailable).detail(e.to_string()),
                None,
            ),
        }
    }

    /// The stable reason recorded when the refusal is audited here (the consent check audits
    /// its own).
    fn reason(&self) -> &'static str {
        match self {
            FetchError::Invalid(_) => "invalid",
            FetchError::Limited(Limited::Consent, _) => "rate_limited_consent",
            FetchError::Limited(_, _) => "rate_limited",
            FetchError::Provider(DirectoryError::Suspended(_)) => "provider_suspended",
            FetchError::Provider(DirectoryError::WrongRole { .. }) => "provider_role",
            FetchError::Provider(_) => "provider_unknown",
            FetchError::Consent(_) => "consent",
            FetchError::Upstream(_) => "provider_failed",
        }
    }
}

/// Records a refusal (or a failure after the use was counted) in the audit and on the chain.
pub async fn audit_refusal(
    exchange: &Exchange,
    actor: &str,
    action: &'static str,
    subject: String,
    detail: serde_json::Value,
) {
    let records = Records {
        history: Vec::new(),
        audit: vec![AuditEvent {
            actor: actor.to_owned(),
            action,
            subject,
            outcome: Outcome::Failure,
            detail,
            request_id: None,
        }],
        notifications: Vec::new(),
    };
    if let Err(e) = exchange.consents().store().record(&records).await {
        tracing::error!(error = %e, action, "recording a refusal in the audit failed");
    }
}

/// Serves a consumer's data request under `consent` (see the module's documentation for the
/// order of the checks). Every refusal is audited: by the consent check for its own, here for
/// the rest.
pub async fn fetch(
    exchange: &Exchange,
    caller: &Caller,
    consent: &ConsentId,
    body: &[u8],
    now_s: i64,
) -> Result<Fetched, FetchError> {
    let result = serve(exchange, caller, consent, body, now_s).await;
    if let Err(error) = &result {
        if !matches!(error, FetchError::Consent(_)) {
            let (problem, _) = error.problem();
            audit_refusal(
                exchange,
                &format!("participant:{}", caller.participant.id),
                "exchange.data.fetch",
                format!("consent:{consent}"),
                json!({ "reason": error.reason(), "code": problem.code.code() }),
            )
            .await;
        }
    }
    result
}

async fn serve(
    exchange: &Exchange,
    caller: &Caller,
    consent_id: &ConsentId,
    body: &[u8],
    now_s: i64,
) -> Result<Fetched, FetchError> {
    let spec = fetch::parse(body).map_err(FetchError::Invalid)?;
    exchange
        .limits()
        .consent(consent_id.as_str())
        .map_err(|(which, wait)| FetchError::Limited(which, wait))?;
    let provider = exchange
        .directory()
        .authorise(spec.provider.as_str(), Role::Provider)
        .await
        .map_err(FetchError::Provider)?;
    let not_provided: Vec<FieldError> = spec
        .products
        .iter()
        .enumerate()
        .filter(|(_, p)| !provider.provides(**p))
        .map(|(i, p)| {
            FieldError::new(
                format!("/products/{i}"),
                format!("{} does not provide {}", provider.id, p.as_str()),
            )
        })
        .collect();
    if !not_provided.is_empty() {
        return Err(FetchError::Invalid(not_provided));
    }
    let consumer = ParticipantId::parse(caller.participant.id.as_str())
        .ok_or_else(|| FetchError::Invalid(vec![FieldError::new("", "caller id")]))?;
    let request = spec.request(&consumer);
    // In one transaction: the replay record, the consent check (and its artefact: a consent
    // altered in the database moves no data), the counted use, the audit and the chain.
    let (used, consent) = exchange
        .consents()
        .check_and_record_use(consent_id, &request, Some(&caller.verified), now_s)
        .await?;
    let owner = match consent.terms.owner.company() {
        Some(company) => company.as_str().to_owned(),
        None => consent.terms.owner.approver().as_str().to_owned(),
    };
    let session = uuid::Uuid::new_v4().to_string();
    let answer = exchange
        .providers()
        .serve(&ProviderRequest {
            session: &session,
            consent: consent_id.as_str(),
            owner: &owner,
            consumer: consumer.as_str(),
            provider: &provider,
            products: &spec.products,
            from: hk_date(spec.range.from_s),
            to: hk_date(spec.range.to_s),
            key_material: &spec.key_material,
            request_jti: &caller.verified.jti,
        })
        .await
        .map_err(FetchError::Upstream)?;
    Ok(Fetched {
        use_id: used.id,
        session,
        provider: provider.id.as_str().to_owned(),
        answer,
    })
}

/// Replaces an owner named by HKID (`{"hkid": …}`, or a company's `representative_hkid`) with
/// the resident it belongs to. The HKID goes no further than this lookup.
pub async fn resolve_owner(identity: &IdentityService, request: &mut Value) -> Result<(), Problem> {
    let Some(owner) = request.get_mut("owner").and_then(Value::as_object_mut) else {
        return Ok(());
    };
    for (member, replacement, pointer) in [
        ("hkid", "resident", "/owner/hkid"),
        (
            "representative_hkid",
            "representative",
            "/owner/representative_hkid",
        ),
    ] {
        let Some(value) = owner.remove(member) else {
            continue;
        };
        let invalid = |detail: &str| {
            Problem::new(ErrorCode::ExchangeConsentInvalid)
                .errors(vec![FieldError::new(pointer, detail)])
        };
        let text = value
            .as_str()
            .ok_or_else(|| invalid("must be a string (an HKID)"))?;
        let hkid = Hkid::parse(text)
            .map_err(|_| invalid("is not a valid HKID (letters, six digits, check digit)"))?;
        let resident = identity
            .find_by_hkid(&hkid)
            .await
            .map_err(|e| Problem::internal(&e))?
            .ok_or_else(|| invalid("no resident with this HKID has registered for 智方便"))?;
        owner.insert(replacement.to_owned(), Value::String(resident.id));
    }
    Ok(())
}
