//! The X.509 side of signing, on OpenSSL: the installation's root and issuing certificate
//! authority, residents' signing certificates, and the checks a verifier makes on a chain. Pure
//! cryptography: no database, no clock (every time is passed in), no key leaves as anything but
//! an OpenSSL key or a certificate.
//!
//! Profile (all keys ECDSA P-256, all signatures ECDSA with SHA-256, serials 16 random bytes):
//! - root CA: self-signed, 10 years, BasicConstraints CA:TRUE (critical), KeyUsage
//!   keyCertSign + cRLSign (critical), SubjectKeyIdentifier;
//! - issuing CA: signed by the root, 5 years, CA:TRUE with pathlen 0, the same key usages,
//!   SKI and AKI;
//! - signing certificate: signed by the issuing CA, 2 years (never beyond the issuing CA),
//!   subject `CN=<English name>, serialNumber=<signer id>` (never the HKID), BasicConstraints
//!   CA:FALSE, KeyUsage digitalSignature + nonRepudiation (critical), ExtendedKeyUsage
//!   id-kp-documentSigning (1.3.6.1.5.5.7.3.36, RFC 9336), SKI and AKI.

use openssl::asn1::{Asn1Integer, Asn1Time, Asn1TimeRef};
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::error::ErrorStack;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, PKeyRef, Private, Public};
use openssl::stack::Stack;
use openssl::x509::extension::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectKeyIdentifier,
};
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::verify::X509VerifyFlags;
use openssl::x509::{
    X509Builder, X509Name, X509NameBuilder, X509NameRef, X509Ref, X509StoreContext, X509,
};

pub const ROOT_CA_NAME: &str = "Bauhinia iAM Smart Root CA";
pub const ISSUING_CA_NAME: &str = "Bauhinia iAM Smart Signing CA";
pub const ORGANIZATION: &str = "Bauhinia";
pub const COUNTRY: &str = "HK";

const DAY_S: i64 = 24 * 60 * 60;
pub const ROOT_LIFETIME_S: i64 = 3_652 * DAY_S;
pub const ISSUING_LIFETIME_S: i64 = 1_826 * DAY_S;
pub const CERTIFICATE_LIFETIME_S: i64 = 731 * DAY_S;
/// id-kp-documentSigning (RFC 9336): the key signs documents, not TLS or e-mail.
pub const DOCUMENT_SIGNING_OID: &str = "1.3.6.1.5.5.7.3.36";
/// Serials are 127 random bits with the top bit set: always 16 bytes, always positive.
const SERIAL_BITS: i32 = 127;

/// A fresh ECDSA P-256 key pair.
pub fn new_key() -> Result<PKey<Private>, ErrorStack> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
    PKey::from_ec_key(EcKey::generate(&group)?)
}

fn random_serial() -> Result<Asn1Integer, ErrorStack> {
    let mut serial = BigNum::new()?;
    serial.rand(SERIAL_BITS, MsbOption::ONE, false)?;
    serial.to_asn1_integer()
}

fn ca_name(common_name: &str) -> Result<X509Name, ErrorStack> {
    let mut name = X509NameBuilder::new()?;
    name.append_entry_by_nid(Nid::COUNTRYNAME, COUNTRY)?;
    name.append_entry_by_nid(Nid::ORGANIZATIONNAME, ORGANIZATION)?;
    name.append_entry_by_nid(Nid::COMMONNAME, common_name)?;
    Ok(name.build())
}

/// A builder with the fields every certificate here shares.
fn builder(
    subject: &X509NameRef,
    issuer: &X509NameRef,
    public_key: &PKeyRef<impl openssl::pkey::HasPublic>,
    not_before_s: i64,
    not_after_s: i64,
) -> Result<X509Builder, ErrorStack> {
    let mut builder = X509Builder::new()?;
    builder.set_version(2)?;
    let serial = random_serial()?;
    builder.set_serial_number(&serial)?;
    builder.set_subject_name(subject)?;
    builder.set_issuer_name(issuer)?;
    builder.set_pubkey(public_key)?;
    let (not_before, not_after) = (
        Asn1Time::from_unix(not_before_s)?,
        Asn1Time::from_unix(not_after_s)?,
    );
    builder.set_not_before(&not_before)?;
    builder.set_not_after(&not_after)?;
    Ok(builder)
}

fn ca_key_usage() -> Result<openssl::x509::X509Extension, ErrorStack> {
    KeyUsage::new()
        .critical()
        .key_cert_sign()
        .crl_sign()
        .build()
}

