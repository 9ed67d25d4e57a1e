//! 智方便 passkeys: a resident's primary credential. webauthn-rs runs the WebAuthn ceremonies;
//! this module keeps their state between start and finish (single use, five minutes), decides
//! who may start which ceremony, and records the outcome.
//!
//! - Enrolment: the resident proves who they are with their HKID and a one-time enrolment code
//!   (sent by SMS to the registered mobile, or handed over at a counter; see
//!   [`PasskeyService::issue_enrolment_code`]), then registers a passkey and is signed in.
//! - Sign-in: discoverable ("usernameless"): the authenticator says whose passkey it is; the
//!   passkey's counter and backup state are updated on every success.
//! - A signed-in resident lists, adds and removes passkeys, but never removes the last.
//!
//! Every passkey must verify its user (PIN or biometric). Repeated failures lock the scope
//! (enrolment or sign-in) for a while. Every enrolment, addition, removal, sign-in and failure is
//! audited. An enrolment code is kept only as a keyed hash, and is never logged or audited.

use std::sync::Arc;

use bauhinia_core::crypto::Vault;
use bauhinia_store::audit::{AuditEvent, Outcome};
use bauhinia_store::Database;
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};
use webauthn_rs::prelude::{
    DiscoverableAuthentication, Passkey, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, Url, Uuid, Webauthn, WebauthnBuilder,
};

use crate::clock::{self, Clock};
use crate::domain::signin::{
    CEREMONY_LIFETIME_S, ENROLMENT_CODE_LIFETIME_S, PASSKEYS_PER_RESIDENT_MAX,
};
use crate::domain::{EnrolmentCode, Hkid, LockScope, LockoutState, PasskeyName};
use crate::session::{random_bytes, Session, SessionService, ACR_PASSKEY, AMR_PASSKEY};
use crate::signin_store::{
    CeremonyRow, CodeRow, CodeUse, NewPasskey, PasskeyRow, Removal, SignInStore,
};
use crate::{IdentityError, IdentityService, Resident};

pub mod http;
pub mod wire;

/// The relying-party name authenticators show beside the passkey.
pub const RP_NAME: &str = "Bauhinia 智方便 iAM Smart";
/// The context enrolment codes are hashed under (with the resident id, so a code is bound to
/// its resident).
const CODE_CONTEXT: &str = "identity.enrolment_code";
/// Ceremonies that may wait for their finish at once; beyond this, starts are refused. Bounds
/// what strangers starting sign-ins can make the server hold (rate limits bound how fast).
pub const CEREMONIES_LIVE_MAX: i64 = 10_000;

/// What the server remembers between a ceremony's start and its finish.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum CeremonyState {
    /// First passkey, after an enrolment code: the code is consumed when the ceremony finishes.
    Enrol {
        registration: PasskeyRegistration,
        code_hash: Vec<u8>,
    },
    /// Another passkey, for a signed-in resident, bound to their session.
    Register {
        registration: PasskeyRegistration,
        session_id: String,
    },
    Authenticate {
        authentication: DiscoverableAuthentication,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Enrol,
    Register,
    Authenticate,
}

impl Kind {
    const fn as_str(self) -> &'static str {
        match self {
            Kind::Enrol => "enrol",
            Kind::Register => "register",
            Kind::Authenticate => "authenticate",
        }
    }
}

/// A started ceremony: its id, and the `publicKey` options for `navigator.credentials`.
#[derive(Debug, Clone)]
pub struct Ceremony {
    pub id: String,
    pub public_key: serde_json::Value,
    pub expires_at: OffsetDateTime,
}

/// A fresh enrolment code, to be delivered to the resident. Shown once; stored only hashed.
#[derive(Debug, Clone)]
pub struct IssuedCode {
    pub code: EnrolmentCode,
    pub expires_at: OffsetDateTime,
}

/// A resident who has just signed in (or enrolled): the cookie's token and the session.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub token: String,
    pub session: Session,
    pub resident: Resident,
    pub passkey: PasskeyInfo,
}

