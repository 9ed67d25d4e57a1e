//! Consented data exchange: 授权数据交换闸 CDEG (government data to financial institutions),
//! 商业数据通 CDI (SMEs' commercial data to banks) and 户口互联 IADS (one bank's account data
//! to another) on one consent engine. Data moves only under an active consent its owner
//! approved; the gateway relays ciphertext it cannot read and keeps a tamper-evident record of
//! every consent event and every access.
//!
//! The modules, as they land:
//! - `admin` — the operator's API (`/api/v1/admin/exchange`): participants, keys, webhook
//!   endpoints, dead letters and their replay.
//! - `chain` — the tamper-evident audit chain (SHA-256 hash chain, signed checkpoints,
//!   verification, owners' usage logs).
//! - `client` — a data consumer's side: sign requests, make a data request with one-time key
//!   material, check and open the provider's answer.
//! - `consent` — consents: terms, the lifecycle table, the authorisation of a fetch, the
//!   signed artefact, the owner's receipt (Kantara / ISO/IEC 27560), storage on both dialects
//!   and the `Consents` service.
//! - `crypto` — data-blind encryption (X25519, HKDF-SHA256, AES-256-GCM; byte-exact in
//!   `docs/exchange-encryption.md`), detached JWS between participants, replay protection, and
//!   the gateway's signing keys.
//! - `directory` — the participants directory (the trust list): registration validated by
//!   field, listing, suspension, key rotation, `authorise`; `directory/store.rs` on both
//!   dialects; `directory/demo.rs`, the demo participants and the sandbox providers' keys.
//! - `gateway` — the consumers' and providers' signed API: consent requests, consents by
//!   consumer and provider, and the data-blind fetch (authentication, rate limits, the
//!   built-in simulated providers).
//! - `http` — the public reference API (`/api/v1/exchange`: directory, products and their
//!   schemas, the gateway's keys).
//! - `products` — the data products of CDEG, CDI and IADS with their JSON Schemas
//!   (`schemas/`).
//! - `registry` — CDEG's Companies Registry route: company particulars from the business
//!   directory (CorpID, through identity's seam) and the rule that a company's administrator
//!   owns a consent for them.
//! - `sandbox` — the developer sandbox: deterministic synthetic data for every product.
//! - `service` — [`Exchange`]: the services above started together, and their periodic work.
//! - `webhooks` — signed notifications to participants of their consents' changes and fetches,
//!   enqueued in the transaction of the change; the delivery worker; dead letters and replay.

pub mod admin;
pub mod chain;
pub mod client;
pub mod consent;
pub mod crypto;
pub mod directory;
pub mod gateway;
pub mod http;
pub mod products;
pub mod registry;
pub mod sandbox;
pub mod service;
pub mod webhooks;

pub use service::{Exchange, ExchangeError, Housekeeping};
