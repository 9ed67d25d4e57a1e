//! The company signature format: a JWS (RFC 7515) in the JSON general serialization (§7.2.1) —
//! one payload, one to three ES256 signatures over it, each with its own protected header
//! carrying its signer's certificate chain in `x5c`. The same family as residents' signatures
//! (`bauhinia_identity::signing::format`, compact JWS, ES256, `x5c`), whose strict checks of the
//! shared payload members, chains and signatures this module reuses. `docs/signing.md`
//! describes it byte for byte.
//!
//! Which signatures a signature holds follows from its `type`: `personal` — one, the
//! approver's (`"signer":"person"`); `corporate` — one, the company's (`"signer":"company"`);
//! `integrated` — each approver's, in the order of `approvals`, then the company's. Parsing is
//! strict (it reads outside input) and never panics (a property test checks this).

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use bauhinia_identity::jose::{self, Alg};
use bauhinia_identity::signing::format::{
    check_document, check_signer_id, decode_chain, decode_signature, json_part, DocumentClaims,
    FormatError, ALG, ES256_SIGNATURE_BYTES,
};
use openssl::pkey::{PKey, Public};
use openssl::x509::{X509Ref, X509};
use serde::{Deserialize, Serialize};

use crate::domain::signing::SigningKind;
use crate::domain::Brn;

/// The `typ` of every protected header of a company signature.
pub const TYP: &str = "bauhinia-corpid-signature+jws";
/// Longest signature accepted for verification, in bytes (three chains of two certificates).
pub const SIGNATURE_LEN_MAX: usize = 32 * 1024;
/// Most approvals a payload carries (a business requires one or two).
pub const APPROVALS_MAX: usize = 2;
/// `signer` of a resident's signature.
pub const SIGNER_PERSON: &str = "person";
/// `signer` of the company's signature.
pub const SIGNER_COMPANY: &str = "company";

/// A protected header. Member order is the order of serialization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    pub alg: String,
    pub typ: String,
    /// `person` or `company`.
    pub signer: String,
    /// The signer's certificate, then the issuing CA's (standard base64 of DER).
    pub x5c: Vec<String>,
}

/// The business a signature is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BusinessClaim {
    pub brn: String,
    pub name_en: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_zh: Option<String>,
}

/// One signatory's approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalClaim {
    /// The resident's opaque signer id (as in their personal certificate).
    pub signer: String,
    /// The resident's English name.
    pub name: String,
    /// `administrator` or `authorised_signatory`.
    pub role: String,
    /// Through a delegation: the agent business's BRN and the delegation's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_brn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delegation_id: Option<String>,
    /// When they approved, Unix seconds.
    pub approved_at: i64,
}

/// What is signed. Member order is the order of serialization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Payload {
    pub hash_alg: String,
    pub document_hash: String,
    pub document_name: String,
    /// When the last required approval was given, Unix seconds.
    pub signed_at: i64,
    pub request_id: String,
    /// `personal`, `corporate` or `integrated`.
    #[serde(rename = "type")]
    pub kind: String,
    pub business: BusinessClaim,
    pub approvals: Vec<ApprovalClaim>,
}

/// The JSON general serialization.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct General {
    payload: String,
    signatures: Vec<Entry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    protected: String,
    signature: String,
}

/// Who made one signature of a company signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignerKind {
    Person,
    Company,
}

/// One signature, parsed, not yet verified. `C` is its certificate chain: decoded
/// certificates ([`parse`]), or whatever a caller of [`parse_with`] resolves `x5c` to (the
/// verifier: facts it remembers about chains it has seen).
#[derive(Debug, Clone)]
pub struct ParsedEntry<C = Vec<X509>> {
    pub signer: SignerKind,
    pub chain: C,
    /// `protected "." payload`, the bytes signed.
    pub signing_input: String,
    pub signature: [u8; ES256_SIGNATURE_BYTES],
}

impl ParsedEntry {
    pub fn leaf(&self) -> Option<&X509> {
        self.chain.first()
    }

    pub fn intermediates(&self) -> &[X509] {
        self.chain.get(1..).unwrap_or(&[])
    }
}

impl<C> ParsedEntry<C> {
    /// Whether the ES256 signature verifies with `key` (a P-256 key).
    pub fn verifies_with(&self, key: &PKey<Public>) -> bool {
        jose::verify_raw(
            Alg::ES256,
            key,
            self.signing_input.as_bytes(),
            &self.signature,
        )
        .is_ok()
    }
}

