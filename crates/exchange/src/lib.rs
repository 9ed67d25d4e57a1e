//! Consented data exchange: 授权数据交换闸 CDEG (government data to financial institutions),
//! 商业数据通 CDI (SMEs' commercial data to banks) and 户口互联 IADS (one bank's account data
//! to another) on one consent engine. Data moves only under an active consent its owner
//! approved; the gateway relays ciphertext it cannot read and keeps a tamper-evident record of
//! every consent event and every access.
//!
//! The modules, as they land:
//! - `crypto` — data-blind encryption (X25519, HKDF-SHA256, AES-256-GCM; byte-exact in
//!   `docs/exchange-encryption.md`), detached JWS between participants, replay protection, and
//!   the gateway's signing keys.

pub mod crypto;
