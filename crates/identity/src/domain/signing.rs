//! The rules of 智方便 digital signing that need no key and no database: what a document name and a
//! document hash must be, how long a request waits for the resident, and which way a request's
//! status may move. Pure: no I/O, no SQL, no HTTP, no cryptography.

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;

/// A document name longer than this is refused (characters, not bytes).
pub const DOCUMENT_NAME_LEN_MAX: usize = 256;
/// A SHA-256 digest is 32 bytes.
pub const DOCUMENT_HASH_BYTES: usize = 32;
/// How long a signing request waits for the resident's decision in the app.
pub const REQUEST_LIFETIME_S: i64 = 5 * 60;
/// A client id longer than this is refused.
pub const CLIENT_ID_LEN_MAX: usize = 128;

/// One field that failed validation, named as in the request (`document_name`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningFieldError {
    pub field: &'static str,
    pub message: String,
}

fn error(field: &'static str, message: impl Into<String>) -> SigningFieldError {
    SigningFieldError {
        field,
        message: message.into(),
    }
}

/// The name a service gives the document, shown to the resident before approval and signed
/// with the hash. Trimmed; 1 to [`DOCUMENT_NAME_LEN_MAX`] characters; no control characters
/// (which could hide or reorder what the resident reads).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentName(String);