/// A new self-signed root CA, valid from `now_s` for [`ROOT_LIFETIME_S`].
pub fn new_root(now_s: i64) -> Result<(X509, PKey<Private>), ErrorStack> {
    let key = new_key()?;
    let name = ca_name(ROOT_CA_NAME)?;
    let mut builder = builder(&name, &name, &key, now_s, now_s + ROOT_LIFETIME_S)?;
    builder.append_extension(BasicConstraints::new().critical().ca().build()?)?;
    builder.append_extension(ca_key_usage()?)?;
    let ski = SubjectKeyIdentifier::new().build(&builder.x509v3_context(None, None))?;
    builder.append_extension(ski)?;
    builder.sign(&key, MessageDigest::sha256())?;
    Ok((builder.build(), key))
}

/// A new issuing CA signed by the root: may sign end-entity certificates only (pathlen 0).
pub fn new_issuing(
    root: &X509Ref,
    root_key: &PKeyRef<Private>,
    now_s: i64,
) -> Result<(X509, PKey<Private>), ErrorStack> {
    let key = new_key()?;
    let name = ca_name(ISSUING_CA_NAME)?;
    let not_after_s = (now_s + ISSUING_LIFETIME_S).min(unix_time(root.not_after())?);
    let mut builder = builder(&name, root.subject_name(), &key, now_s, not_after_s)?;
    builder.append_extension(BasicConstraints::new().critical().ca().pathlen(0).build()?)?;
    builder.append_extension(ca_key_usage()?)?;
    let ski = SubjectKeyIdentifier::new().build(&builder.x509v3_context(Some(root), None))?;
    builder.append_extension(ski)?;
    let aki = AuthorityKeyIdentifier::new()
        .keyid(true)
        .build(&builder.x509v3_context(Some(root), None))?;
    builder.append_extension(aki)?;
    builder.sign(root_key, MessageDigest::sha256())?;
    Ok((builder.build(), key))
}

/// Who a signing certificate names: the resident's English name and an opaque signer id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignerSubject {
    pub english_name: String,
    pub signer_id: String,
}

/// A resident's signing certificate for `public_key`, issued now by the issuing CA.
pub fn issue_signing_certificate(
    issuing: &X509Ref,
    issuing_key: &PKeyRef<Private>,
    subject: &SignerSubject,
    public_key: &PKeyRef<Public>,
    now_s: i64,
) -> Result<X509, ErrorStack> {
    let mut name = X509NameBuilder::new()?;
    name.append_entry_by_nid(Nid::COUNTRYNAME, COUNTRY)?;
    name.append_entry_by_nid(Nid::COMMONNAME, &subject.english_name)?;
    name.append_entry_by_nid(Nid::SERIALNUMBER, &subject.signer_id)?;
    issue_end_entity(issuing, issuing_key, &name.build(), public_key, now_s)
}

/// The semantics identifier prefix of an organisation identifier under ETSI EN 319 412-1 §5.1.4:
/// `NTR` (a national trade register), the country, `-`, then the register's number (the BRN).
pub const ORGANIZATION_IDENTIFIER_PREFIX: &str = "NTRHK-";

/// Who an organisation's certificate (a company "chop") names: the business, never a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganisationSubject {
    /// The registered English name.
    pub name_en: String,
    /// The Business Registration number (8 digits).
    pub brn: String,
}

/// An organisation's document-signing certificate for `public_key`, issued now by the issuing
/// CA: subject `C=HK, O=<name>, CN=<name>, serialNumber=<BRN>,
/// organizationIdentifier=NTRHK-<BRN>`, with the same extensions as a resident's.
pub fn issue_organisation_certificate(
    issuing: &X509Ref,
    issuing_key: &PKeyRef<Private>,
    subject: &OrganisationSubject,
    public_key: &PKeyRef<Public>,
    now_s: i64,
) -> Result<X509, ErrorStack> {
    let mut name = X509NameBuilder::new()?;
    name.append_entry_by_nid(Nid::COUNTRYNAME, COUNTRY)?;
    name.append_entry_by_nid(Nid::ORGANIZATIONNAME, &subject.name_en)?;
    name.append_entry_by_nid(Nid::COMMONNAME, &subject.name_en)?;
    name.append_entry_by_nid(Nid::SERIALNUMBER, &subject.brn)?;
    name.append_entry_by_text(
        "organizationIdentifier",
        &format!("{ORGANIZATION_IDENTIFIER_PREFIX}{}", subject.brn),
    )?;
    issue_end_entity(issuing, issuing_key, &name.build(), public_key, now_s)
}

