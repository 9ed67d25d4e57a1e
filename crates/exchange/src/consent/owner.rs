//! What the owner's pages read: a consent shown only to the resident who may manage it. A
//! refusal (no such consent, or someone else) is audited like the owner's actions are, so an
//! owner's usage log also shows who tried to look.

use super::domain::{Consent, ConsentId, ParticipantId, ResidentId};
use super::receipt::{Controller, Receipt};
use super::service::{ConsentError, Consents};
use super::store::refusal_records;

/// The audit action of an owner's view of a consent.
pub const VIEW_ACTION: &str = "exchange.consent.view";
/// The audit action of a participant's read of a consent.
pub const READ_ACTION: &str = "exchange.consent.read";

impl Consents {
    /// The consent, for its consumer or a provider it names: to any other participant it does
    /// not exist ([`ConsentError::NotFound`], so nothing is learnt of it), and that refusal is
    /// audited.
    pub async fn for_participant(
        &self,
        id: &ConsentId,
        by: &ParticipantId,
    ) -> Result<Consent, ConsentError> {
        let consent = self.get(id).await?;
        let t = &consent.terms;
        if t.consumer == *by || t.providers.contains(by) {
            return Ok(consent);
        }
        let records = refusal_records(
            &format!("participant:{by}"),
            READ_ACTION,
            id.as_str(),
            "not_named",
            serde_json::Value::Null,
        );
        self.store().record(&records).await?;
        Err(ConsentError::NotFound)
    }

    /// The consent, for its owner (or the company's representative) alone: anyone else gets
    /// [`ConsentError::NotOwner`], an unknown id [`ConsentError::NotFound`]; both audited.
    pub async fn for_owner(
        &self,
        id: &ConsentId,
        by: &ResidentId,
    ) -> Result<Consent, ConsentError> {
        let actor = format!("resident:{by}");
        let refuse = |reason: &str| {
            refusal_records(
                &actor,
                VIEW_ACTION,
                id.as_str(),
                reason,
                serde_json::Value::Null,
            )
        };
        let Some(consent) = self.store().get(id).await? else {
            self.store().record(&refuse("not_found")).await?;
            return Err(ConsentError::NotFound);
        };
        if consent.terms.owner.approver() != by {
            self.store().record(&refuse("not_owner")).await?;
            return Err(ConsentError::NotOwner);
        }
        Ok(consent)
    }

    /// The owner's receipt ([`Consents::receipt`]), refused to anyone else as
    /// [`Consents::for_owner`] refuses.
    pub async fn receipt_for_owner(
        &self,
        id: &ConsentId,
        by: &ResidentId,
        lang: bauhinia_core::Lang,
        consumer: &Controller,
    ) -> Result<Receipt, ConsentError> {
        self.for_owner(id, by).await?;
        self.receipt(id, lang, consumer).await
    }
}