/// A parsed company signature, not yet verified.
#[derive(Debug, Clone)]
pub struct ParsedSignature<C = Vec<X509>> {
    pub payload: Payload,
    pub kind: SigningKind,
    /// In order: the approvers' (for `personal` and `integrated`), then the company's.
    pub entries: Vec<ParsedEntry<C>>,
}

/// Something to be signed: the base64url payload and one protected header per signer.
#[derive(Debug, Clone)]
pub struct Unsigned {
    payload_b64: String,
}

impl Unsigned {
    pub fn new(payload: &Payload) -> Result<Unsigned, serde_json::Error> {
        Ok(Unsigned {
            payload_b64: URL_SAFE_NO_PAD.encode(serde_json::to_vec(payload)?),
        })
    }

    /// The protected header of a signer with `chain`, and the bytes that signer signs.
    pub fn signing_input(
        &self,
        signer: SignerKind,
        chain: &[&X509Ref],
    ) -> Result<(String, String), SerializeError> {
        let x5c = chain
            .iter()
            .map(|certificate| certificate.to_der().map(|der| STANDARD.encode(der)))
            .collect::<Result<Vec<_>, _>>()?;
        let header = Header {
            alg: ALG.to_owned(),
            typ: TYP.to_owned(),
            signer: match signer {
                SignerKind::Person => SIGNER_PERSON,
                SignerKind::Company => SIGNER_COMPANY,
            }
            .to_owned(),
            x5c,
        };
        let protected = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header)?);
        let input = format!("{protected}.{}", self.payload_b64);
        Ok((protected, input))
    }

    /// The serialized signature: `signatures` are (protected header, `r ‖ s`) in order.
    pub fn serialize(&self, signatures: &[(String, Vec<u8>)]) -> Result<String, SerializeError> {
        let general = General {
            payload: self.payload_b64.clone(),
            signatures: signatures
                .iter()
                .map(|(protected, signature)| Entry {
                    protected: protected.clone(),
                    signature: URL_SAFE_NO_PAD.encode(signature),
                })
                .collect(),
        };
        Ok(serde_json::to_string(&general)?)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SerializeError {
    #[error("OpenSSL: {0}")]
    OpenSsl(#[from] openssl::error::ErrorStack),
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// Parses a company signature of the documented shape. Checks shapes, not signatures.
pub fn parse(text: &str) -> Result<ParsedSignature, FormatError> {
    parse_with(text, decode_chain)
}

/// [`parse`], with each signature's `x5c` resolved by `chain` (which must refuse what
/// [`decode_chain`] refuses): the verifier decodes a chain it has seen before from memory,
/// not again from DER.
pub fn parse_with<C>(
    text: &str,
    mut chain: impl FnMut(&[String]) -> Result<C, FormatError>,
) -> Result<ParsedSignature<C>, FormatError> {
    let text = text.trim();
    if text.len() > SIGNATURE_LEN_MAX {
        return Err(FormatError::TooLong);
    }
    let general: General = serde_json::from_str(text)
        .map_err(|e| FormatError::Json("JWS JSON serialization", e.to_string()))?;
    let payload: Payload = json_part(&general.payload, "payload")?;
    let kind = check_payload(&payload)?;
    let expected = expected_signers(kind, payload.approvals.len());
    if general.signatures.len() != expected.len() {
        return Err(FormatError::Header(format!(
            "a {} signature with {} approvals holds {} signatures, not {}",
            kind.as_str(),
            payload.approvals.len(),
            expected.len(),
            general.signatures.len()
        )));
    }
    let entries = general
        .signatures
        .iter()
        .zip(expected)
        .map(|(entry, signer)| parse_entry(entry, signer, &general.payload, &mut chain))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ParsedSignature {
        payload,
        kind,
        entries,
    })
}

/// The signers a signature of `kind` with `approvals` approvals holds, in order.
pub fn expected_signers(kind: SigningKind, approvals: usize) -> Vec<SignerKind> {
    let people = if kind.personal_signatures() {
        approvals
    } else {
        0
    };
    let mut signers = vec![SignerKind::Person; people];
    if kind.company_signature() {
        signers.push(SignerKind::Company);
    }
    signers
}

fn parse_entry<C>(
    entry: &Entry,
    expected: SignerKind,
    payload_b64: &str,
    chain: &mut impl FnMut(&[String]) -> Result<C, FormatError>,
) -> Result<ParsedEntry<C>, FormatError> {
    let header: Header = json_part(&entry.protected, "protected header")?;
    if header.alg != ALG {
        return Err(FormatError::Header(format!("alg must be {ALG}")));
    }
    if header.typ != TYP {
        return Err(FormatError::Header(format!("typ must be {TYP}")));
    }
    let signer = match header.signer.as_str() {
        SIGNER_PERSON => SignerKind::Person,
        SIGNER_COMPANY => SignerKind::Company,
        _ => {
            return Err(FormatError::Header(
                "signer must be person or company".into(),
            ))
        }
    };
    if signer != expected {
        return Err(FormatError::Header(
            "the signatures are not in the documented order for this type".into(),
        ));
    }
    Ok(ParsedEntry {
        signer,
        chain: chain(&header.x5c)?,
        signing_input: format!("{}.{payload_b64}", entry.protected),
        signature: decode_signature(&entry.signature)?,
    })
}

fn check_payload(payload: &Payload) -> Result<SigningKind, FormatError> {
    let invalid = |member: &'static str, why: &str| FormatError::Payload(member, why.to_owned());
    check_document(&DocumentClaims {
        hash_alg: &payload.hash_alg,
        document_hash: &payload.document_hash,
        document_name: &payload.document_name,
        signed_at: payload.signed_at,
        request_id: &payload.request_id,
    })?;
    let kind = SigningKind::parse(&payload.kind)
        .ok_or_else(|| invalid("type", "must be personal, corporate or integrated"))?;
    match Brn::parse(&payload.business.brn) {
        Ok(brn) if brn.as_str() == payload.business.brn => {}
        _ => return Err(invalid("business", "brn must be 8 digits")),
    }
    let approvals = payload.approvals.len();
    let allowed = if kind == SigningKind::Personal {
        1..=1
    } else {
        1..=APPROVALS_MAX
    };
    if !allowed.contains(&approvals) {
        return Err(invalid(
            "approvals",
            "the wrong number of approvals for the type",
        ));
    }
    for approval in &payload.approvals {
        check_signer_id(&approval.signer, "approvals")?;
        if !matches!(
            approval.role.as_str(),
            "administrator" | "authorised_signatory"
        ) {
            return Err(invalid(
                "approvals",
                "role must be administrator or authorised_signatory",
            ));
        }
        if approval.agent_brn.is_some() != approval.delegation_id.is_some() {
            return Err(invalid(
                "approvals",
                "agent_brn and delegation_id come together",
            ));
        }
        if !(1..=payload.signed_at).contains(&approval.approved_at) {
            return Err(invalid(
                "approvals",
                "approved_at must be a Unix time no later than signed_at",
            ));
        }
    }
    if approvals == 2
        && payload.approvals.first().map(|a| &a.signer)
            == payload.approvals.get(1).map(|a| &a.signer)
    {
        return Err(invalid("approvals", "two approvals by the same signatory"));
    }
    Ok(kind)
}

/// The fuzz target `corpid_signature`'s body: arbitrary bytes as a company signature, and as
/// the public verification endpoint's request body with its document hash. Whatever parses
/// holds the documented shape: as many signatures as its type and approvals call for, each
/// with one to three certificates, a BRN that is eight digits, one or two approvals.
pub fn fuzz_parse(bytes: &[u8]) {
    use bauhinia_identity::domain::signing::DocumentHash;
    use bauhinia_identity::signing::format::X5C_CERTS_MAX;
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    if let Ok(parsed) = parse(text) {
        let signers = expected_signers(parsed.kind, parsed.payload.approvals.len());
        assert_eq!(parsed.kind.as_str(), parsed.payload.kind);
        assert_eq!(
            parsed.entries.iter().map(|e| e.signer).collect::<Vec<_>>(),
            signers
        );
        assert!(parsed
            .entries
            .iter()
            .all(|e| (1..=X5C_CERTS_MAX).contains(&e.chain.len())));
        assert!((1..=APPROVALS_MAX).contains(&parsed.payload.approvals.len()));
        assert_eq!(
            Brn::parse(&parsed.payload.business.brn).map(|b| b.as_str().to_owned()),
            Ok(parsed.payload.business.brn.clone())
        );
    }
    if let Ok(request) = bauhinia_core::extract::parse_json::<super::http::VerifyRequest>(bytes) {
        let _ = parse(&request.signature);
        if let Some(hash) = request.document_hash {
            if let Ok(parsed) = DocumentHash::parse_text(&hash) {
                assert_eq!(
                    DocumentHash::parse_text(&parsed.to_hex())
                        .map(|h| h.to_hex())
                        .ok(),
                    Some(parsed.to_hex())
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn payload() -> Payload {
        Payload {
            hash_alg: "sha256".into(),
            document_hash: "ab".repeat(32),
            document_name: "Board resolution.pdf".into(),
            signed_at: 1_790_000_000,
            request_id: "0b8e3f3e-4a55-4a0c-9d1c-5f0f9f3a2b11".into(),
            kind: "corporate".into(),
            business: BusinessClaim {
                brn: "12345678".into(),
                name_en: "Harbour Trading Limited".into(),
                name_zh: None,
            },
            approvals: vec![ApprovalClaim {
                signer: "0123456789abcdef0123456789abcdef".into(),
                name: "CHAN, Tai Man".into(),
                role: "authorised_signatory".into(),
                agent_brn: None,
                delegation_id: None,
                approved_at: 1_790_000_000,
            }],
        }
    }

    fn signed(payload: &Payload) -> String {
        let (root, _) = bauhinia_identity::signing::ca::new_root(1_790_000_000).expect("root");
        let key = bauhinia_identity::signing::ca::new_key().expect("key");
        let unsigned = Unsigned::new(payload).expect("payload");
        let (protected, input) = unsigned
            .signing_input(SignerKind::Company, &[&root])
            .expect("header");
        let signature = jose::sign_raw(Alg::ES256, &key, input.as_bytes()).expect("signs");
        unsigned
            .serialize(&[(protected, signature)])
            .expect("serializes")
    }

    #[test]
    fn the_fuzz_body_holds_for_a_real_signature_and_its_verify_request() {
        // fuzz/seeds/corpid_signature holds these two, made the same way.
        let text = signed(&payload());
        fuzz_parse(text.as_bytes());
        let body = serde_json::json!({"signature": text, "document_hash": "ab".repeat(32)});
        fuzz_parse(body.to_string().as_bytes());
    }

    #[test]
    fn sign_then_parse() {
        let text = signed(&payload());
        let parsed = parse(&text).expect("parses");
        assert_eq!(parsed.payload, payload());
        assert_eq!(parsed.kind, SigningKind::Corporate);
        assert_eq!(parsed.entries.len(), 1);
        assert!(text.starts_with("{\"payload\":\""));
    }

    #[test]
    fn strict_parsing_names_what_is_wrong() {
        let with = |f: &dyn Fn(&mut Payload)| {
            let mut p = payload();
            f(&mut p);
            signed(&p)
        };
        let cases: Vec<(String, &str)> = vec![
            ("[]".into(), "JWS JSON serialization"),
            (
                "{\"payload\":\"e30\",\"signatures\":[],\"x\":1}".into(),
                "unknown field",
            ),
            ("a".repeat(SIGNATURE_LEN_MAX + 1), "longer"),
            (with(&|p| p.kind = "chop".into()), "type"),
            (with(&|p| p.business.brn = "1234".into()), "brn"),
            (with(&|p| p.approvals.clear()), "approvals"),
            (with(&|p| p.approvals[0].role = "user".into()), "role"),
            (
                with(&|p| p.approvals[0].agent_brn = Some("23456789".into())),
                "come together",
            ),
            (
                with(&|p| p.approvals[0].approved_at = p.signed_at + 1),
                "approved_at",
            ),
            (
                with(&|p| {
                    let twin = p.approvals[0].clone();
                    p.approvals.push(twin);
                }),
                "same signatory",
            ),
            // Integrated needs a person's signature before the company's.
            (
                with(&|p| p.kind = "integrated".into()),
                "holds 2 signatures",
            ),
            (
                with(&|p| p.document_hash = "AB".repeat(32)),
                "document_hash",
            ),
        ];
        for (text, expected) in cases {
            let error = parse(&text).expect_err(expected).to_string();
            assert!(error.contains(expected), "{expected:?} not in {error:?}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn parse_never_panics_on_any_text(text in ".{0,600}") {
            let _ = parse(&text);
        }

        #[test]
        fn parse_never_panics_on_general_shaped_text(
            payload in "[A-Za-z0-9_-]{0,200}",
            entries in proptest::collection::vec(("[A-Za-z0-9_-]{0,120}", "[A-Za-z0-9_-]{0,90}"), 0..4),
        ) {
            let signatures: Vec<serde_json::Value> = entries
                .iter()
                .map(|(p, s)| serde_json::json!({ "protected": p, "signature": s }))
                .collect();
            let text = serde_json::json!({ "payload": payload, "signatures": signatures }).to_string();
            prop_assert!(parse(&text).is_err());
        }

        #[test]
        fn parse_never_panics_on_json_payloads(
            members in proptest::collection::btree_map("[a-z_]{1,14}", any::<i64>(), 0..8),
        ) {
            let text = serde_json::json!({
                "payload": URL_SAFE_NO_PAD.encode(serde_json::to_vec(&members).unwrap_or_default()),
                "signatures": [],
            })
            .to_string();
            prop_assert!(parse(&text).is_err());
        }
    }
}
