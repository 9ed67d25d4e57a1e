//! The switch: participants (banks and stored-value facilities by 3-digit code), their
//! settlement accounts per currency on ledger 1, the RTGS side that funds and defunds them,
//! participants' API tokens, and transfers between participants in real time, gross.
//!
//! Account ids are derived, not stored elsewhere: a participant's settlement account in a
//! currency is `1 << 64 | code << 8 | currency`, the RTGS side's is `2 << 64 | currency`.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use bauhinia_core::Currency;
use bauhinia_store::audit::{AuditEvent, Outcome as AuditOutcome};
use bauhinia_store::{read, write_tx, Database, StoreError};
use sha2::{Digest, Sha256};

use crate::ledger::journal::{self, id_bytes, Row16, TRANSFER_COLUMNS};
use crate::ledger::{Account, Id, Journal, Ledger, LedgerError, Outcome, Recorded, Transfer};

/// The FPS settlement ledger's number in the ledger tables.
pub const FPS_LEDGER: i64 = 1;
pub const CURRENCIES: [Currency; 2] = [Currency::Hkd, Currency::Cny];
/// Account codes.
pub const SETTLEMENT: u16 = 1;
pub const RTGS: u16 = 2;

fn currency_number(c: Currency) -> u128 {
    match c {
        Currency::Hkd => 344,
        Currency::Cny => 156,
    }
}

/// A 3-digit participant code, e.g. `004`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ParticipantCode(u16);

impl ParticipantCode {
    pub fn parse(text: &str) -> Option<ParticipantCode> {
        (text.len() == 3 && text.bytes().all(|b| b.is_ascii_digit()))
            .then(|| text.parse().ok().map(ParticipantCode))
            .flatten()
    }

    pub fn as_str(self) -> String {
        format!("{:03}", self.0)
    }

    pub fn number(self) -> u16 {
        self.0
    }

    pub fn settlement_account(self, currency: Currency) -> Id {
        (1u128 << 64) | (u128::from(self.0) << 16) | currency_number(currency)
    }
}

impl std::fmt::Display for ParticipantCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:03}", self.0)
    }
}

pub fn rtgs_account(currency: Currency) -> Id {
    (2u128 << 64) | currency_number(currency)
}

/// A movement between the RTGS side and a participant's settlement account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settlement {
    /// RTGS → the participant's settlement account.
    Fund,
    /// The participant's settlement account → RTGS.
    Defund,
}

impl Settlement {
    /// The single-phase transfer that makes it.
    pub fn transfer(
        self,
        id: Id,
        code: ParticipantCode,
        amount: bauhinia_core::Money,
        reference: &str,
    ) -> Transfer {
        let settlement = code.settlement_account(amount.currency);
        let rtgs = rtgs_account(amount.currency);
        let (debit_account, credit_account, purpose) = match self {
            Settlement::Fund => (rtgs, settlement, crate::wire::Purpose::SettlementFunding),
            Settlement::Defund => (settlement, rtgs, crate::wire::Purpose::SettlementDefunding),
        };
        Transfer {
            id,
            debit_account,
            credit_account,
            amount: amount.minor,
            currency: amount.currency,
            kind: crate::ledger::Kind::Single,
            linked: false,
            code: purpose.code(),
            user_data: 0,
            reference: reference.to_owned(),
        }
    }

    fn action(self) -> &'static str {
        match self {
            Settlement::Fund => "fps.settlement.fund",
            Settlement::Defund => "fps.settlement.defund",
        }
    }
}

