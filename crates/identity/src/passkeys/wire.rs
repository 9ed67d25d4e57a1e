//! The JSON shapes of the passkey API. WebAuthn's own structures (the `publicKey` options and
//! the browser's credential) travel exactly as the WebAuthn specification and webauthn-rs write
//! them: binary fields in unpadded base64url.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use webauthn_rs::prelude::{PublicKeyCredential, RegisterPublicKeyCredential};

use crate::clock;
use crate::passkeys::{Ceremony, PasskeyInfo, SignedIn};
use crate::session::Session;
use crate::Resident;

/// Step one of enrolment: who the resident is, and the one-time code they were given.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrolmentStartRequest {
    /// The resident's HKID, e.g. `A123456(3)` (brackets and case do not matter).
    #[schema(example = "A123456(3)")]
    pub hkid: String,
    /// The 8-digit enrolment code.
    #[schema(example = "12345678")]
    pub code: String,
}

/// A started WebAuthn ceremony.
#[derive(Debug, Serialize, ToSchema)]
pub struct CeremonyResponse {
    /// Send back with the finish request.
    pub ceremony_id: String,
    /// `PublicKeyCredentialCreationOptions` or `PublicKeyCredentialRequestOptions`, binary
    /// fields in base64url: decode them and pass the object to `navigator.credentials`.
    #[serde(rename = "publicKey")]
    #[schema(value_type = Object)]
    pub public_key: serde_json::Value,
    /// When the ceremony expires (RFC 3339, UTC).
    pub expires_at: String,
}

impl From<Ceremony> for CeremonyResponse {
    fn from(ceremony: Ceremony) -> Self {
        CeremonyResponse {
            ceremony_id: ceremony.id,
            public_key: ceremony.public_key,
            expires_at: clock::to_text(ceremony.expires_at),
        }
    }
}

/// The browser's answer to a registration ceremony.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistrationFinishRequest {
    pub ceremony_id: String,
    /// The `PublicKeyCredential` from `navigator.credentials.create`, binary fields in
    /// base64url: `{id, rawId, type, response: {attestationObject, clientDataJSON}}`.
    #[schema(value_type = Object)]
    pub credential: RegisterPublicKeyCredential,
    /// What the resident calls this passkey (1–64 characters); `Passkey` if absent.
    #[serde(default)]
    pub name: Option<String>,
}

/// The browser's answer to a sign-in ceremony.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginFinishRequest {
    pub ceremony_id: String,
    /// The `PublicKeyCredential` from `navigator.credentials.get`, binary fields in
    /// base64url: `{id, rawId, type, response: {authenticatorData, clientDataJSON, signature,
    /// userHandle}}`.
    #[schema(value_type = Object)]
    pub credential: PublicKeyCredential,
}

/// A resident as the signed-in pages show them: the HKID only masked.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResidentProfile {
    pub id: String,
    pub english_name: String,
    pub chinese_name: Option<String>,
    #[schema(example = "A123***(*)")]
    pub hkid_masked: String,
}

impl From<&Resident> for ResidentProfile {
    fn from(resident: &Resident) -> Self {
        ResidentProfile {
            id: resident.id.clone(),
            english_name: resident.english_name.clone(),
            chinese_name: resident.chinese_name.clone(),
            hkid_masked: resident.hkid_masked.clone(),
        }
    }
}

/// A session (its token is only ever in the cookie).
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    pub id: String,
    pub auth_time: String,
    pub expires_at: String,
    /// Authentication context class, e.g. `urn:bauhinia:acr:passkey`.
    pub acr: String,
    /// Authentication methods (RFC 8176).
    pub amr: Vec<String>,
}

