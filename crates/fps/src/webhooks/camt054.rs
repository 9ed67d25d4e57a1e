//! Transfer and settlement events as ISO 20022 camt.054.001.08 (`BkToCstmrDbtCdtNtfctn`): one
//! `Ntfctn` per currency of the participant's settlement account, one `Ntry` per event, in
//! order. `NtryRef` is the event's `seq` (the cursor of the pull endpoint), `AcctSvcrRef` and
//! `TxId` the transfer's id in 32 hex digits (as in the camt.053 statement), `Sts` `BOOK` for
//! money that moved, `PDNG` for a reservation, `INFO` for a refusal or a void, and
//! `AddtlNtryInf` the event type (and a refusal's reason).

use bauhinia_core::{Currency, Money};
use serde::Deserialize;
use time::OffsetDateTime;

use crate::events::StoredEvent;
use crate::iso20022::{
    entry_status, Account, AccountId, AccountNotification, Amount, CodeOrProprietary, CreditDebit,
    DateOrDateTime, Entry, IsoDateTime, Message, Notification, OneOrMore, StatementHeader, Text,
};
use crate::switch::ParticipantCode;

/// The facts of a transfer event's payload (a [`crate::wire::TransferView`]) camt.054 needs.
#[derive(Debug, Deserialize)]
struct Facts {
    id: String,
    debtor: Option<String>,
    creditor: Option<String>,
    currency: Currency,
    amount: String,
    #[serde(default)]
    reference: String,
    #[serde(default)]
    reason: Option<String>,
    timestamp: String,
}

fn text<const N: usize>(value: &str) -> Result<Text<N>, String> {
    Text::new(value)
}

fn iso(t: OffsetDateTime) -> IsoDateTime {
    let t = t.to_offset(crate::statement::hong_kong());
    IsoDateTime {
        local: time::PrimitiveDateTime::new(t.date(), t.time()),
        offset: Some(t.offset()),
    }
}

fn status_of(kind: &str) -> &'static str {
    match kind {
        "transfer.pending" => entry_status::PENDING,
        "transfer.refused" | "transfer.voided" => entry_status::INFORMATION,
        _ => entry_status::BOOKED,
    }
}

fn entry(event: &StoredEvent, own: &str) -> Result<(Currency, Entry), String> {
    let facts: Facts = serde_json::from_str(&event.payload).map_err(|e| e.to_string())?;
    let money = Money::parse_decimal(&facts.amount, facts.currency).map_err(|e| e.to_string())?;
    let amount = Amount::new(money).ok_or("amount out of range")?;
    let credit = facts.creditor.as_deref() == Some(own) && facts.debtor.as_deref() != Some(own);
    let hex = facts.id.replace('-', "");
    let (bank_transaction_code, details) =
        crate::statement::movement_parts(&hex, &facts.reference, credit)?;
    let status = status_of(&event.kind);
    let at = OffsetDateTime::parse(
        &facts.timestamp,
        &time::format_description::well_known::Rfc3339,
    )
    .map(iso)
    .ok();
    let info = match &facts.reason {
        Some(reason) => format!("{} {reason}", event.kind),
        None => event.kind.clone(),
    };
    Ok((
        facts.currency,
        Entry {
            reference: Some(text(&event.seq.to_string())?),
            amount,
            credit_debit: if credit {
                CreditDebit::Credit
            } else {
                CreditDebit::Debit
            },
            status: CodeOrProprietary::code(status).ok_or("status")?,
            booking_date: at
                .filter(|_| status == entry_status::BOOKED)
                .map(DateOrDateTime::DateTime),
            value_date: None,
            account_servicer_reference: Some(text(&hex)?),
            bank_transaction_code,
            details,
            additional_info: Some(text(&info)?),
        },
    ))
}

/// The camt.054 message for `participant` of `events` (transfer and settlement events of that
/// participant; others are skipped). `id` names the message (at most 35 characters).
pub fn notification(
    participant: ParticipantCode,
    events: &[StoredEvent],
    id: &str,
) -> Result<Message, String> {
    let own = participant.as_str();
    let mut by_currency: Vec<(Currency, Vec<Entry>)> = Vec::new();
    for event in events
        .iter()
        .filter(|e| super::domain::is_account_event(&e.kind))
    {
        // An entry ISO 20022 cannot carry (an amount beyond 18 digits, only possible for a
        // refused transfer) is left out rather than withholding every other one.
        let (currency, entry) = match entry(event, &own) {
            Ok(made) => made,
            Err(why) => {
                tracing::warn!(seq = event.seq, error = %why, "event left out of camt.054");
                continue;
            }
        };
        match by_currency.iter_mut().find(|(c, _)| *c == currency) {
            Some((_, entries)) => entries.push(entry),
            None => by_currency.push((currency, vec![entry])),
        }
    }
    if by_currency.is_empty() {
        by_currency.push((Currency::Hkd, Vec::new()));
    }
    let now = iso(OffsetDateTime::now_utc());
    let notifications = by_currency
        .into_iter()
        .map(|(currency, entries)| {
            Ok(AccountNotification {
                id: text(&format!("{id}-{}", currency.code()))?,
                electronic_sequence: None,
                created: Some(now),
                period: None,
                account: Account {
                    id: AccountId::Other(text(&format!("FPS-{own}-{}", currency.code()))?),
                    currency: Some(currency),
                    name: None,
                    proxy: None,
                },
                entries,
                additional_info: None,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Message::Notification(Notification {
        header: StatementHeader {
            message_id: text(id)?,
            created: now,
        },
        notifications: OneOrMore::new(notifications).ok_or("no notification")?,
    }))
}