/// A passkey as its holder sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyInfo {
    pub id: String,
    pub name: String,
    pub created_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone)]
pub struct PasskeyService {
    webauthn: Arc<Webauthn>,
    store: SignInStore,
    identity: Arc<IdentityService>,
    sessions: SessionService,
    vault: Arc<Vault>,
}

fn event(
    actor: String,
    action: &'static str,
    subject: String,
    outcome: Outcome,
    detail: serde_json::Value,
) -> AuditEvent {
    AuditEvent {
        actor,
        action,
        subject,
        outcome,
        detail,
        request_id: None,
    }
}

fn resident_subject(resident_id: &str) -> String {
    format!("resident:{resident_id}")
}

fn corrupt(what: &str, why: impl std::fmt::Display) -> IdentityError {
    IdentityError::Corrupt(what.to_owned(), why.to_string())
}

impl PasskeyService {
    /// Passkeys for the site at `public_url` (its host is the relying-party id, so passkeys
    /// registered under one public URL do not work under another). Sessions come from
    /// `sessions`, whose clock this service uses too.
    pub fn new(
        db: &Database,
        identity: Arc<IdentityService>,
        vault: Arc<Vault>,
        sessions: SessionService,
        public_url: &Url,
    ) -> Result<Self, IdentityError> {
        let rp_id = public_url
            .host_str()
            .ok_or_else(|| IdentityError::Config(format!("{public_url} has no host")))?;
        let webauthn = WebauthnBuilder::new(rp_id, public_url)
            .and_then(|b| {
                b.rp_name(RP_NAME)
                    .timeout(std::time::Duration::from_secs(
                        u64::try_from(CEREMONY_LIFETIME_S).unwrap_or(300),
                    ))
                    .build()
            })
            .map_err(|e| IdentityError::Config(format!("WebAuthn for {public_url}: {e}")))?;
        Ok(PasskeyService {
            webauthn: Arc::new(webauthn),
            store: SignInStore::new(db),
            identity,
            sessions,
            vault,
        })
    }

    pub fn sessions(&self) -> &SessionService {
        &self.sessions
    }

    /// The resident (HKID masked), for pages of the signed-in resident.
    pub async fn resident(&self, resident_id: &str) -> Result<Resident, IdentityError> {
        self.identity.resident(resident_id).await
    }

    fn now(&self) -> OffsetDateTime {
        self.sessions.clock().now()
    }

    fn clock(&self) -> &Clock {
        self.sessions.clock()
    }

    fn code_hash(&self, resident_id: &str, code: &EnrolmentCode) -> Vec<u8> {
        let bound = format!("{resident_id}\0{}", code.expose());
        self.vault
            .lookup_hash(CODE_CONTEXT, bound.as_bytes())
            .to_vec()
    }

    // ---- enrolment codes -------------------------------------------------------------------

    /// Issues a one-time enrolment code for a resident, valid 30 minutes, replacing any earlier
    /// one. `actor` is who issues it (`admin:cli`, `system:demo`, …). The code is returned to
    /// be delivered; it is stored only as a keyed hash, and neither logged nor audited.
    pub async fn issue_enrolment_code(
        &self,
        resident_id: &str,
        actor: &str,
    ) -> Result<IssuedCode, IdentityError> {
        let resident = self.identity.resident(resident_id).await?;
        let code = EnrolmentCode::from_random(u64::from_le_bytes(random_bytes::<8>()?));
        let now = self.now();
        let expires_at = now + Duration::seconds(ENROLMENT_CODE_LIFETIME_S);
        let row = CodeRow {
            resident_id: resident.id.clone(),
            code_hash: self.code_hash(&resident.id, &code),
            issued_at: clock::to_text(now),
            expires_at: clock::to_text(expires_at),
            used_at: None,
        };
        let event = event(
            actor.to_owned(),
            "identity.enrolment_code.issue",
            resident_subject(&resident.id),
            Outcome::Success,
            serde_json::json!({ "expires_at": row.expires_at }),
        );
        self.store.replace_code(&row, &event).await?;
        tracing::info!(resident = %resident.id, %actor, "enrolment code issued");
        Ok(IssuedCode { code, expires_at })
    }

