//! Verification of a company signature, for anyone: each ES256 signature with its
//! certificate, each chain to this installation's root (verified once per distinct chain and
//! remembered by its SHA-256 fingerprint: chains are few, signatures many), every certificate's
//! validity at the time of signing, revocation before then (and, reported, since), who each
//! certificate names, the approved request on record that produced exactly this text, and each
//! delegated approval's delegation in force when it was given (from the directory's history).
//! Also the signed status answers that publish revocation. Nothing here writes.

use std::collections::HashMap;
use std::sync::RwLock;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use bauhinia_identity::domain::signing::{DocumentHash, RequestStatus};
use bauhinia_identity::signing::ca;
use bauhinia_identity::signing::service::SIGNED_AT_SKEW_S;
use openssl::nid::Nid;
use openssl::x509::X509Ref;
use serde::Serialize;

use super::format::{self, ApprovalClaim, BusinessClaim, ParsedEntry, SignerKind};
use super::service::CompanySigning;
use crate::domain::signing::{delegation_in_force, SigningKind};
use crate::error::CorpIdError;

/// Distinct chains remembered; past this the cache starts again (a bound, not a policy).
pub const CHAIN_CACHE_MAX: usize = 65_536;
/// The `typ` of a signed certificate status answer.
pub const STATUS_TYP: &str = "bauhinia-certificate-status+jws";

/// What verification may remember because it cannot change: chains already verified against
/// the root (fingerprint → OpenSSL's verdict), and signatures found on record.
#[derive(Debug, Default)]
pub struct ChainCache {
    verdicts: RwLock<HashMap<[u8; 32], Result<(), String>>>,
    on_record: RwLock<std::collections::HashSet<[u8; 32]>>,
}

impl ChainCache {
    fn on_record(&self, fingerprint: &[u8; 32]) -> bool {
        self.on_record
            .read()
            .is_ok_and(|known| known.contains(fingerprint))
    }

    fn remember_on_record(&self, fingerprint: [u8; 32]) {
        if let Ok(mut known) = self.on_record.write() {
            if known.len() >= CHAIN_CACHE_MAX {
                known.clear();
            }
            known.insert(fingerprint);
        }
    }

    fn check(
        &self,
        root: &X509Ref,
        entry: &ParsedEntry,
    ) -> Result<Result<(), String>, CorpIdError> {
        let mut hasher = openssl::sha::Sha256::new();
        hasher.update(&root.to_der()?);
        for certificate in &entry.chain {
            hasher.update(&certificate.to_der()?);
        }
        let fingerprint = hasher.finish();
        if let Some(verdict) = self
            .verdicts
            .read()
            .ok()
            .and_then(|v| v.get(&fingerprint).cloned())
        {
            return Ok(verdict);
        }
        let leaf = entry
            .leaf()
            .ok_or_else(|| CorpIdError::Corrupt("no leaf".into()))?;
        let verdict = ca::verify_chain(root, entry.intermediates(), leaf)?.map_err(|e| e.0);
        if let Ok(mut verdicts) = self.verdicts.write() {
            if verdicts.len() >= CHAIN_CACHE_MAX {
                verdicts.clear();
            }
            verdicts.insert(fingerprint, verdict.clone());
        }
        Ok(verdict)
    }
}

/// One reason a company signature does not verify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Issue {
    /// Signature `index` does not match with its certificate's key.
    SignatureMismatch { index: usize },
    /// Signature `index`'s certificates do not chain to this installation's root.
    ChainUntrusted { index: usize, why: String },
    /// A certificate of signature `index`'s chain (or the root) was not valid at `signed_at`.
    CertificateNotValidAtSigningTime { index: usize },
    /// Signature `index`'s certificate was revoked before `signed_at`.
    CertificateRevoked { index: usize, revoked_at: i64 },
    /// This installation did not issue signature `index`'s certificate.
    CertificateUnknown { index: usize },
    /// Signature `index`'s certificate names someone other than the payload says.
    SignerMismatch { index: usize },
    /// An approval claims a delegation that was not in force when it was given.
    DelegationNotInForce { approval: usize },
    /// `signed_at` is ahead of the verifier's clock.
    SignedInFuture,
    /// No approved request of this installation produced exactly this signature.
    NotOnRecord,
    /// The signed hash is not the hash given.
    DocumentHashMismatch,
}

impl Issue {
    pub fn code(&self) -> &'static str {
        match self {
            Issue::SignatureMismatch { .. } => "signature_mismatch",
            Issue::ChainUntrusted { .. } => "chain_untrusted",
            Issue::CertificateNotValidAtSigningTime { .. } => {
                "certificate_not_valid_at_signing_time"
            }
            Issue::CertificateRevoked { .. } => "certificate_revoked",
            Issue::CertificateUnknown { .. } => "certificate_unknown",
            Issue::SignerMismatch { .. } => "signer_mismatch",
            Issue::DelegationNotInForce { .. } => "delegation_not_in_force",
            Issue::SignedInFuture => "signed_in_future",
            Issue::NotOnRecord => "not_on_record",
            Issue::DocumentHashMismatch => "document_hash_mismatch",
        }
    }
}

