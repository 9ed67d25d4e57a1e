//! Demo banking for an embedded installation: every demo FPS participant's books are kept
//! here, and the identity module's demo residents are their customers — each with a funded
//! account, the mobile number registered as an FPS proxy at their main bank, and for one of
//! them a CNY account and an e-CNY wallet to top up through FPS.

use bauhinia_core::{Currency, Money};
use bauhinia_fps::proxy::domain::{MobileNumber, ProxyKey, ProxyKind};
use bauhinia_fps::switch::ParticipantCode;
use sha2::{Digest, Sha256};

use crate::domain::AccountKind;
use crate::service::{BankError, Banks};

/// The demo e-CNY wallet operator's participant code: CNY paid to it is a top-up.
pub const ECNY_OPERATOR: &str = "949";
/// The version of the proxy notice demo customers consented to.
pub const CONSENT_VERSION: &str = "demo-2026-11";

/// A demo resident, as the identity module registered them.
#[derive(Debug, Clone)]
pub struct DemoCustomer {
    pub resident_id: String,
    pub english_name: String,
    pub mobile: Option<String>,
}

/// (bank, currency, kind, opening deposit in major units, register the mobile here)
type Holding = (&'static str, Currency, AccountKind, i64, bool);

/// What the i-th demo resident holds.
const HOLDINGS: &[&[Holding]] = &[
    &[
        ("004", Currency::Hkd, AccountKind::Savings, 50_000, true),
        ("012", Currency::Cny, AccountKind::Savings, 20_000, false),
        (
            ECNY_OPERATOR,
            Currency::Cny,
            AccountKind::EcnyWallet,
            0,
            false,
        ),
    ],
    &[
        ("024", Currency::Hkd, AccountKind::Savings, 30_000, true),
        ("948", Currency::Hkd, AccountKind::Wallet, 2_000, false),
    ],
    &[("387", Currency::Hkd, AccountKind::Savings, 80_000, true)],
    &[("012", Currency::Hkd, AccountKind::Savings, 120_000, true)],
    &[("003", Currency::Hkd, AccountKind::Savings, 60_000, true)],
];

fn demo_id(text: &str) -> uuid::Uuid {
    let digest = Sha256::digest(format!("bauhinia-bank-demo/1\0{text}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(digest.get(..16).unwrap_or(&[0; 16]));
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

/// Hosts every registered participant's books and opens the demo customers' accounts.
/// Idempotent: an account that exists is not opened again, a deposit is made once.
pub async fn load(
    banks: &Banks,
    codes: &[ParticipantCode],
    customers: &[DemoCustomer],
) -> Result<usize, BankError> {
    for code in codes {
        banks.host(*code, "system:demo").await?;
    }
    let mut opened = 0;
    for (customer, holdings) in customers.iter().zip(HOLDINGS) {
        let owner = format!("resident:{}", customer.resident_id);
        for (bank, currency, kind, deposit, proxy) in holdings.iter() {
            let Some(code) = ParticipantCode::parse(bank) else {
                continue;
            };
            if !banks.is_hosted(code).await? {
                continue;
            }
            let existing = banks.accounts_of(&owner).await?;
            let number = match existing
                .iter()
                .find(|a| a.bank == code && a.currency == *currency && a.kind == *kind)
            {
                Some(a) => a.number.clone(),
                None => {
                    opened += 1;
                    banks
                        .open_account(
                            code,
                            &owner,
                            &customer.english_name,
                            *currency,
                            *kind,
                            "system:demo",
                        )
                        .await?
                }
            };
            if *deposit > 0 {
                let id = demo_id(&format!("deposit {number}"));
                banks
                    .deposit(
                        id,
                        &number,
                        Money::from_minor(deposit.saturating_mul(100), *currency),
                        "system:demo",
                    )
                    .await?;
            }
            let mobile = customer
                .mobile
                .as_deref()
                .and_then(|m| MobileNumber::parse(m).ok());
            if let (true, Some(mobile)) = (*proxy, mobile) {
                match banks
                    .register_proxy(
                        &owner,
                        &number,
                        ProxyKind::Mobile,
                        Some(ProxyKey::Mobile(mobile)),
                        CONSENT_VERSION,
                        true,
                    )
                    .await
                {
                    Ok(_) | Err(BankError::Proxy(bauhinia_fps::proxy::ProxyError::Exists)) => {}
                    Err(e) => return Err(e),
                }
            }
        }
    }
    Ok(opened)
}
