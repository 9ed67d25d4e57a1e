//! Verification of a Bauhinia signature, for anyone: the ES256 signature with the signer's
//! certificate, the chain to this installation's root CA, every certificate's validity at the
//! time of signing, revocation by then, and the approved request on record that produced exactly
//! this signature. Text that is not a Bauhinia signature at all is an error; a well-formed
//! signature that fails a check is a report saying which checks failed. Nothing here writes.

use openssl::nid::Nid;
use openssl::x509::X509Ref;
use time::OffsetDateTime;

use super::ca;
use super::format::{self, FormatError, ParsedSignature, Payload};
use super::service::{datetime, SigningError, SigningService, SIGNED_AT_SKEW_S};
use super::store::SigningStore;
use crate::domain::signing::{DocumentHash, RequestStatus};

/// One reason a signature does not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerificationIssue {
    /// The ES256 signature does not match the header and payload with the signer's key.
    SignatureMismatch,
    /// The certificates do not chain to this installation's root CA.
    ChainUntrusted(String),
    /// The payload's `signer` is not the signer id the certificate names.
    SignerMismatch,
    /// A certificate of the chain was not within its validity period at `signed_at`.
    NotValidAtSigningTime,
    /// `signed_at` is later than now.
    SignedInFuture,
    /// The signer's key had been revoked before `signed_at`.
    CertificateRevoked { revoked_at: i64 },
    /// This installation never issued the signer's certificate.
    CertificateUnknown,
    /// No approved request of this installation produced exactly this signature.
    NotOnRecord,
    /// The document hash signed is not the one the verifier holds.
    DocumentHashMismatch,
}

impl VerificationIssue {
    /// A stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            VerificationIssue::SignatureMismatch => "signature_mismatch",
            VerificationIssue::ChainUntrusted(_) => "chain_untrusted",
            VerificationIssue::SignerMismatch => "signer_mismatch",
            VerificationIssue::NotValidAtSigningTime => "certificate_not_valid_at_signing_time",
            VerificationIssue::SignedInFuture => "signed_in_future",
            VerificationIssue::CertificateRevoked { .. } => "certificate_revoked",
            VerificationIssue::CertificateUnknown => "certificate_unknown",
            VerificationIssue::NotOnRecord => "not_on_record",
            VerificationIssue::DocumentHashMismatch => "document_hash_mismatch",
        }
    }

    /// What it means, in plain English.
    pub fn detail(&self) -> String {
        match self {
            VerificationIssue::SignatureMismatch => {
                "the signature does not match the signed data and the signer's key".into()
            }
            VerificationIssue::ChainUntrusted(why) => {
                format!("the certificate chain does not lead to this installation's root CA: {why}")
            }
            VerificationIssue::NotValidAtSigningTime => {
                "a certificate of the chain was not valid at the time of signing".into()
            }
            VerificationIssue::SignerMismatch => {
                "the payload's signer is not the one the certificate names".into()
            }
            VerificationIssue::SignedInFuture => "the time of signing is in the future".into(),
            VerificationIssue::CertificateRevoked { revoked_at } => {
                format!("the signer's certificate was revoked at {revoked_at}, before the time of signing")
            }
            VerificationIssue::CertificateUnknown => {
                "this installation did not issue the signer's certificate".into()
            }
            VerificationIssue::NotOnRecord => {
                "no approved signing request of this installation produced this signature".into()
            }
            VerificationIssue::DocumentHashMismatch => {
                "the signed document hash is not the hash given for comparison".into()
            }
        }
    }
}

/// The outcome of verifying a well-formed signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationReport {
    /// Every check passed.
    pub valid: bool,
    pub signature_valid: bool,
    pub chain_valid: bool,
    pub cert_valid_at_signing_time: bool,
    /// RFC 4514 subject of the signer's certificate.
    pub signer_subject: String,
    pub signer_name: Option<String>,
    pub certificate_serial: String,
    pub signed_at: OffsetDateTime,
    /// What was signed, as it was signed.
    pub payload: Payload,
    pub errors: Vec<VerificationIssue>,
}

impl SigningService {
    /// Verifies a signature: the ES256 signature with the signer's certificate, the chain to
    /// this installation's root, every certificate's validity at the time of signing, the
    /// signer's key not revoked before then, and an approved request on record that produced
    /// exactly this signature. Text that is not a Bauhinia signature at all is an error; a
    /// well-formed signature that fails any check is a report with `valid: false`.
    pub async fn verify(&self, jws: &str) -> Result<VerificationReport, SigningError> {
        self.verify_document(jws, None).await
    }