/// What one signature of a company signature says and how it checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryReport {
    pub signer: SignerKind,
    /// RFC 4514.
    pub subject: String,
    pub certificate_serial: String,
    pub signature_valid: bool,
    pub chain_valid: bool,
    pub valid_at_signing_time: bool,
    /// When the certificate was revoked, if it is now (before or after the signing).
    pub revoked_at: Option<i64>,
    /// Company certificates: `superseded`, `suspended` or `dissolved`.
    pub revocation_reason: Option<String>,
}

/// The outcome of verifying a well-formed company signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompanyVerification {
    pub valid: bool,
    pub kind: SigningKind,
    pub business: BusinessClaim,
    pub approvals: Vec<ApprovalClaim>,
    pub document_name: String,
    pub document_hash: String,
    pub signed_at: i64,
    pub request_id: String,
    pub signatures: Vec<EntryReport>,
    pub errors: Vec<Issue>,
}

impl CompanySigning {
    /// Verifies a company signature at `now`; the signed hash must equal `document_hash` if
    /// given. Text that is not a company signature at all is
    /// [`CorpIdError::SignatureMalformed`]; a well-formed one that fails a check is a report
    /// with `valid: false` and each failure.
    pub async fn verify(
        &self,
        text: &str,
        document_hash: Option<&DocumentHash>,
        now: i64,
    ) -> Result<CompanyVerification, CorpIdError> {
        let parsed = format::parse(text).map_err(CorpIdError::SignatureMalformed)?;
        let root = self.signing.ca_certificates().await?.root;
        let signed_at = parsed.payload.signed_at;
        let mut errors = Vec::new();
        let mut reports = Vec::with_capacity(parsed.entries.len());
        for (index, entry) in parsed.entries.iter().enumerate() {
            let leaf = entry
                .leaf()
                .ok_or_else(|| CorpIdError::Corrupt("a parsed entry has no certificate".into()))?;
            let signature_valid = leaf.public_key().is_ok_and(|key| entry.verifies_with(&key));
            if !signature_valid {
                errors.push(Issue::SignatureMismatch { index });
            }
            let chain_valid = match self.chains.check(&root, entry)? {
                Ok(()) => true,
                Err(why) => {
                    errors.push(Issue::ChainUntrusted { index, why });
                    false
                }
            };
            let mut valid_at_signing_time = ca::valid_at(&root, signed_at)?;
            for certificate in &entry.chain {
                valid_at_signing_time &= ca::valid_at(certificate, signed_at)?;
            }
            if !valid_at_signing_time {
                errors.push(Issue::CertificateNotValidAtSigningTime { index });
            }
            let named = ca::name_entry(leaf.subject_name(), Nid::SERIALNUMBER);
            let expected = match entry.signer {
                SignerKind::Company => Some(parsed.payload.business.brn.as_str()),
                SignerKind::Person => parsed
                    .payload
                    .approvals
                    .get(index)
                    .map(|a| a.signer.as_str()),
            };
            if named.as_deref() != expected {
                errors.push(Issue::SignerMismatch { index });
            }
            let serial = ca::serial_hex(leaf)?;
            let (revoked_at, revocation_reason) = self
                .revocation(entry.signer, leaf, &serial, index, &mut errors)
                .await?;
            if let Some(at) = revoked_at.filter(|at| *at < signed_at) {
                errors.push(Issue::CertificateRevoked {
                    index,
                    revoked_at: at,
                });
            }
            reports.push(EntryReport {
                signer: entry.signer,
                subject: ca::name_text(leaf.subject_name()),
                certificate_serial: serial,
                signature_valid,
                chain_valid,
                valid_at_signing_time,
                revoked_at,
                revocation_reason,
            });
        }
        if signed_at > now + SIGNED_AT_SKEW_S {
            errors.push(Issue::SignedInFuture);
        }
        errors.extend(
            self.delegation_issues(&parsed.payload.business, &parsed.payload.approvals)
                .await?,
        );
        let on_record = self
            .on_record(&parsed.payload.request_id, text.trim())
            .await?;
        if !on_record {
            errors.push(Issue::NotOnRecord);
        }
        if document_hash.is_some_and(|hash| hash.to_hex() != parsed.payload.document_hash) {
            errors.push(Issue::DocumentHashMismatch);
        }
        let payload = parsed.payload;
        Ok(CompanyVerification {
            valid: errors.is_empty(),
            kind: parsed.kind,
            business: payload.business,
            approvals: payload.approvals,
            document_name: payload.document_name,
            document_hash: payload.document_hash,
            signed_at,
            request_id: payload.request_id,
            signatures: reports,
            errors,
        })
    }