impl DocumentName {
    pub fn parse(text: &str) -> Result<DocumentName, SigningFieldError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(error("document_name", "must not be empty"));
        }
        if text.chars().count() > DOCUMENT_NAME_LEN_MAX {
            return Err(error(
                "document_name",
                format!("at most {DOCUMENT_NAME_LEN_MAX} characters"),
            ));
        }
        if text.chars().any(is_forbidden) {
            return Err(error(
                "document_name",
                "must not contain control or bidirectional-override characters",
            ));
        }
        Ok(DocumentName(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Control characters, and the Unicode bidirectional overrides and isolates that make a name
/// display differently from what it says.
fn is_forbidden(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// The SHA-256 digest of the document: exactly 32 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocumentHash([u8; DOCUMENT_HASH_BYTES]);

impl DocumentHash {
    pub fn from_bytes(bytes: &[u8]) -> Result<DocumentHash, SigningFieldError> {
        <[u8; DOCUMENT_HASH_BYTES]>::try_from(bytes)
            .map(DocumentHash)
            .map_err(|_| {
                error(
                    "document_hash",
                    format!(
                        "a SHA-256 digest is {DOCUMENT_HASH_BYTES} bytes, not {}",
                        bytes.len()
                    ),
                )
            })
    }

    /// Text as services send it: 64 hexadecimal digits, or base64 (standard or URL-safe, with
    /// or without padding) of the 32 bytes. The two cannot be confused: base64 of 32 bytes is 43
    /// or 44 characters.
    pub fn parse_text(text: &str) -> Result<DocumentHash, SigningFieldError> {
        let text = text.trim();
        if text.len() == 2 * DOCUMENT_HASH_BYTES {
            return decode_hex(text)
                .ok_or_else(|| error("document_hash", "64 characters, but not hexadecimal"))
                .and_then(|bytes| DocumentHash::from_bytes(&bytes));
        }
        let decoded = [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
            .iter()
            .find_map(|engine| engine.decode(text).ok())
            .ok_or_else(|| {
                error(
                    "document_hash",
                    "expected the SHA-256 digest as 64 hexadecimal digits or as base64",
                )
            })?;
        DocumentHash::from_bytes(&decoded)
    }

    pub fn as_bytes(&self) -> &[u8; DOCUMENT_HASH_BYTES] {
        &self.0
    }

    /// Lower-case hexadecimal, the form inside a signature.
    pub fn to_hex(&self) -> String {
        to_hex(&self.0)
    }
}

/// Lower-case hexadecimal of any bytes.
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        for nibble in [byte >> 4, byte & 0x0f] {
            out.push(char::from(
                DIGITS.get(usize::from(nibble)).copied().unwrap_or(b'0'),
            ));
        }
    }
    out
}

/// Hexadecimal (either case) to bytes; `None` for an odd length or a non-hex digit.
pub fn decode_hex(text: &str) -> Option<Vec<u8>> {
    let pairs = text.as_bytes().chunks_exact(2);
    if !pairs.remainder().is_empty() {
        return None;
    }
    let digit = |b: u8| {
        char::from(b)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    };
    pairs
        .map(|pair| match pair {
            [high, low] => Some(digit(*high)? << 4 | digit(*low)?),
            _ => None,
        })
        .collect()
}

/// The identifier of the service asking for a signature, as its client registration names it.
pub fn check_client_id(text: &str) -> Result<(), SigningFieldError> {
    let ok = !text.is_empty()
        && text.len() <= CLIENT_ID_LEN_MAX
        && text.chars().all(|c| c.is_ascii_graphic());
    if ok {
        Ok(())
    } else {
        Err(error(
            "client_id",
            format!("1 to {CLIENT_ID_LEN_MAX} printable ASCII characters, no spaces"),
        ))
    }
}

/// Where a signing request stands. Only `Pending` moves, and only once: to `Approved` or
/// `Rejected` by the resident, to `Expired` when its time runs out, to `Cancelled` by the
/// service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestStatus {
    Pending,
    Approved,
    Rejected,
    Expired,
    Cancelled,
}

impl RequestStatus {
    pub const ALL: [RequestStatus; 5] = [
        RequestStatus::Pending,
        RequestStatus::Approved,
        RequestStatus::Rejected,
        RequestStatus::Expired,
        RequestStatus::Cancelled,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Pending => "pending",
            RequestStatus::Approved => "approved",
            RequestStatus::Rejected => "rejected",
            RequestStatus::Expired => "expired",
            RequestStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<RequestStatus> {
        RequestStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// The status a reader sees at `now_s`: a pending request whose time has run out is expired
    /// even before anyone has written so.
    pub fn at(self, expires_at_s: i64, now_s: i64) -> RequestStatus {
        if self == RequestStatus::Pending && now_s >= expires_at_s {
            RequestStatus::Expired
        } else {
            self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn document_names() {
        let check = |text: &str, ok: bool| {
            assert_eq!(DocumentName::parse(text).is_ok(), ok, "{text:?}");
        };
        check("Tenancy agreement 租約.pdf", true);
        check("  padded  ", true);
        check(&"名".repeat(DOCUMENT_NAME_LEN_MAX), true);
        check(&"名".repeat(DOCUMENT_NAME_LEN_MAX + 1), false);
        check("", false);
        check("   ", false);
        check("line\nbreak", false);
        check("tab\there", false);
        check("nul\0", false);
        check("invoice\u{202E}fdp.exe", false);
        assert_eq!(
            DocumentName::parse("  a.pdf ").map(|n| n.as_str().to_owned()),
            Ok("a.pdf".to_owned())
        );
    }

    #[test]
    fn document_hashes_in_hex_and_base64() {
        let bytes: Vec<u8> = (0u8..32).map(|i| i.wrapping_mul(37)).collect();
        let expected = DocumentHash::from_bytes(&bytes).expect("32 bytes");
        let hex = to_hex(&bytes);
        assert_eq!(hex.len(), 64);
        for text in [
            hex.clone(),
            hex.to_uppercase(),
            STANDARD.encode(&bytes),
            STANDARD_NO_PAD.encode(&bytes),
            URL_SAFE.encode(&bytes),
            URL_SAFE_NO_PAD.encode(&bytes),
        ] {
            assert_eq!(DocumentHash::parse_text(&text), Ok(expected), "{text}");
        }
        assert_eq!(expected.to_hex(), hex);
        for bad in [
            "",
            "zz",
            &"g".repeat(64),
            &to_hex(&[1u8; 31]),
            &STANDARD.encode([1u8; 33]),
            &STANDARD.encode([1u8; 48]),
        ] {
            let err = DocumentHash::parse_text(bad).expect_err(bad);
            assert_eq!(err.field, "document_hash");
        }
        assert!(DocumentHash::from_bytes(&[0u8; 31]).is_err());
        assert!(DocumentHash::from_bytes(&[0u8; 33]).is_err());
    }

    #[test]
    fn hex_round_trip_and_rejects() {
        assert_eq!(decode_hex("00ff10Ab"), Some(vec![0, 255, 16, 171]));
        assert_eq!(decode_hex("abc"), None);
        assert_eq!(decode_hex("0g"), None);
        assert_eq!(to_hex(&[0, 255, 16, 171]), "00ff10ab");
    }

    #[test]
    fn client_ids() {
        assert!(check_client_id("gov.hk/ird-etax").is_ok());
        assert!(check_client_id("").is_err());
        assert!(check_client_id("has space").is_err());
        assert!(check_client_id(&"x".repeat(CLIENT_ID_LEN_MAX + 1)).is_err());
    }

    #[test]
    fn statuses() {
        for status in RequestStatus::ALL {
            assert_eq!(RequestStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(RequestStatus::parse("Pending"), None);
        assert_eq!(
            RequestStatus::Pending.at(100, 99),
            RequestStatus::Pending,
            "before expiry"
        );
        assert_eq!(RequestStatus::Pending.at(100, 100), RequestStatus::Expired);
        assert_eq!(
            RequestStatus::Approved.at(100, 200),
            RequestStatus::Approved
        );
    }

    proptest! {
        #[test]
        fn hash_and_name_parsers_never_panic(text in ".{0,300}") {
            let _ = DocumentHash::parse_text(&text);
            let _ = DocumentName::parse(&text);
            let _ = decode_hex(&text);
        }

        #[test]
        fn every_digest_round_trips_through_hex(bytes in proptest::collection::vec(any::<u8>(), 32)) {
            let hash = DocumentHash::from_bytes(&bytes).expect("32 bytes");
            prop_assert_eq!(DocumentHash::parse_text(&hash.to_hex()), Ok(hash));
            prop_assert_eq!(DocumentHash::parse_text(&URL_SAFE_NO_PAD.encode(&bytes)), Ok(hash));
        }
    }
}