    // ---- ceremonies ------------------------------------------------------------------------

    async fn store_ceremony(
        &self,
        kind: Kind,
        resident_id: Option<&str>,
        state: &CeremonyState,
        public_key: serde_json::Value,
    ) -> Result<Ceremony, IdentityError> {
        let now = self.now();
        let expires_at = now + Duration::seconds(CEREMONY_LIFETIME_S);
        let row = CeremonyRow {
            id: Uuid::new_v4().to_string(),
            kind: kind.as_str().to_owned(),
            resident_id: resident_id.map(str::to_owned),
            state: serde_json::to_string(state).map_err(|e| corrupt("ceremony", e))?,
            expires_at: clock::to_text(expires_at),
        };
        if !self
            .store
            .insert_ceremony(&row, &clock::to_text(now), CEREMONIES_LIVE_MAX)
            .await?
        {
            tracing::warn!(
                "refused to start a passkey ceremony: {CEREMONIES_LIVE_MAX} are in progress"
            );
            return Err(IdentityError::Busy);
        }
        Ok(Ceremony {
            id: row.id,
            public_key,
            expires_at,
        })
    }

    /// Takes the ceremony out of the store (so it can never be finished twice) if it is of
    /// `kind` and has not expired.
    async fn take_ceremony(
        &self,
        id: &str,
        kind: Kind,
    ) -> Result<(CeremonyState, Option<String>), IdentityError> {
        let row = self
            .store
            .take_ceremony(id, kind.as_str())
            .await?
            .ok_or(IdentityError::CeremonyExpired)?;
        let expires_at = clock::from_text(&row.expires_at).map_err(|e| corrupt("ceremony", e))?;
        if expires_at <= self.now() {
            return Err(IdentityError::CeremonyExpired);
        }
        let state = serde_json::from_str(&row.state).map_err(|e| corrupt("ceremony", e))?;
        Ok((state, row.resident_id))
    }

    /// Registration options for `resident`, excluding the passkeys they already hold, asking
    /// for a discoverable credential. webauthn-rs asks for a non-discoverable one
    /// (`residentKey: discouraged`); sign-in here is usernameless, which needs the credential
    /// kept on the authenticator, so the options sent say `required`. Only the options change:
    /// webauthn-rs does not check this setting when the registration finishes.
    async fn registration_options(
        &self,
        resident: &Resident,
    ) -> Result<(PasskeyRegistration, serde_json::Value), IdentityError> {
        let user_id = Uuid::parse_str(&resident.id).map_err(|e| corrupt(&resident.id, e))?;
        let existing = self.store.passkeys(&resident.id).await?;
        let exclude = existing
            .iter()
            .map(|p| p.credential_id.clone())
            .collect::<Vec<_>>();
        let display_name = match &resident.chinese_name {
            Some(chinese) => format!("{chinese} {}", resident.english_name),
            None => resident.english_name.clone(),
        };
        let (options, registration) = self
            .webauthn
            .start_passkey_registration(
                user_id,
                &resident.hkid_masked,
                &display_name,
                Some(exclude),
            )
            .map_err(|e| IdentityError::Config(e.to_string()))?;
        let mut options = serde_json::to_value(options).map_err(|e| corrupt("options", e))?;
        let mut public_key = options
            .get_mut("publicKey")
            .map(serde_json::Value::take)
            .ok_or_else(|| corrupt("options", "no publicKey"))?;
        if let Some(selection) = public_key
            .get_mut("authenticatorSelection")
            .and_then(serde_json::Value::as_object_mut)
        {
            selection.insert("residentKey".into(), "required".into());
            selection.insert("requireResidentKey".into(), true.into());
        }
        Ok((registration, public_key))
    }

    // ---- enrolment -------------------------------------------------------------------------