    /// Whether an approved request of this installation produced exactly `text`. An approved
    /// request never changes again (approval is final and its signature immutable), so a
    /// positive answer is remembered by the SHA-256 of the text; a negative one is always
    /// read again.
    async fn on_record(&self, request_id: &str, text: &str) -> Result<bool, CorpIdError> {
        let fingerprint = openssl::sha::sha256(text.as_bytes());
        if self.chains.on_record(&fingerprint) {
            return Ok(true);
        }
        let found = self.store.request(request_id).await?.is_some_and(|row| {
            row.status == RequestStatus::Approved.as_str() && row.signature.as_deref() == Some(text)
        });
        if found {
            self.chains.remember_on_record(fingerprint);
        }
        Ok(found)
    }

    /// When the certificate was revoked (and why) by this installation's records; an unknown
    /// certificate adds [`Issue::CertificateUnknown`].
    async fn revocation(
        &self,
        signer: SignerKind,
        leaf: &X509Ref,
        serial: &str,
        index: usize,
        errors: &mut Vec<Issue>,
    ) -> Result<(Option<i64>, Option<String>), CorpIdError> {
        let der = leaf.to_der()?;
        let known = match signer {
            SignerKind::Company => self
                .store
                .key_by_serial(serial)
                .await?
                .filter(|key| key.certificate_der == der)
                .map(|key| (key.revoked_at_s, key.revocation_reason)),
            SignerKind::Person => self
                .signing
                .issued_certificate(serial)
                .await?
                .filter(|c| c.certificate_der == der)
                .map(|c| {
                    (
                        c.revoked_at_s,
                        c.revoked_at_s.map(|_| "superseded".to_owned()),
                    )
                }),
        };
        Ok(known.unwrap_or_else(|| {
            errors.push(Issue::CertificateUnknown { index });
            (None, None)
        }))
    }

    /// Each delegated approval's delegation must have been from this business to that agent
    /// and in force when the approval was given.
    async fn delegation_issues(
        &self,
        business: &BusinessClaim,
        approvals: &[ApprovalClaim],
    ) -> Result<Vec<Issue>, CorpIdError> {
        let mut issues = Vec::new();
        for (approval, claim) in approvals.iter().enumerate() {
            let (Some(delegation), Some(agent)) = (&claim.delegation_id, &claim.agent_brn) else {
                continue;
            };
            let in_force = crate::domain::is_opaque_id(delegation)
                && self
                    .store
                    .delegation_terms(delegation)
                    .await?
                    .is_some_and(|d| {
                        d.client_brn == business.brn
                            && d.agent_brn == *agent
                            && delegation_in_force(
                                d.valid_from_s,
                                d.valid_until_s,
                                d.revoked_at_s,
                                claim.approved_at,
                            )
                    });
            if !in_force {
                issues.push(Issue::DelegationNotInForce { approval });
            }
        }
        Ok(issues)
    }

    /// The revocation status of a certificate this installation issued (a company's or a
    /// resident's), by serial, as a compact JWS signed by the issuing CA: an OCSP-like answer
    /// anyone can check offline with the CA chain. An unknown serial is answered `unknown`.
    pub async fn certificate_status(&self, serial: &str, now: i64) -> Result<String, CorpIdError> {
        let serial = serial.trim().to_ascii_uppercase();
        let well_formed =
            (1..=40).contains(&serial.len()) && serial.bytes().all(|b| b.is_ascii_hexdigit());
        if !well_formed {
            return Err(CorpIdError::field(
                "/serial",
                "an upper-case hexadecimal certificate serial, at most 40 digits",
            ));
        }
        let (status, revoked_at, reason, kind) = match self.store.key_by_serial(&serial).await? {
            Some(key) => (
                key.status,
                key.revoked_at_s,
                key.revocation_reason,
                "company",
            ),
            None => match self.signing.issued_certificate(&serial).await? {
                Some(c) => (
                    if c.revoked_at_s.is_some() {
                        "revoked"
                    } else {
                        "active"
                    }
                    .to_owned(),
                    c.revoked_at_s,
                    c.revoked_at_s.map(|_| "superseded".to_owned()),
                    "person",
                ),
                None => ("unknown".to_owned(), None, None, "unknown"),
            },
        };
        let status = if status == "active" {
            "good".to_owned()
        } else {
            status
        };
        let issuing = self.signing.ca_certificates().await?.issuing;
        let header = serde_json::json!({
            "alg": "ES256", "typ": STATUS_TYP, "x5c": [STANDARD.encode(issuing.to_der()?)],
        });
        let payload = serde_json::json!({
            "serial": serial, "certificate": kind, "status": status,
            "revoked_at": revoked_at, "revocation_reason": reason, "produced_at": now,
        });
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(payload.to_string())
        );
        let signature = self.signing.sign_with_issuing_ca(input.as_bytes()).await?;
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }
}
