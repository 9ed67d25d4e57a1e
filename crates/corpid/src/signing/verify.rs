//! Verification of a company signature, for anyone: each ES256 signature with its
//! certificate, each chain to this installation's root (a chain that verifies is decoded and
//! checked once and remembered, with its key, names and validity window, by the SHA-256 of its
//! `x5c` text: chains are few, signatures many), every certificate's
//! validity at the time of signing, revocation before then (and, reported, since), who each
//! certificate names, the approved request on record that produced exactly this text, and each
//! delegated approval's delegation in force when it was given (from the directory's history).
//! Also the signed status answers that publish revocation. Nothing here writes.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use bauhinia_identity::domain::signing::{DocumentHash, RequestStatus};
use bauhinia_identity::signing::ca;
use bauhinia_identity::signing::format::{decode_chain, FormatError};
use bauhinia_identity::signing::service::SIGNED_AT_SKEW_S;
use openssl::error::ErrorStack;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Public};
use openssl::x509::{X509Ref, X509};
use serde::Serialize;

use super::format::{self, ApprovalClaim, BusinessClaim, SignerKind};
use super::service::CompanySigning;
use crate::domain::signing::{delegation_in_force, SigningKind};
use crate::error::CorpIdError;

/// Trusted chains and signatures on record remembered; past this a set starts again (a bound,
/// not a policy: only certificates this installation issued get in).
pub const CHAIN_CACHE_MAX: usize = 65_536;
/// How long a certificate's revocation state read from the database is used again, while no
/// revocation happened in this process. Revocations this process makes are seen at once;
/// another process's (several servers on one PostgreSQL database) within this time.
pub const REVOCATION_FRESH: Duration = Duration::from_secs(1);
/// Revocation states remembered; past this the map starts again.
pub const REVOCATION_CACHE_MAX: usize = 16_384;
/// The `typ` of a signed certificate status answer.
pub const STATUS_TYP: &str = "bauhinia-certificate-status+jws";

/// Everything verification needs from a certificate chain that does not depend on the
/// signature or the moment: decoding a certificate (OpenSSL 3 decodes its public key through
/// the provider machinery) and checking a chain cost several times an ES256 verification, and
/// an installation signs with few chains.
#[derive(Debug)]
pub struct KnownChain {
    certificates: Vec<X509>,
    key: PKey<Public>,
    leaf_der: Vec<u8>,
    serial: String,
    subject: String,
    /// The leaf's `serialNumber` attribute: a business's BRN, or a resident's signer id.
    named: Option<String>,
    /// Unix seconds in which the root and every certificate of the chain are all valid.
    valid_from: i64,
    valid_until: i64,
    /// OpenSSL's verdict on the chain against this installation's root.
    verdict: Result<(), String>,
}

impl KnownChain {
    fn new(root: &X509Ref, certificates: Vec<X509>) -> Result<KnownChain, ErrorStack> {
        let Some((leaf, intermediates)) = certificates.split_first() else {
            return Err(ErrorStack::get());
        };
        let (mut valid_from, mut valid_until) = (i64::MIN, i64::MAX);
        for certificate in std::iter::once(root).chain(certificates.iter().map(|c| &**c)) {
            valid_from = valid_from.max(ca::unix_time(certificate.not_before())?);
            valid_until = valid_until.min(ca::unix_time(certificate.not_after())?);
        }
        Ok(KnownChain {
            key: leaf.public_key()?,
            leaf_der: leaf.to_der()?,
            serial: ca::serial_hex(leaf)?,
            subject: ca::name_text(leaf.subject_name()),
            named: ca::name_entry(leaf.subject_name(), Nid::SERIALNUMBER),
            verdict: ca::verify_chain(root, intermediates, leaf)?.map_err(|e| e.0),
            valid_from,
            valid_until,
            certificates,
        })
    }

    /// The chain's certificates, the signer's first.
    pub fn certificates(&self) -> &[X509] {
        &self.certificates
    }

    fn valid_at(&self, at: i64) -> bool {
        self.valid_from <= at && at <= self.valid_until
    }
}

/// What verification remembers: chains that verified against the root (by the SHA-256 of
/// their `x5c` text) and signatures found on record — neither can change — and certificates'
/// revocation states, for [`REVOCATION_FRESH`] and only while no revocation happened in this
/// process. A chain that does not verify is decoded and checked each time and never
/// remembered, nor its certificate's state, so strangers cannot fill the memory.
#[derive(Debug, Default)]
pub struct ChainCache {
    trusted: RwLock<HashMap<[u8; 32], Arc<KnownChain>>>,
    on_record: RwLock<HashSet<[u8; 32]>>,
    revocations: RwLock<HashMap<(SignerKind, String), Revocation>>,
}

/// A certificate's record as read, when, and under which revocation epochs (the directory's,
/// identity's).
#[derive(Debug, Clone)]
struct Revocation {
    read_at: Instant,
    epochs: (u64, u64),
    /// The certificate on record (DER), when it was revoked and why; `None`: not on record.
    record: Option<(Vec<u8>, Option<i64>, Option<String>)>,
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

    fn revocation(&self, key: &(SignerKind, String), epochs: (u64, u64)) -> Option<Revocation> {
        self.revocations
            .read()
            .ok()
            .and_then(|known| known.get(key).cloned())
            .filter(|r| r.epochs == epochs && r.read_at.elapsed() < REVOCATION_FRESH)
    }

