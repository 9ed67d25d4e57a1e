//! A software authenticator, for tests that enrol and sign in without a browser (behind the
//! `testing` feature). It is a real, if minimal, WebAuthn authenticator: it makes a P-256 key per
//! credential with OpenSSL, answers creation options with a `none` attestation (authenticator
//! data with the RP id hash, flags UP|UV|AT, counter, AAGUID, credential id and COSE key, in
//! CBOR) and request options with an ES256 signature over `authData ‖ SHA-256(clientDataJSON)`,
//! giving the user handle so sign-in can be usernameless.
//!
//! Its inputs and outputs are the JSON a browser page exchanges with the server: the
//! `publicKey` options as the server sends them, and the credential in the shape webauthn-rs
//! reads (binary fields in unpadded base64url). The public fields let a test misbehave on
//! purpose (another origin, no user verification, a counter that does not move).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use openssl::bn::{BigNum, BigNumContext};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::sign::Signer;
use serde_json::{json, Value};

const FLAG_UP: u8 = 0x01;
const FLAG_UV: u8 = 0x04;
const FLAG_AT: u8 = 0x40;
/// COSE: kty EC2 (2), alg ES256 (−7), crv P-256 (1).
const COSE_EC2: i64 = 2;
const COSE_ES256: i64 = -7;
const COSE_P256: i64 = 1;

#[derive(Debug)]
struct Credential {
    id: Vec<u8>,
    rp_id: String,
    user_handle: Vec<u8>,
    key: EcKey<Private>,
    counter: u32,
}

/// One device's authenticator: it keeps the credentials it creates.
#[derive(Debug)]
pub struct SoftAuthenticator {
    /// The origin written into `clientDataJSON` (a browser writes the page's origin).
    pub origin: String,
    /// Whether the flags claim user verification (a PIN or biometric was checked).
    pub user_verified: bool,
    /// Whether the signature counter goes up with every assertion.
    pub counting: bool,
    aaguid: [u8; 16],
    credentials: Vec<Credential>,
}

/// The member at a JSON Pointer, or `null`.
fn at<'a>(value: &'a Value, pointer: &str) -> &'a Value {
    value.pointer(pointer).unwrap_or(&Value::Null)
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn unb64(value: &Value, what: &str) -> Result<Vec<u8>, String> {
    let text = value
        .as_str()
        .ok_or_else(|| format!("{what} is not a string"))?;
    URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .map_err(|e| format!("{what}: {e}"))
}

fn ssl(e: openssl::error::ErrorStack) -> String {
    e.to_string()
}

impl SoftAuthenticator {
    /// An authenticator for pages of `origin` (e.g. `http://localhost:8080`).
    pub fn new(origin: &str) -> SoftAuthenticator {
        SoftAuthenticator {
            origin: origin.trim_end_matches('/').to_owned(),
            user_verified: true,
            counting: true,
            aaguid: *b"bauhinia-soft-au",
            credentials: Vec::new(),
        }
    }

    /// The ids of the credentials it holds, base64url, oldest first.
    pub fn credential_ids(&self) -> Vec<String> {
        self.credentials.iter().map(|c| b64(&c.id)).collect()
    }

    fn client_data(&self, kind: &str, challenge: &Value) -> Result<Vec<u8>, String> {
        let challenge = challenge.as_str().ok_or("the options have no challenge")?;
        let data = json!({
            "type": kind,
            "challenge": challenge,
            "origin": self.origin,
            "crossOrigin": false,
        });
        serde_json::to_vec(&data).map_err(|e| e.to_string())
    }

    fn flags(&self) -> u8 {
        FLAG_UP | if self.user_verified { FLAG_UV } else { 0 }
    }

