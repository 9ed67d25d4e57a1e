//! The Hong Kong common QR code for FPS: EMVCo merchant-presented mode, with the FPS merchant
//! account template in field 26 (`00` = `hk.com.hkicl`, `01` participant code, and exactly one
//! payee proxy: `02` FPS ID, `03` mobile `+852-XXXXXXXX` or `04` email).
//!
//! - [`decode`] turns a payload into the typed [`FpsQr`] plus every field as it stands, or
//!   says exactly what is wrong and where ([`QrError`]: a stable code, the field, the position).
//! - [`encode`] writes a typed code as a payload, CRC included; a decoded payload whose fields
//!   were in ascending order (as EMVCo writers put them) encodes back to the same characters,
//!   unknown fields included.
//! - [`render`] draws a payload as SVG or PNG; [`http`] is the API under `/api/v1/fps/qr`.
//!
//! Text: lengths and positions count characters (Unicode scalar values), and the CRC is computed
//! over the payload's UTF-8 bytes — as the npm implementation `emv-qrcps` does (lengths in
//! JavaScript string units, which are characters for any Chinese text; the CRC through the `crc`
//! package, over UTF-8). Bauhinia writes only printable ASCII in fields 59, 60 and 62, and a name
//! in another script in field 64, as EMVCo intends; it reads other text in them too.
//!
//! Amounts are integer minor units ([`bauhinia_core::Money`]), never floats. Nothing here
//! panics on any input, and nothing here does I/O.

mod crc;
mod decode;
mod encode;
mod error;
pub mod http;
mod model;
pub mod render;
mod tlv;
pub mod wire;

pub use self::crc::{checksum, checksum_hex};
pub use decode::{decode, decode_bytes, Decoded, FPS_IDENTIFIER, PAYLOAD_CHARS_MAX};
pub use encode::encode;
pub use error::{AmountProblem, EncodeError, QrError, ValueProblem};
pub use model::{
    currency_numeric, parse_currency, AdditionalData, AlternateLanguage, Amount, EmailAddress,
    Field, FpsAccount, FpsId, FpsQr, Initiation, LanguageCode, MerchantCategoryCode, MerchantCity,
    MerchantName, MobileNumber, ParticipantCode, Proxy, ReferenceLabel, Text, AMOUNT_CHARS_MAX,
    EMAIL_CHARS_MAX,
};
pub use tlv::{FieldId, FieldPath, RawField, TlvFault};

#[cfg(test)]
mod tests;
