//! Consented data exchange: 授权数据交换闸 CDEG (government data to financial institutions),
//! 商业数据通 CDI (SMEs' commercial data to banks) and 户口互联 IADS (one bank's account data
//! to another) on one consent engine. Data moves only under an active consent its owner
//! approved; the gateway relays ciphertext it cannot read and keeps a tamper-evident record of
//! every consent event and every access.
//!
//! The modules, as they land:
//! - [`chain`]: the tamper-evident audit chain (SHA-256 hash chain, signed checkpoints,
//!   verification, owners' usage logs).

pub mod chain;