    /// Step one of enrolment: checks the HKID and the enrolment code, and starts registering a
    /// passkey. A wrong code counts towards the enrolment lockout; an unknown HKID gets the
    /// same answer as a wrong code, so this cannot be used to learn who is registered.
    pub async fn start_enrolment(
        &self,
        hkid: &Hkid,
        code: &EnrolmentCode,
    ) -> Result<Ceremony, IdentityError> {
        let Some(resident) = self.identity.find_by_hkid(hkid).await? else {
            self.store
                .append_audit(&event(
                    "anonymous".into(),
                    "identity.enrolment.start",
                    "resident:unknown".into(),
                    Outcome::Failure,
                    serde_json::json!({ "reason": "unknown_hkid", "hkid": hkid.masked() }),
                ))
                .await?;
            return Err(IdentityError::EnrolmentInvalid);
        };
        let now = self.now();
        let lockout = self
            .store
            .lockout(&resident.id, LockScope::Enrolment)
            .await?;
        if let Some(until) = lockout.locked_at(now) {
            self.audit_refusal(&resident.id, "identity.enrolment.start", "locked")
                .await?;
            return Err(IdentityError::Locked(until));
        }
        let code_hash = self.code_hash(&resident.id, code);
        if !self.code_is_live(&resident.id, &code_hash, now).await? {
            let after = self
                .count_failure(
                    &resident.id,
                    LockScope::Enrolment,
                    "identity.enrolment.start",
                    serde_json::json!({ "reason": "wrong_or_expired_code" }),
                )
                .await?;
            return Err(match after.locked_at(now) {
                Some(until) => IdentityError::Locked(until),
                None => IdentityError::EnrolmentInvalid,
            });
        }
        let (registration, public_key) = self.registration_options(&resident).await?;
        let state = CeremonyState::Enrol {
            registration,
            code_hash,
        };
        self.store_ceremony(Kind::Enrol, Some(&resident.id), &state, public_key)
            .await
    }

    async fn code_is_live(
        &self,
        resident_id: &str,
        code_hash: &[u8],
        now: OffsetDateTime,
    ) -> Result<bool, IdentityError> {
        let Some(row) = self.store.code(resident_id).await? else {
            return Ok(false);
        };
        let expires_at = clock::from_text(&row.expires_at).map_err(|e| corrupt("code", e))?;
        let same = row.code_hash.len() == code_hash.len()
            && openssl::memcmp::eq(&row.code_hash, code_hash);
        Ok(same && row.used_at.is_none() && expires_at > now)
    }

    /// Step two of enrolment: verifies the new passkey, stores it, consumes the code and signs
    /// the resident in — all in one transaction.
    pub async fn finish_enrolment(
        &self,
        ceremony_id: &str,
        credential: &RegisterPublicKeyCredential,
        name: &PasskeyName,
    ) -> Result<SignedIn, IdentityError> {
        let (state, resident_id) = self.take_ceremony(ceremony_id, Kind::Enrol).await?;
        let (
            CeremonyState::Enrol {
                registration,
                code_hash,
            },
            Some(resident_id),
        ) = (state, resident_id)
        else {
            return Err(corrupt(
                "ceremony",
                "an enrolment ceremony without its state",
            ));
        };
        let passkey = match self
            .webauthn
            .finish_passkey_registration(credential, &registration)
        {
            Ok(passkey) => passkey,
            Err(e) => {
                self.audit_refusal(&resident_id, "identity.enrolment.finish", &e.to_string())
                    .await?;
                return Err(IdentityError::PasskeyInvalid(e.to_string()));
            }
        };
        let row = self.passkey_row(&resident_id, &passkey, name)?;
        let new = self
            .sessions
            .prepare(&resident_id, ACR_PASSKEY, &AMR_PASSKEY)?;
        let events = [event(
            resident_subject(&resident_id),
            "identity.enrolment.complete",
            resident_subject(&resident_id),
            Outcome::Success,
            serde_json::json!({ "passkey": row.id, "name": row.name, "session": new.session.id }),
        )];
        let now = row.created_at.clone();
        let code = CodeUse {
            code_hash: &code_hash,
            now: &now,
        };
        let stored = self
            .store
            .insert_passkey(
                &row,
                Some(code),
                Some(&new.row),
                &events,
                PASSKEYS_PER_RESIDENT_MAX as i64,
            )
            .await?;
        check_stored(stored)?;
        tracing::info!(resident = %resident_id, passkey = %row.id, "enrolled with a passkey");
        Ok(SignedIn {
            token: new.token,
            session: new.session,
            resident: self.identity.resident(&resident_id).await?,
            passkey: info(&row)?,
        })
    }