    /// [`Self::verify`], and the signed hash must equal `document_hash` if given.
    pub async fn verify_document(
        &self,
        jws: &str,
        document_hash: Option<&DocumentHash>,
    ) -> Result<VerificationReport, SigningError> {
        let parsed = format::parse(jws)?;
        let leaf = parsed
            .leaf()
            .ok_or(SigningError::Malformed(FormatError::Chain(
                "no certificate".into(),
            )))?;
        let authority = self.authority().await?;
        let signed_at_s = parsed.payload.signed_at;
        let mut errors = Vec::new();

        let signature_valid = signature_matches(&parsed, leaf);
        if !signature_valid {
            errors.push(VerificationIssue::SignatureMismatch);
        }
        let chain_valid = match ca::verify_chain(&authority.root, parsed.intermediates(), leaf)? {
            Ok(()) => true,
            Err(e) => {
                errors.push(VerificationIssue::ChainUntrusted(e.0));
                false
            }
        };
        let signer_id = ca::name_entry(leaf.subject_name(), Nid::SERIALNUMBER);
        if signer_id.as_deref() != Some(parsed.payload.signer.as_str()) {
            errors.push(VerificationIssue::SignerMismatch);
        }
        let mut cert_valid_at_signing_time = ca::valid_at(&authority.root, signed_at_s)?;
        for certificate in &parsed.chain {
            cert_valid_at_signing_time &= ca::valid_at(certificate, signed_at_s)?;
        }
        if !cert_valid_at_signing_time {
            errors.push(VerificationIssue::NotValidAtSigningTime);
        }
        if signed_at_s > self.now_s() + SIGNED_AT_SKEW_S {
            errors.push(VerificationIssue::SignedInFuture);
        }
        let serial = ca::serial_hex(leaf)?;
        errors.extend(
            self.record_issues(&parsed, leaf, &serial, jws.trim())
                .await?,
        );
        if document_hash.is_some_and(|hash| hash.to_hex() != parsed.payload.document_hash) {
            errors.push(VerificationIssue::DocumentHashMismatch);
        }
        Ok(VerificationReport {
            valid: errors.is_empty(),
            signature_valid,
            chain_valid,
            cert_valid_at_signing_time,
            signer_subject: ca::name_text(leaf.subject_name()),
            signer_name: ca::name_entry(leaf.subject_name(), Nid::COMMONNAME),
            certificate_serial: serial,
            signed_at: datetime(signed_at_s)
                .map_err(|_| FormatError::Payload("signed_at", "out of range".into()))?,
            payload: parsed.payload,
            errors,
        })
    }

    /// What this installation's records say: the certificate is one it issued, not revoked
    /// before the time of signing, and an approved request produced exactly this signature.
    async fn record_issues(
        &self,
        parsed: &ParsedSignature,
        leaf: &X509Ref,
        serial: &str,
        jws: &str,
    ) -> Result<Vec<VerificationIssue>, SigningError> {
        let mut issues = Vec::new();
        match self.store.key_by_serial(serial).await? {
            Some(key) if key.certificate_der == leaf.to_der()? => {
                // Times are whole seconds. Bauhinia itself never signs with a revoked key (the
                // approval's conditional update requires it active), so a signature dated in the
                // second of the revocation was made before it.
                if let Some(revoked_at) =
                    key.revoked_at_s.filter(|at| *at < parsed.payload.signed_at)
                {
                    issues.push(VerificationIssue::CertificateRevoked { revoked_at });
                }
            }
            _ => issues.push(VerificationIssue::CertificateUnknown),
        }
        let on_record = self
            .store
            .request(&parsed.payload.request_id)
            .await?
            .is_some_and(|row| {
                row.status == RequestStatus::Approved.as_str()
                    && row.signature.as_deref() == Some(jws)
            });
        if !on_record {
            issues.push(VerificationIssue::NotOnRecord);
        }
        Ok(issues)
    }
}

/// The ES256 signature checks with the leaf's key, which must be a P-256 key.
fn signature_matches(parsed: &ParsedSignature, leaf: &X509Ref) -> bool {
    leaf.public_key()
        .is_ok_and(|key| parsed.signature_verifies(&key))
}