/// Which participant owns a settlement account id, if it is one.
pub fn account_owner(id: Id) -> Option<(ParticipantCode, Currency)> {
    if id >> 64 != 1 {
        return None;
    }
    let code = u16::try_from((id >> 16) & 0xFFFF).ok()?;
    let currency = match id & 0xFFFF {
        344 => Currency::Hkd,
        156 => Currency::Cny,
        _ => return None,
    };
    Some((ParticipantCode(code), currency))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParticipantKind {
    Bank,
    DigitalBank,
    Svf,
}

impl ParticipantKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ParticipantKind::Bank => "bank",
            ParticipantKind::DigitalBank => "digital_bank",
            ParticipantKind::Svf => "svf",
        }
    }

    pub fn parse(s: &str) -> Option<ParticipantKind> {
        match s {
            "bank" => Some(ParticipantKind::Bank),
            "digital_bank" => Some(ParticipantKind::DigitalBank),
            "svf" => Some(ParticipantKind::Svf),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participant {
    pub code: ParticipantCode,
    pub name_en: String,
    pub name_zh_hant: String,
    pub name_zh_hans: String,
    pub kind: ParticipantKind,
    pub active: bool,
}

/// Who is calling the switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    Operator,
    Participant(ParticipantCode),
}

impl Caller {
    pub fn actor(self) -> String {
        match self {
            Caller::Operator => "operator".into(),
            Caller::Participant(code) => format!("participant:{code}"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SwitchError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
    #[error("no participant {0}")]
    ParticipantNotFound(String),
    #[error("participant {0} already exists")]
    ParticipantExists(String),
    /// The switch would not take some of the transfers from this caller; nothing was submitted.
    #[error("{} transfer(s) not admissible", .0.len())]
    Inadmissible(Vec<Inadmissible>),
}

impl Inadmissible {
    pub fn index(&self) -> usize {
        match self {
            Inadmissible::NotOwnAccount { index }
            | Inadmissible::CreditorSuspended { index, .. } => *index,
        }
    }

    /// The request field at fault.
    pub fn field(&self) -> &'static str {
        match self {
            Inadmissible::NotOwnAccount { .. } => "debtor",
            Inadmissible::CreditorSuspended { .. } => "creditor",
        }
    }

    pub fn detail(&self) -> String {
        match self {
            Inadmissible::NotOwnAccount { .. } => {
                "a participant may only pay from its own settlement account".into()
            }
            Inadmissible::CreditorSuspended { creditor, .. } => {
                format!("participant {creditor} is suspended and cannot be paid")
            }
        }
    }
}

/// Why the switch will not take a transfer from its caller (index into the request).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inadmissible {
    /// A participant pays only from its own settlement account.
    NotOwnAccount { index: usize },
    /// A suspended participant receives no payments (the RTGS side may still fund it).
    CreditorSuspended {
        index: usize,
        creditor: ParticipantCode,
    },
}

/// The running switch. Cheap to share (`Arc`).
#[derive(Debug)]
pub struct Switch {
    db: Database,
    ledger: Ledger,
    participants: RwLock<HashMap<ParticipantCode, Participant>>,
    tokens: RwLock<HashMap<[u8; 32], ParticipantCode>>,
}

fn now_s() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl Switch {
    /// Starts the settlement ledger's writer and loads participants and tokens. Must be called
    /// inside the runtime, after migrations.
    pub async fn start(db: Database) -> Result<Arc<Switch>, SwitchError> {
        let ledger = Ledger::start(Journal::open(&db, FPS_LEDGER)?, "fps").await?;
        let switch = Switch {
            db,
            ledger,
            participants: RwLock::new(HashMap::new()),
            tokens: RwLock::new(HashMap::new()),
        };
        switch.ensure_rtgs_accounts().await?;
        switch.reload().await?;
        Ok(Arc::new(switch))
    }

    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    pub fn db(&self) -> &Database {
        &self.db
    }

    async fn ensure_rtgs_accounts(&self) -> Result<(), SwitchError> {
        let existing = self.ledger.accounts().await?;
        let missing: Vec<Account> = CURRENCIES
            .iter()
            .filter(|c| !existing.iter().any(|a| a.id == rtgs_account(**c)))
            .map(|c| Account::new(rtgs_account(*c), *c, RTGS, None))
            .collect();
        if !missing.is_empty() {
            self.ledger.create_accounts(missing).await?;
        }
        Ok(())
    }

    async fn reload(&self) -> Result<(), SwitchError> {
        let rows: Vec<(String, String, String, String, String, String)> = read!(&self.db, conn =>
            sqlx::query_as("SELECT code, name_en, name_zh_hant, name_zh_hans, kind, status FROM fps_participants")
                .fetch_all(conn)
                .await?
        );
        let mut participants = HashMap::new();
        for (code, name_en, name_zh_hant, name_zh_hans, kind, status) in rows {
            let (Some(code), Some(kind)) =
                (ParticipantCode::parse(&code), ParticipantKind::parse(&kind))
            else {
                return Err(StoreError::Corrupt(format!("participant row {code}")).into());
            };
            participants.insert(
                code,
                Participant {
                    code,
                    name_en,
                    name_zh_hant,
                    name_zh_hans,
                    kind,
                    active: status == "active",
                },
            );
        }
        let tokens: Vec<(Vec<u8>, String)> = read!(&self.db, conn =>
            sqlx::query_as("SELECT token_sha256, participant FROM fps_participant_tokens WHERE revoked_at_s IS NULL")
                .fetch_all(conn)
                .await?
        );
        let tokens = tokens
            .into_iter()
            .filter_map(|(hash, code)| {
                Some((
                    <[u8; 32]>::try_from(hash).ok()?,
                    ParticipantCode::parse(&code)?,
                ))
            })
            .collect();
        if let Ok(mut p) = self.participants.write() {
            *p = participants;
        }
        if let Ok(mut t) = self.tokens.write() {
            *t = tokens;
        }
        Ok(())
    }

    pub fn participants(&self) -> Vec<Participant> {
        let mut all: Vec<Participant> = self
            .participants
            .read()
            .map(|p| p.values().cloned().collect())
            .unwrap_or_default();
        all.sort_by_key(|p| p.code);
        all
    }

    pub fn participant(&self, code: ParticipantCode) -> Option<Participant> {
        self.participants.read().ok()?.get(&code).cloned()
    }

    /// The participant a bearer token belongs to.
    pub fn authenticate(&self, token: &str) -> Option<ParticipantCode> {
        let code = *self.tokens.read().ok()?.get(&token_hash(token))?;
        self.participant(code).filter(|p| p.active).map(|p| p.code)
    }

    /// Registers a participant and opens its settlement accounts (debit cap 0: it cannot go
    /// below zero). Audited.
    pub async fn register(&self, p: Participant, actor: &str) -> Result<(), SwitchError> {
        if self.participant(p.code).is_some() {
            return Err(SwitchError::ParticipantExists(p.code.as_str()));
        }
        let event = AuditEvent {
            actor: actor.to_owned(),
            action: "fps.participant.register",
            subject: format!("participant:{}", p.code),
            outcome: AuditOutcome::Success,
            detail: serde_json::json!({ "name": p.name_en, "kind": p.kind.as_str() }),
            request_id: None,
        };
        let status = if p.active { "active" } else { "suspended" };
        write_tx!(&self.db, tx, append_audit => {
            sqlx::query(
                "INSERT INTO fps_participants (code, name_en, name_zh_hant, name_zh_hans, kind, status, created_at_s) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(p.code.as_str())
            .bind(&p.name_en)
            .bind(&p.name_zh_hant)
            .bind(&p.name_zh_hans)
            .bind(p.kind.as_str())
            .bind(status)
            .bind(now_s())
            .execute(&mut *tx)
            .await?;
            append_audit(&mut tx, &event).await?;
        });
        let existing = self.ledger.accounts().await?;
        let accounts: Vec<Account> = CURRENCIES
            .iter()
            .map(|c| Account::new(p.code.settlement_account(*c), *c, SETTLEMENT, Some(0)))
            .filter(|a| !existing.iter().any(|e| e.id == a.id))
            .collect();
        if !accounts.is_empty() {
            self.ledger.create_accounts(accounts).await?;
        }
        if let Ok(mut all) = self.participants.write() {
            all.insert(p.code, p);
        }
        Ok(())
    }

    /// Issues an API token for a participant: returned once, stored only as SHA-256. Audited.
    pub async fn issue_token(
        &self,
        code: ParticipantCode,
        label: &str,
        actor: &str,
    ) -> Result<String, SwitchError> {
        use base64::Engine as _;
        if self.participant(code).is_none() {
            return Err(SwitchError::ParticipantNotFound(code.as_str()));
        }
        let mut bytes = [0u8; 32];
        bauhinia_core::crypto::random_bytes(&mut bytes);
        let token = format!(
            "fps_{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
        );
        let hash = token_hash(&token);
        let event = AuditEvent {
            actor: actor.to_owned(),
            action: "fps.participant.token_issued",
            subject: format!("participant:{code}"),
            outcome: AuditOutcome::Success,
            detail: serde_json::json!({ "label": label }),
            request_id: None,
        };
        write_tx!(&self.db, tx, append_audit => {
            sqlx::query(
                "INSERT INTO fps_participant_tokens (token_sha256, participant, label, created_at_s) VALUES ($1, $2, $3, $4)",
            )
            .bind(hash.to_vec())
            .bind(code.as_str())
            .bind(label)
            .bind(now_s())
            .execute(&mut *tx)
            .await?;
            append_audit(&mut tx, &event).await?;
        });
        if let Ok(mut tokens) = self.tokens.write() {
            tokens.insert(hash, code);
        }
        Ok(token)
    }

    /// Submits transfers to the settlement ledger as `caller`, all or none of them admitted:
    /// a participant debits only its own settlement accounts, and no payment goes to a
    /// suspended participant.
    pub async fn submit(
        &self,
        transfers: Vec<Transfer>,
        caller: Caller,
    ) -> Result<Vec<Outcome>, SwitchError> {
        let refused = self.inadmissible(&transfers, caller);
        if !refused.is_empty() {
            return Err(SwitchError::Inadmissible(refused));
        }
        Ok(self.ledger.submit(transfers, caller.actor()).await?)
    }

    /// Submits a direct debit on the authority of an eDDA mandate: the debtor's participant
    /// authorised it in advance, so it is admitted as the operator's would be (it debits the
    /// debtor's settlement account) but recorded honestly as submitted by
    /// `participant:<creditor> under mandate:<id>`. Only the flows service calls it, after
    /// checking the mandate.
    pub(crate) async fn submit_under_mandate(
        &self,
        transfers: Vec<Transfer>,
        creditor: ParticipantCode,
        mandate: Id,
    ) -> Result<Vec<Outcome>, SwitchError> {
        let refused = self.inadmissible(&transfers, Caller::Operator);
        if !refused.is_empty() {
            return Err(SwitchError::Inadmissible(refused));
        }
        let actor = format!(
            "{} under mandate:{}",
            Caller::Participant(creditor).actor(),
            crate::wire::format_id(mandate)
        );
        Ok(self.ledger.submit(transfers, actor).await?)
    }

    fn inadmissible(&self, transfers: &[Transfer], caller: Caller) -> Vec<Inadmissible> {
        let settlement = [
            crate::wire::Purpose::SettlementFunding.code(),
            crate::wire::Purpose::SettlementDefunding.code(),
        ];
        let mut refused = Vec::new();
        for (index, t) in transfers.iter().enumerate() {
            if let Caller::Participant(own) = caller {
                if account_owner(t.debit_account).map(|(code, _)| code) != Some(own) {
                    refused.push(Inadmissible::NotOwnAccount { index });
                }
            }
            let suspended = account_owner(t.credit_account)
                .and_then(|(code, _)| self.participant(code))
                .filter(|p| !p.active);
            if let (Some(p), false) = (suspended, settlement.contains(&t.code)) {
                refused.push(Inadmissible::CreditorSuspended {
                    index,
                    creditor: p.code,
                });
            }
        }
        refused
    }

    /// Funds or defunds a participant's settlement account (the operator), and audits the
    /// answer — once: a retry answered from the ledger is not audited again.
    pub async fn settle(
        &self,
        id: Id,
        code: ParticipantCode,
        amount: bauhinia_core::Money,
        direction: Settlement,
        actor: &str,
    ) -> Result<Outcome, SwitchError> {
        if self.participant(code).is_none() {
            return Err(SwitchError::ParticipantNotFound(code.as_str()));
        }
        let transfer = direction.transfer(id, code, amount, "");
        let outcome = self
            .submit(vec![transfer], Caller::Operator)
            .await?
            .into_iter()
            .next()
            .ok_or(SwitchError::Ledger(LedgerError::Stopped))?;
        if !matches!(outcome, Outcome::Exists(_) | Outcome::IdConflict) {
            let accepted = matches!(outcome, Outcome::Created { .. });
            let event = AuditEvent {
                actor: actor.to_owned(),
                action: direction.action(),
                subject: format!("participant:{code}"),
                outcome: if accepted {
                    AuditOutcome::Success
                } else {
                    AuditOutcome::Failure
                },
                detail: serde_json::json!({
                    "transfer": crate::wire::format_id(id),
                    "currency": amount.currency.code(),
                    "amount": amount.to_decimal_string(),
                    "reason": outcome.result().err().flatten().map(|r| r.code()),
                }),
                request_id: None,
            };
            self.db.append_audit(&event).await?;
        }
        Ok(outcome)
    }

    /// A participant's settlement accounts (one per currency that exists), with their totals as
    /// of the last committed batch.
    pub async fn positions(&self, code: ParticipantCode) -> Result<Vec<Account>, SwitchError> {
        let accounts = self.ledger.accounts().await?;
        Ok(CURRENCIES
            .iter()
            .filter_map(|c| {
                accounts
                    .iter()
                    .find(|a| a.id == code.settlement_account(*c))
            })
            .cloned()
            .collect())
    }

    /// A transfer by id, as recorded.
    pub async fn transfer(&self, id: Id) -> Result<Option<Recorded>, SwitchError> {
        let sql = format!(
            "SELECT {TRANSFER_COLUMNS} FROM ledger_transfers WHERE ledger = $1 AND id = $2"
        );
        let row: Option<Row16> = match &self.db {
            Database::Sqlite(db) => sqlx::query(&sql)
                .bind(FPS_LEDGER)
                .bind(id_bytes(id).to_vec())
                .fetch_optional(&db.reader)
                .await
                .map_err(StoreError::from)?
                .map(|r| sqlite_row16(&r))
                .transpose()
                .map_err(StoreError::from)?,
            Database::Postgres(pool) => sqlx::query(&sql)
                .bind(FPS_LEDGER)
                .bind(id_bytes(id).to_vec())
                .fetch_optional(pool)
                .await
                .map_err(StoreError::from)?
                .map(|r| journal::pg_row(&r))
                .transpose()
                .map_err(StoreError::from)?,
        };
        Ok(row.map(Row16::into_recorded).transpose()?)
    }

    /// The accepted transfers that debit or credit `account`, newest first, before `before_seq`.
    pub async fn history(
        &self,
        account: Id,
        before_seq: Option<i64>,
        limit: i64,
    ) -> Result<Vec<(i64, Recorded)>, SwitchError> {
        let sql = format!(
            "SELECT {TRANSFER_COLUMNS}, seq FROM ledger_transfers WHERE seq IN (\
               SELECT seq FROM (SELECT seq FROM ledger_transfers WHERE ledger = $1 AND debit_account = $2 AND result = 0 AND seq < $3 ORDER BY seq DESC LIMIT $4) AS d \
               UNION ALL SELECT seq FROM (SELECT seq FROM ledger_transfers WHERE ledger = $1 AND credit_account = $2 AND result = 0 AND seq < $3 ORDER BY seq DESC LIMIT $4) AS c) \
             ORDER BY seq DESC LIMIT $4"
        );
        let before = before_seq.unwrap_or(i64::MAX);
        let limit = limit.clamp(1, 500);
        let rows: Vec<(i64, Row16)> = match &self.db {
            Database::Sqlite(db) => sqlx::query(&sql)
                .bind(FPS_LEDGER)
                .bind(id_bytes(account).to_vec())
                .bind(before)
                .bind(limit)
                .fetch_all(&db.reader)
                .await
                .map_err(StoreError::from)?
                .iter()
                .map(|r| Ok((sqlx::Row::try_get(r, 15)?, sqlite_row16(r)?)))
                .collect::<Result<_, sqlx::Error>>()
                .map_err(StoreError::from)?,
            Database::Postgres(pool) => sqlx::query(&sql)
                .bind(FPS_LEDGER)
                .bind(id_bytes(account).to_vec())
                .bind(before)
                .bind(limit)
                .fetch_all(pool)
                .await
                .map_err(StoreError::from)?
                .iter()
                .map(|r| Ok((sqlx::Row::try_get(r, 15)?, journal::pg_row(r)?)))
                .collect::<Result<_, sqlx::Error>>()
                .map_err(StoreError::from)?,
        };
        rows.into_iter()
            .map(|(seq, r)| Ok((seq, r.into_recorded()?)))
            .collect()
    }
}

pub(crate) fn sqlite_row16(row: &sqlx::sqlite::SqliteRow) -> Result<Row16, sqlx::Error> {
    use sqlx::Row;
    Ok(Row16 {
        id: row.try_get(0)?,
        debit: row.try_get(1)?,
        credit: row.try_get(2)?,
        amount: row.try_get(3)?,
        currency: row.try_get(4)?,
        kind: row.try_get(5)?,
        pending_id: row.try_get(6)?,
        timeout_s: row.try_get(7)?,
        linked: row.try_get::<i64, _>(8)? != 0,
        code: row.try_get(9)?,
        user_data: row.try_get(10)?,
        reference: row.try_get(11)?,
        actor: row.try_get(12)?,
        result: row.try_get(13)?,
        timestamp_ns: row.try_get(14)?,
    })
}

impl From<SwitchError> for bauhinia_core::Problem {
    fn from(error: SwitchError) -> bauhinia_core::Problem {
        use bauhinia_core::{ErrorCode, Problem};
        match error {
            SwitchError::ParticipantNotFound(code) => {
                Problem::new(ErrorCode::FpsParticipantNotFound)
                    .detail(format!("no participant has code {code}"))
            }
            SwitchError::ParticipantExists(code) => Problem::new(ErrorCode::FpsParticipantExists)
                .detail(format!("participant {code} is already registered")),
            SwitchError::Inadmissible(list) => Problem::new(ErrorCode::FpsTransferInvalid).errors(
                list.iter()
                    .map(|i| {
                        bauhinia_core::FieldError::new(
                            format!("/transfers/{}/{}", i.index(), i.field()),
                            i.detail(),
                        )
                    })
                    .collect(),
            ),
            SwitchError::Ledger(LedgerError::Journal(cause)) => {
                tracing::error!(error = %cause, "ledger commit failed");
                Problem::new(ErrorCode::FpsLedgerUnavailable)
            }
            SwitchError::Store(StoreError::Sqlx(sqlx::Error::PoolTimedOut))
            | SwitchError::Sqlx(sqlx::Error::PoolTimedOut) => {
                Problem::new(ErrorCode::StoreUnavailable)
            }
            other => Problem::internal(&other),
        }
    }
}