    /// `navigator.credentials.create({publicKey})`: a new discoverable credential.
    pub fn create(&mut self, public_key: &Value) -> Result<Value, String> {
        let rp_id = at(public_key, "/rp/id")
            .as_str()
            .ok_or("the options have no rp.id")?
            .to_owned();
        let user_handle = unb64(at(public_key, "/user/id"), "user.id")?;
        let es256 = at(public_key, "/pubKeyCredParams")
            .as_array()
            .is_some_and(|params| params.iter().any(|p| at(p, "/alg") == COSE_ES256));
        if !es256 {
            return Err("the relying party does not accept ES256".into());
        }
        let excluded: Vec<Vec<u8>> = at(public_key, "/excludeCredentials")
            .as_array()
            .map(|list| {
                list.iter()
                    .filter_map(|c| unb64(at(c, "/id"), "id").ok())
                    .collect()
            })
            .unwrap_or_default();
        if self.credentials.iter().any(|c| excluded.contains(&c.id)) {
            return Err("InvalidStateError: this authenticator already holds a credential the relying party excluded".into());
        }
        let client_data = self.client_data("webauthn.create", at(public_key, "/challenge"))?;
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).map_err(ssl)?;
        let key = EcKey::generate(&group).map_err(ssl)?;
        let mut id = vec![0u8; 32];
        openssl::rand::rand_bytes(&mut id).map_err(ssl)?;
        let mut auth_data = openssl::sha::sha256(rp_id.as_bytes()).to_vec();
        auth_data.push(self.flags() | FLAG_AT);
        auth_data.extend_from_slice(&0u32.to_be_bytes());
        auth_data.extend_from_slice(&self.aaguid);
        let id_len = u16::try_from(id.len()).map_err(|e| e.to_string())?;
        auth_data.extend_from_slice(&id_len.to_be_bytes());
        auth_data.extend_from_slice(&id);
        auth_data.extend_from_slice(&cose_key(&key)?);
        let mut attestation = Vec::new();
        cbor::map(&mut attestation, 3);
        cbor::text(&mut attestation, "fmt");
        cbor::text(&mut attestation, "none");
        cbor::text(&mut attestation, "attStmt");
        cbor::map(&mut attestation, 0);
        cbor::text(&mut attestation, "authData");
        cbor::bytes(&mut attestation, &auth_data);
        let answer = json!({
            "id": b64(&id),
            "rawId": b64(&id),
            "type": "public-key",
            "response": {
                "attestationObject": b64(&attestation),
                "clientDataJSON": b64(&client_data),
                "transports": ["internal"],
            },
            "clientExtensionResults": { "credProps": { "rk": true } },
        });
        self.credentials.push(Credential {
            id,
            rp_id,
            user_handle,
            key,
            counter: 0,
        });
        Ok(answer)
    }

    /// `navigator.credentials.get({publicKey})`: an assertion from the newest credential for
    /// the RP (among `allowCredentials`, when the options list any).
    pub fn get(&mut self, public_key: &Value) -> Result<Value, String> {
        let rp_id = at(public_key, "/rpId")
            .as_str()
            .ok_or("the options have no rpId")?;
        let allowed: Vec<Vec<u8>> = at(public_key, "/allowCredentials")
            .as_array()
            .map(|list| {
                list.iter()
                    .filter_map(|c| unb64(at(c, "/id"), "id").ok())
                    .collect()
            })
            .unwrap_or_default();
        let client_data = self.client_data("webauthn.get", at(public_key, "/challenge"))?;
        let flags = self.flags();
        let counting = self.counting;
        let credential = self
            .credentials
            .iter_mut()
            .rev()
            .find(|c| c.rp_id == rp_id && (allowed.is_empty() || allowed.contains(&c.id)))
            .ok_or("NotAllowedError: no credential for this relying party")?;
        if counting {
            credential.counter = credential.counter.saturating_add(1);
        }
        let mut auth_data = openssl::sha::sha256(rp_id.as_bytes()).to_vec();
        auth_data.push(flags);
        auth_data.extend_from_slice(&credential.counter.to_be_bytes());
        let mut signed = auth_data.clone();
        signed.extend_from_slice(&openssl::sha::sha256(&client_data));
        let pkey = PKey::from_ec_key(credential.key.clone()).map_err(ssl)?;
        let mut signer = Signer::new(MessageDigest::sha256(), &pkey).map_err(ssl)?;
        signer.update(&signed).map_err(ssl)?;
        let signature = signer.sign_to_vec().map_err(ssl)?;
        Ok(json!({
            "id": b64(&credential.id),
            "rawId": b64(&credential.id),
            "type": "public-key",
            "response": {
                "authenticatorData": b64(&auth_data),
                "clientDataJSON": b64(&client_data),
                "signature": b64(&signature),
                "userHandle": b64(&credential.user_handle),
            },
            "clientExtensionResults": {},
        }))
    }
}