/// An end-entity document-signing certificate (see the profile above) for `name`.
fn issue_end_entity(
    issuing: &X509Ref,
    issuing_key: &PKeyRef<Private>,
    name: &X509NameRef,
    public_key: &PKeyRef<Public>,
    now_s: i64,
) -> Result<X509, ErrorStack> {
    let not_after_s = (now_s + CERTIFICATE_LIFETIME_S).min(unix_time(issuing.not_after())?);
    let mut builder = builder(name, issuing.subject_name(), public_key, now_s, not_after_s)?;
    builder.append_extension(BasicConstraints::new().critical().build()?)?;
    builder.append_extension(
        KeyUsage::new()
            .critical()
            .digital_signature()
            .non_repudiation()
            .build()?,
    )?;
    builder.append_extension(
        ExtendedKeyUsage::new()
            .other(DOCUMENT_SIGNING_OID)
            .build()?,
    )?;
    let ski = SubjectKeyIdentifier::new().build(&builder.x509v3_context(Some(issuing), None))?;
    builder.append_extension(ski)?;
    let aki = AuthorityKeyIdentifier::new()
        .keyid(true)
        .build(&builder.x509v3_context(Some(issuing), None))?;
    builder.append_extension(aki)?;
    builder.sign(issuing_key, MessageDigest::sha256())?;
    Ok(builder.build())
}

/// Seconds since the Unix epoch of an ASN.1 time.
pub fn unix_time(time: &Asn1TimeRef) -> Result<i64, ErrorStack> {
    let epoch = Asn1Time::from_unix(0)?;
    let diff = epoch.diff(time)?;
    Ok(i64::from(diff.days) * DAY_S + i64::from(diff.secs))
}

/// Whether `certificate` is within its validity period at `at_s` (both ends inclusive).
pub fn valid_at(certificate: &X509Ref, at_s: i64) -> Result<bool, ErrorStack> {
    Ok(unix_time(certificate.not_before())? <= at_s && at_s <= unix_time(certificate.not_after())?)
}

/// The serial number in upper-case hexadecimal, as `openssl x509 -serial` prints it.
pub fn serial_hex(certificate: &X509Ref) -> Result<String, ErrorStack> {
    Ok(certificate
        .serial_number()
        .to_bn()?
        .to_hex_str()?
        .to_string())
}

/// One attribute of a name, as text (`None` if absent or not text).
pub fn name_entry(name: &X509NameRef, nid: Nid) -> Option<String> {
    name.entries_by_nid(nid)
        .next()
        .and_then(|entry| entry.data().to_string().ok())
}

/// A distinguished name in the RFC 4514 string form, most specific first
/// (`serialNumber=…,CN=CHAN\, Tai Man,C=HK`).
pub fn name_text(name: &X509NameRef) -> String {
    let mut parts: Vec<String> = name
        .entries()
        .map(|entry| {
            let key = match entry.object().nid() {
                Nid::COMMONNAME => "CN".to_owned(),
                Nid::COUNTRYNAME => "C".to_owned(),
                Nid::ORGANIZATIONNAME => "O".to_owned(),
                Nid::SERIALNUMBER => "serialNumber".to_owned(),
                other => other
                    .short_name()
                    .map_or_else(|_| entry.object().to_string(), str::to_owned),
            };
            let value = entry.data().to_string().unwrap_or_default();
            format!("{key}={}", escape_rfc4514(&value))
        })
        .collect();
    parts.reverse();
    parts.join(",")
}