    fn passkey_row(
        &self,
        resident_id: &str,
        passkey: &Passkey,
        name: &PasskeyName,
    ) -> Result<PasskeyRow, IdentityError> {
        Ok(PasskeyRow {
            id: Uuid::new_v4().to_string(),
            resident_id: resident_id.to_owned(),
            credential_id: passkey.cred_id().to_vec(),
            credential: serde_json::to_string(passkey).map_err(|e| corrupt("passkey", e))?,
            name: name.as_str().to_owned(),
            created_at: clock::to_text(self.now()),
            last_used_at: None,
        })
    }

    // ---- sign-in ---------------------------------------------------------------------------

    /// Starts a usernameless sign-in: any of the resident's passkeys may answer.
    pub async fn start_login(&self) -> Result<Ceremony, IdentityError> {
        let (options, authentication) = self
            .webauthn
            .start_discoverable_authentication()
            .map_err(|e| IdentityError::Config(e.to_string()))?;
        // Only the `publicKey` options travel: the page calls the authenticator when the
        // resident presses the button, not as conditional (autofill) mediation.
        let public_key =
            serde_json::to_value(&options.public_key).map_err(|e| corrupt("options", e))?;
        self.store_ceremony(
            Kind::Authenticate,
            None,
            &CeremonyState::Authenticate { authentication },
            public_key,
        )
        .await
    }

    /// Finishes a sign-in: finds the passkey the authenticator answered with, verifies the
    /// answer (signature over this ceremony's challenge, origin, user verification, counter),
    /// updates the passkey and starts a session.
    pub async fn finish_login(
        &self,
        ceremony_id: &str,
        credential: &PublicKeyCredential,
    ) -> Result<SignedIn, IdentityError> {
        let (state, _) = self.take_ceremony(ceremony_id, Kind::Authenticate).await?;
        let CeremonyState::Authenticate { authentication } = state else {
            return Err(corrupt("ceremony", "a sign-in ceremony without its state"));
        };
        let (mut row, user_id) = self.identify(credential).await?;
        let now = self.now();
        let lockout = self
            .store
            .lockout(&row.resident_id, LockScope::Login)
            .await?;
        if let Some(until) = lockout.locked_at(now) {
            self.audit_refusal(&row.resident_id, "identity.passkey.login", "locked")
                .await?;
            return Err(IdentityError::Locked(until));
        }
        let mut passkey: Passkey =
            serde_json::from_str(&row.credential).map_err(|e| corrupt(&row.id, e))?;
        let verified = if Uuid::parse_str(&row.resident_id).ok() == Some(user_id) {
            self.webauthn
                .finish_discoverable_authentication_v2(credential, authentication, &passkey)
                .map_err(|e| e.to_string())
        } else {
            Err("the user handle does not belong to this passkey".to_owned())
        };
        let result = match verified {
            Ok(result) => result,
            Err(why) => {
                let after = self
                    .count_failure(
                        &row.resident_id,
                        LockScope::Login,
                        "identity.passkey.login",
                        serde_json::json!({ "passkey": row.id, "reason": why }),
                    )
                    .await?;
                return Err(match after.locked_at(now) {
                    Some(until) => IdentityError::Locked(until),
                    None => IdentityError::PasskeyInvalid(why),
                });
            }
        };
        passkey.update_credential(&result);
        row.credential = serde_json::to_string(&passkey).map_err(|e| corrupt(&row.id, e))?;
        row.last_used_at = Some(clock::to_text(now));
        let new = self
            .sessions
            .prepare(&row.resident_id, ACR_PASSKEY, &AMR_PASSKEY)?;
        let success = event(
            resident_subject(&row.resident_id),
            "identity.passkey.login",
            resident_subject(&row.resident_id),
            Outcome::Success,
            serde_json::json!({ "passkey": row.id, "session": new.session.id, "counter": result.counter() }),
        );
        self.store.record_login(&row, &new.row, &success).await?;
        tracing::info!(resident = %row.resident_id, passkey = %row.id, "signed in with a passkey");
        Ok(SignedIn {
            token: new.token,
            session: new.session,
            resident: self.identity.resident(&row.resident_id).await?,
            passkey: info(&row)?,
        })
    }