/// The credential public key as a COSE_Key (RFC 9053): EC2, ES256, P-256, x and y.
fn cose_key(key: &EcKey<Private>) -> Result<Vec<u8>, String> {
    let mut ctx = BigNumContext::new().map_err(ssl)?;
    let mut x = BigNum::new().map_err(ssl)?;
    let mut y = BigNum::new().map_err(ssl)?;
    key.public_key()
        .affine_coordinates(key.group(), &mut x, &mut y, &mut ctx)
        .map_err(ssl)?;
    let mut out = Vec::new();
    cbor::map(&mut out, 5);
    cbor::int(&mut out, 1);
    cbor::int(&mut out, COSE_EC2);
    cbor::int(&mut out, 3);
    cbor::int(&mut out, COSE_ES256);
    cbor::int(&mut out, -1);
    cbor::int(&mut out, COSE_P256);
    cbor::int(&mut out, -2);
    cbor::bytes(&mut out, &x.to_vec_padded(32).map_err(ssl)?);
    cbor::int(&mut out, -3);
    cbor::bytes(&mut out, &y.to_vec_padded(32).map_err(ssl)?);
    Ok(out)
}

/// The few CBOR items (RFC 8949) an authenticator writes, in their shortest encodings.
mod cbor {
    fn head(out: &mut Vec<u8>, major: u8, value: u64) {
        let major = major << 5;
        match value {
            0..=23 => out.push(major | value as u8),
            24..=0xff => out.extend_from_slice(&[major | 24, value as u8]),
            0x100..=0xffff => {
                out.push(major | 25);
                out.extend_from_slice(&(value as u16).to_be_bytes());
            }
            0x1_0000..=0xffff_ffff => {
                out.push(major | 26);
                out.extend_from_slice(&(value as u32).to_be_bytes());
            }
            _ => {
                out.push(major | 27);
                out.extend_from_slice(&value.to_be_bytes());
            }
        }
    }

    pub fn int(out: &mut Vec<u8>, value: i64) {
        if value >= 0 {
            head(out, 0, value.unsigned_abs());
        } else {
            head(out, 1, (-1 - value).unsigned_abs());
        }
    }

    pub fn bytes(out: &mut Vec<u8>, value: &[u8]) {
        head(out, 2, value.len() as u64);
        out.extend_from_slice(value);
    }

    pub fn text(out: &mut Vec<u8>, value: &str) {
        head(out, 3, value.len() as u64);
        out.extend_from_slice(value.as_bytes());
    }

    pub fn map(out: &mut Vec<u8>, pairs: u64) {
        head(out, 5, pairs);
    }

    #[cfg(test)]
    mod tests {
        /// Encodings from RFC 8949, appendix A.
        #[test]
        fn shortest_encodings() {
            let check = |f: &dyn Fn(&mut Vec<u8>), hex: &[u8]| {
                let mut out = Vec::new();
                f(&mut out);
                assert_eq!(out, hex);
            };
            check(&|o| super::int(o, 0), &[0x00]);
            check(&|o| super::int(o, 23), &[0x17]);
            check(&|o| super::int(o, 24), &[0x18, 0x18]);
            check(&|o| super::int(o, 1000), &[0x19, 0x03, 0xe8]);
            check(&|o| super::int(o, -1), &[0x20]);
            check(&|o| super::int(o, -7), &[0x26]);
            check(&|o| super::int(o, -100), &[0x38, 0x63]);
            check(&|o| super::text(o, "IETF"), &[0x64, 0x49, 0x45, 0x54, 0x46]);
            check(&|o| super::bytes(o, &[1, 2, 3, 4]), &[0x44, 1, 2, 3, 4]);
            check(&|o| super::map(o, 0), &[0xa0]);
        }
    }
}