fn escape_rfc4514(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for (i, c) in value.chars().enumerate() {
        let edge = i == 0 && matches!(c, ' ' | '#') || i + 1 == value.chars().count() && c == ' ';
        if edge || matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Why a chain did not verify, in OpenSSL's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ChainError(pub String);

/// Verifies that `leaf` chains to `root` through `intermediates`: signatures, issuer names, CA
/// constraints and path lengths. Validity periods are checked separately, at the time of
/// signing, by [`valid_at`]; OpenSSL's own time check (against the clock) is switched off.
pub fn verify_chain(
    root: &X509Ref,
    intermediates: &[X509],
    leaf: &X509Ref,
) -> Result<Result<(), ChainError>, ErrorStack> {
    let mut store = X509StoreBuilder::new()?;
    store.add_cert(root.to_owned())?;
    store.set_flags(X509VerifyFlags::NO_CHECK_TIME | X509VerifyFlags::X509_STRICT)?;
    let store = store.build();
    let mut chain = Stack::new()?;
    for certificate in intermediates {
        chain.push(certificate.clone())?;
    }
    let mut context = X509StoreContext::new()?;
    context.init(&store, leaf, &chain, |context| {
        let verified = context.verify_cert()?;
        Ok(if verified {
            Ok(())
        } else {
            Err(ChainError(format!(
                "{} (at depth {})",
                context.error().error_string(),
                context.error_depth()
            )))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_790_000_000;

    fn subject() -> SignerSubject {
        SignerSubject {
            english_name: "CHAN, Tai Man".into(),
            signer_id: "0123456789abcdef0123456789abcdef".into(),
        }
    }

    #[test]
    fn a_chain_of_three_verifies_and_says_what_it_is() {
        let (root, root_key) = new_root(NOW).expect("root");
        let (issuing, issuing_key) = new_issuing(&root, &root_key, NOW).expect("issuing");
        let key = new_key().expect("key");
        let public =
            PKey::public_key_from_der(&key.public_key_to_der().expect("der")).expect("pub");
        let leaf = issue_signing_certificate(&issuing, &issuing_key, &subject(), &public, NOW)
            .expect("leaf");
        assert_eq!(
            verify_chain(&root, std::slice::from_ref(&issuing), &leaf).expect("runs"),
            Ok(())
        );
        // Without the intermediate, or against another root, it does not.
        assert!(verify_chain(&root, &[], &leaf).expect("runs").is_err());
        let (other_root, _) = new_root(NOW).expect("root");
        assert!(
            verify_chain(&other_root, std::slice::from_ref(&issuing), &leaf)
                .expect("runs")
                .is_err()
        );
        // A leaf cannot act as a CA: a certificate it "issues" does not chain.
        let stranger =
            issue_signing_certificate(&leaf, &key, &subject(), &public, NOW).expect("builds");
        assert!(
            verify_chain(&root, &[issuing.clone(), leaf.clone()], &stranger)
                .expect("runs")
                .is_err()
        );

        assert_eq!(
            name_text(leaf.subject_name()),
            "serialNumber=0123456789abcdef0123456789abcdef,CN=CHAN\\, Tai Man,C=HK"
        );
        assert_eq!(
            name_text(root.subject_name()),
            "CN=Bauhinia iAM Smart Root CA,O=Bauhinia,C=HK"
        );
        assert_eq!(
            name_entry(leaf.subject_name(), Nid::COMMONNAME).as_deref(),
            Some("CHAN, Tai Man")
        );
        assert_eq!(serial_hex(&leaf).expect("serial").len(), 32);
        assert_ne!(
            serial_hex(&leaf).expect("a"),
            serial_hex(&issuing).expect("b")
        );
        assert_eq!(unix_time(leaf.not_before()).expect("time"), NOW);
        assert_eq!(
            unix_time(leaf.not_after()).expect("time"),
            NOW + CERTIFICATE_LIFETIME_S
        );
        assert!(valid_at(&leaf, NOW).expect("t"));
        assert!(!valid_at(&leaf, NOW - 1).expect("t"));
        assert!(!valid_at(&leaf, NOW + CERTIFICATE_LIFETIME_S + 1).expect("t"));
    }

    #[test]
    fn certificates_never_outlive_their_issuer() {
        let (root, root_key) = new_root(NOW).expect("root");
        let late = NOW + ROOT_LIFETIME_S - DAY_S;
        let (issuing, issuing_key) = new_issuing(&root, &root_key, late).expect("issuing");
        assert_eq!(
            unix_time(issuing.not_after()).expect("t"),
            unix_time(root.not_after()).expect("t")
        );
        let key = new_key().expect("key");
        let public =
            PKey::public_key_from_der(&key.public_key_to_der().expect("der")).expect("pub");
        let leaf = issue_signing_certificate(&issuing, &issuing_key, &subject(), &public, late)
            .expect("leaf");
        assert_eq!(
            unix_time(leaf.not_after()).expect("t"),
            unix_time(issuing.not_after()).expect("t")
        );
    }

    #[test]
    fn an_organisation_certificate_names_the_business_and_chains() {
        let (root, root_key) = new_root(NOW).expect("root");
        let (issuing, issuing_key) = new_issuing(&root, &root_key, NOW).expect("issuing");
        let key = new_key().expect("key");
        let public =
            PKey::public_key_from_der(&key.public_key_to_der().expect("der")).expect("pub");
        let subject = OrganisationSubject {
            name_en: "Harbour Trading Limited".into(),
            brn: "12345678".into(),
        };
        let leaf = issue_organisation_certificate(&issuing, &issuing_key, &subject, &public, NOW)
            .expect("leaf");
        assert_eq!(
            verify_chain(&root, std::slice::from_ref(&issuing), &leaf).expect("runs"),
            Ok(())
        );
        assert_eq!(
            name_text(leaf.subject_name()),
            "organizationIdentifier=NTRHK-12345678,serialNumber=12345678,\
             CN=Harbour Trading Limited,O=Harbour Trading Limited,C=HK"
        );
        assert_eq!(
            name_entry(leaf.subject_name(), Nid::SERIALNUMBER).as_deref(),
            Some("12345678")
        );
    }

    #[test]
    fn rfc4514_escapes() {
        assert_eq!(escape_rfc4514("a,b"), "a\\,b");
        assert_eq!(escape_rfc4514(" a "), "\\ a\\ ");
        assert_eq!(escape_rfc4514("#x=y"), "\\#x\\=y");
    }
}