    fn remember_revocation(&self, key: (SignerKind, String), revocation: Revocation) {
        if let Ok(mut known) = self.revocations.write() {
            if known.len() >= REVOCATION_CACHE_MAX {
                known.clear();
            }
            known.insert(key, revocation);
        }
    }

    /// The chain `x5c` names, checked against `root`. Refuses what [`decode_chain`] refuses.
    fn resolve(&self, root: &X509Ref, x5c: &[String]) -> Result<Arc<KnownChain>, FormatError> {
        let mut hasher = openssl::sha::Sha256::new();
        for text in x5c {
            hasher.update(&(text.len() as u64).to_be_bytes());
            hasher.update(text.as_bytes());
        }
        let fingerprint = hasher.finish();
        if let Some(known) = self
            .trusted
            .read()
            .ok()
            .and_then(|trusted| trusted.get(&fingerprint).cloned())
        {
            return Ok(known);
        }
        let known = KnownChain::new(root, decode_chain(x5c)?)
            .map(Arc::new)
            .map_err(|e| FormatError::Chain(format!("a certificate OpenSSL cannot read: {e}")))?;
        if known.verdict.is_ok() {
            if let Ok(mut trusted) = self.trusted.write() {
                if trusted.len() >= CHAIN_CACHE_MAX {
                    trusted.clear();
                }
                trusted.insert(fingerprint, Arc::clone(&known));
            }
        }
        Ok(known)
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
        let root = self.signing.ca_certificates().await?.root;
        let parsed = format::parse_with(text, |x5c| self.chains.resolve(&root, x5c))
            .map_err(CorpIdError::SignatureMalformed)?;
        let signed_at = parsed.payload.signed_at;
        let mut errors = Vec::new();
        let mut reports = Vec::with_capacity(parsed.entries.len());
        for (index, entry) in parsed.entries.iter().enumerate() {
            let chain = &entry.chain;
            let signature_valid = entry.verifies_with(&chain.key);
            if !signature_valid {
                errors.push(Issue::SignatureMismatch { index });
            }
            let chain_valid = match &chain.verdict {
                Ok(()) => true,
                Err(why) => {
                    errors.push(Issue::ChainUntrusted {
                        index,
                        why: why.clone(),
                    });
                    false
                }
            };
            let valid_at_signing_time = chain.valid_at(signed_at);
            if !valid_at_signing_time {
                errors.push(Issue::CertificateNotValidAtSigningTime { index });
            }
            let expected = match entry.signer {
                SignerKind::Company => Some(parsed.payload.business.brn.as_str()),
                SignerKind::Person => parsed
                    .payload
                    .approvals
                    .get(index)
                    .map(|a| a.signer.as_str()),
            };
            if chain.named.as_deref() != expected {
                errors.push(Issue::SignerMismatch { index });
            }
            let (revoked_at, revocation_reason) = self
                .revocation(entry.signer, chain, index, &mut errors)
                .await?;
            if let Some(at) = revoked_at.filter(|at| *at < signed_at) {
                errors.push(Issue::CertificateRevoked {
                    index,
                    revoked_at: at,
                });
            }
            reports.push(EntryReport {
                signer: entry.signer,
                subject: chain.subject.clone(),
                certificate_serial: chain.serial.clone(),
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
        chain: &KnownChain,
        index: usize,
        errors: &mut Vec<Issue>,
    ) -> Result<(Option<i64>, Option<String>), CorpIdError> {
        let key = (signer, chain.serial.clone());
        // Read before the database, so a revocation committed meanwhile changes them.
        let epochs = (
            self.directory.revocation_epoch(),
            self.signing.revocation_epoch(),
        );
        let record = match self.chains.revocation(&key, epochs) {
            Some(remembered) => remembered.record,
            None => {
                let record = self.revocation_record(signer, &chain.serial).await?;
                // Only certificates that chain to the root are remembered: strangers' are few
                // to read and must not crowd the map.
                if chain.verdict.is_ok() {
                    let revocation = Revocation {
                        read_at: Instant::now(),
                        epochs,
                        record: record.clone(),
                    };
                    self.chains.remember_revocation(key, revocation);
                }
                record
            }
        };
        let known = record
            .filter(|(der, _, _)| *der == chain.leaf_der)
            .map(|(_, revoked_at, reason)| (revoked_at, reason));
        Ok(known.unwrap_or_else(|| {
            errors.push(Issue::CertificateUnknown { index });
            (None, None)
        }))
    }

    /// The certificate with `serial` as this installation's records hold it: its DER, when it
    /// was revoked and why.
    async fn revocation_record(
        &self,
        signer: SignerKind,
        serial: &str,
    ) -> Result<Option<(Vec<u8>, Option<i64>, Option<String>)>, CorpIdError> {
        Ok(match signer {
            SignerKind::Company => self
                .store
                .key_by_serial(serial)
                .await?
                .map(|key| (key.certificate_der, key.revoked_at_s, key.revocation_reason)),
            SignerKind::Person => self.signing.issued_certificate(serial).await?.map(|c| {
                (
                    c.certificate_der,
                    c.revoked_at_s,
                    c.revoked_at_s.map(|_| "superseded".to_owned()),
                )
            }),
        })
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