    /// The stored passkey an answer names, and the user handle it carries. An answer without
    /// a user handle, or naming no stored passkey, is refused and audited (there is no resident
    /// to count it against; the rate limit bounds such attempts).
    async fn identify(
        &self,
        credential: &PublicKeyCredential,
    ) -> Result<(PasskeyRow, Uuid), IdentityError> {
        let refuse = |reason: &'static str| {
            event(
                "anonymous".into(),
                "identity.passkey.login",
                "resident:unknown".into(),
                Outcome::Failure,
                serde_json::json!({ "reason": reason }),
            )
        };
        let Ok((user_id, credential_id)) = self
            .webauthn
            .identify_discoverable_authentication(credential)
        else {
            self.store.append_audit(&refuse("no_user_handle")).await?;
            return Err(IdentityError::PasskeyInvalid(
                "the answer has no user handle: use a discoverable passkey".into(),
            ));
        };
        match self.store.passkey_by_credential(credential_id).await? {
            Some(row) => Ok((row, user_id)),
            None => {
                self.store.append_audit(&refuse("unknown_passkey")).await?;
                Err(IdentityError::PasskeyInvalid(
                    "this passkey is not registered here".into(),
                ))
            }
        }
    }

    // ---- a signed-in resident's passkeys ---------------------------------------------------

    /// A resident's passkeys, oldest first.
    pub async fn passkeys(&self, resident_id: &str) -> Result<Vec<PasskeyInfo>, IdentityError> {
        self.store
            .passkeys(resident_id)
            .await?
            .iter()
            .map(info)
            .collect()
    }

    /// Starts registering another passkey for the resident signed in with `session`.
    pub async fn start_adding(&self, session: &Session) -> Result<Ceremony, IdentityError> {
        let resident = self.identity.resident(&session.resident_id).await?;
        let (registration, public_key) = self.registration_options(&resident).await?;
        let state = CeremonyState::Register {
            registration,
            session_id: session.id.clone(),
        };
        self.store_ceremony(Kind::Register, Some(&resident.id), &state, public_key)
            .await
    }

    /// Finishes registering another passkey. The ceremony must have been started in the same
    /// session.
    pub async fn finish_adding(
        &self,
        session: &Session,
        ceremony_id: &str,
        credential: &RegisterPublicKeyCredential,
        name: &PasskeyName,
    ) -> Result<PasskeyInfo, IdentityError> {
        let (state, _) = self.take_ceremony(ceremony_id, Kind::Register).await?;
        let registration = match state {
            CeremonyState::Register {
                registration,
                session_id,
            } if session_id == session.id => registration,
            // Someone else's ceremony is, to this session, no ceremony at all.
            _ => return Err(IdentityError::CeremonyExpired),
        };
        let resident_id = &session.resident_id;
        let passkey = match self
            .webauthn
            .finish_passkey_registration(credential, &registration)
        {
            Ok(passkey) => passkey,
            Err(e) => {
                self.audit_refusal(resident_id, "identity.passkey.add", &e.to_string())
                    .await?;
                return Err(IdentityError::PasskeyInvalid(e.to_string()));
            }
        };
        let row = self.passkey_row(resident_id, &passkey, name)?;
        let events = [event(
            resident_subject(resident_id),
            "identity.passkey.add",
            resident_subject(resident_id),
            Outcome::Success,
            serde_json::json!({ "passkey": row.id, "name": row.name, "session": session.id }),
        )];
        let stored = self
            .store
            .insert_passkey(&row, None, None, &events, PASSKEYS_PER_RESIDENT_MAX as i64)
            .await?;
        check_stored(stored)?;
        tracing::info!(resident = %resident_id, passkey = %row.id, "passkey added");
        info(&row)
    }

    /// Removes one of the signed-in resident's passkeys; never the last one.
    pub async fn remove(&self, session: &Session, passkey_id: &str) -> Result<(), IdentityError> {
        let resident_id = &session.resident_id;
        let removed = event(
            resident_subject(resident_id),
            "identity.passkey.remove",
            resident_subject(resident_id),
            Outcome::Success,
            serde_json::json!({ "passkey": passkey_id, "session": session.id }),
        );
        match self
            .store
            .remove_passkey(resident_id, passkey_id, &removed)
            .await?
        {
            Removal::Removed => {
                tracing::info!(resident = %resident_id, passkey = %passkey_id, "passkey removed");
                Ok(())
            }
            Removal::NotFound => Err(IdentityError::PasskeyNotFound(passkey_id.to_owned())),
            Removal::Last => Err(IdentityError::LastPasskey),
        }
    }

    // ---- failures --------------------------------------------------------------------------

    /// Audits a refusal that counts towards no lockout.
    async fn audit_refusal(
        &self,
        resident_id: &str,
        action: &'static str,
        reason: &str,
    ) -> Result<(), IdentityError> {
        tracing::warn!(resident = %resident_id, action, reason, "refused");
        self.store
            .append_audit(&event(
                resident_subject(resident_id),
                action,
                resident_subject(resident_id),
                Outcome::Failure,
                serde_json::json!({ "reason": reason }),
            ))
            .await?;
        Ok(())
    }

    /// Counts a failure in `scope` and audits it (and the lock, if this failure started one).
    async fn count_failure(
        &self,
        resident_id: &str,
        scope: LockScope,
        action: &'static str,
        detail: serde_json::Value,
    ) -> Result<LockoutState, IdentityError> {
        let now = self.clock().now();
        let subject = resident_subject(resident_id);
        tracing::warn!(resident = %resident_id, action, %detail, "failed attempt");
        let after = self
            .store
            .record_failure(
                resident_id,
                scope,
                |before| before.after_failure(now),
                |before, after| {
                    let mut events = vec![event(
                        "anonymous".into(),
                        action,
                        subject.clone(),
                        Outcome::Failure,
                        detail,
                    )];
                    if before.locks(after) {
                        events.push(event(
                            "system".into(),
                            "identity.lockout.start",
                            subject.clone(),
                            Outcome::Success,
                            serde_json::json!({
                                "scope": scope.as_str(),
                                "until": after.locked_until.map(clock::to_text),
                            }),
                        ));
                    }
                    events
                },
            )
            .await?;
        if let Some(until) = after.locked_at(now) {
            tracing::warn!(resident = %resident_id, scope = scope.as_str(), until = %clock::to_text(until), "locked after repeated failures");
        }
        Ok(after)
    }
}

fn check_stored(stored: NewPasskey) -> Result<(), IdentityError> {
    match stored {
        NewPasskey::Stored => Ok(()),
        NewPasskey::Duplicate => Err(IdentityError::PasskeyExists),
        NewPasskey::TooMany => Err(IdentityError::TooManyPasskeys(PASSKEYS_PER_RESIDENT_MAX)),
        NewPasskey::CodeGone => Err(IdentityError::EnrolmentInvalid),
    }
}

fn info(row: &PasskeyRow) -> Result<PasskeyInfo, IdentityError> {
    let time = |text: &str| clock::from_text(text).map_err(|e| corrupt(&row.id, e));
    Ok(PasskeyInfo {
        id: row.id.clone(),
        name: row.name.clone(),
        created_at: time(&row.created_at)?,
        last_used_at: row.last_used_at.as_deref().map(time).transpose()?,
    })
}