impl From<&Session> for SessionView {
    fn from(session: &Session) -> Self {
        SessionView {
            id: session.id.clone(),
            auth_time: clock::to_text(session.auth_time),
            expires_at: clock::to_text(session.expires_at),
            acr: session.acr.clone(),
            amr: session.amr.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PasskeyView {
    pub id: String,
    pub name: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
}

impl From<&PasskeyInfo> for PasskeyView {
    fn from(info: &PasskeyInfo) -> Self {
        PasskeyView {
            id: info.id.clone(),
            name: info.name.clone(),
            created_at: clock::to_text(info.created_at),
            last_used_at: info.last_used_at.map(clock::to_text),
        }
    }
}

/// The outcome of an enrolment or a sign-in; the session cookie is set with it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignedInResponse {
    pub resident: ResidentProfile,
    pub session: SessionView,
    /// The passkey just registered or used.
    pub passkey: PasskeyView,
}

impl From<&SignedIn> for SignedInResponse {
    fn from(signed_in: &SignedIn) -> Self {
        SignedInResponse {
            resident: (&signed_in.resident).into(),
            session: (&signed_in.session).into(),
            passkey: (&signed_in.passkey).into(),
        }
    }
}

/// The signed-in resident and their session.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeResponse {
    pub resident: ResidentProfile,
    pub session: SessionView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PasskeyList {
    /// Oldest first.
    pub passkeys: Vec<PasskeyView>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use bauhinia_core::extract::parse_json;
    use proptest::prelude::*;

    fn any_json() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<f64>().prop_map(|f| serde_json::Number::from_f64(f)
                .map_or(serde_json::Value::Null, serde_json::Value::Number)),
            "\\PC{0,24}".prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
                proptest::collection::btree_map(
                    prop_oneof![
                        Just("hkid".to_owned()),
                        Just("code".to_owned()),
                        Just("ceremony_id".to_owned()),
                        Just("credential".to_owned()),
                        Just("name".to_owned()),
                        Just("id".to_owned()),
                        Just("rawId".to_owned()),
                        Just("type".to_owned()),
                        Just("response".to_owned()),
                        Just("clientDataJSON".to_owned()),
                        Just("attestationObject".to_owned()),
                        Just("authenticatorData".to_owned()),
                        Just("signature".to_owned()),
                        Just("userHandle".to_owned()),
                        "[a-zA-Z]{1,8}",
                    ],
                    inner,
                    0..6,
                )
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Whatever JSON arrives, the body parsers answer a value or a 4xx problem, never a
        /// panic.
        #[test]
        fn body_parsers_never_panic(value in any_json()) {
            let bytes = serde_json::to_vec(&value).expect("serialises");
            for status in [
                parse_json::<EnrolmentStartRequest>(&bytes).err().map(|p| p.status()),
                parse_json::<RegistrationFinishRequest>(&bytes).err().map(|p| p.status()),
                parse_json::<LoginFinishRequest>(&bytes).err().map(|p| p.status()),
            ].into_iter().flatten() {
                prop_assert!((400..500).contains(&status), "status {}", status);
            }
        }

        /// Arbitrary bytes (not even JSON) are a 400 problem.
        #[test]
        fn any_bytes_parse_or_fail_cleanly(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            if let Err(problem) = parse_json::<LoginFinishRequest>(&bytes) {
                prop_assert!((400..500).contains(&problem.status()));
            }
        }
    }

    #[test]
    fn a_browser_credential_parses() {
        // The shape `PublicKeyCredential.toJSON()` produces, extra members included.
        let body = br#"{"ceremony_id":"c","credential":{"id":"AQID","rawId":"AQID","type":"public-key",
            "authenticatorAttachment":"platform","clientExtensionResults":{},
            "response":{"authenticatorData":"AQID","clientDataJSON":"e30","signature":"AQID","userHandle":"AQID"}}}"#;
        let request: LoginFinishRequest = parse_json(body).expect("parses");
        assert_eq!(request.credential.raw_id, vec![1, 2, 3]);
        let problem =
            parse_json::<LoginFinishRequest>(br#"{"ceremony_id":"c","credential":{"id":"x"}}"#)
                .expect_err("incomplete");
        assert_eq!(problem.code, "request.invalid_field");
        assert_eq!(
            problem.errors.first().map(|e| e.pointer.as_str()),
            Some("/credential")
        );
    }
}
