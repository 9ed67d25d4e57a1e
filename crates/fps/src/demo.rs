//! Demo participants for an embedded installation: eight banks (one of them a digital bank)
//! and two stored-value facilities, each funded from the RTGS side so that payments work at
//! once. Codes follow the published FPS participant list where the reference notes give them;
//! the stored-value facilities are labelled as demo operators.

use bauhinia_core::{Currency, Money};

use crate::ledger::model::Outcome;
use crate::switch::{
    Caller, Participant, ParticipantCode, ParticipantKind, Settlement, Switch, SwitchError,
};

/// (code, English, 繁體, 简体, kind)
const PARTICIPANTS: &[(&str, &str, &str, &str, ParticipantKind)] = &[
    (
        "003",
        "Standard Chartered Bank (Hong Kong)",
        "渣打銀行(香港)",
        "渣打银行(香港)",
        ParticipantKind::Bank,
    ),
    (
        "004",
        "The Hongkong and Shanghai Banking Corporation",
        "香港上海滙豐銀行",
        "香港上海汇丰银行",
        ParticipantKind::Bank,
    ),
    (
        "009",
        "China Construction Bank (Asia)",
        "中國建設銀行(亞洲)",
        "中国建设银行(亚洲)",
        ParticipantKind::Bank,
    ),
    (
        "012",
        "Bank of China (Hong Kong)",
        "中國銀行(香港)",
        "中国银行(香港)",
        ParticipantKind::Bank,
    ),
    (
        "015",
        "The Bank of East Asia",
        "東亞銀行",
        "东亚银行",
        ParticipantKind::Bank,
    ),
    (
        "016",
        "DBS Bank (Hong Kong)",
        "星展銀行(香港)",
        "星展银行(香港)",
        ParticipantKind::Bank,
    ),
    (
        "024",
        "Hang Seng Bank",
        "恒生銀行",
        "恒生银行",
        ParticipantKind::Bank,
    ),
    (
        "387",
        "ZA Bank",
        "眾安銀行",
        "众安银行",
        ParticipantKind::DigitalBank,
    ),
    (
        "948",
        "Demo Wallet (stored-value facility)",
        "示範電子錢包(儲值支付工具)",
        "示范电子钱包(储值支付工具)",
        ParticipantKind::Svf,
    ),
    (
        "949",
        "Demo e-CNY Wallet Operator (stored-value facility)",
        "示範數字人民幣錢包營運商(儲值支付工具)",
        "示范数字人民币钱包运营商(储值支付工具)",
        ParticipantKind::Svf,
    ),
];

/// Settlement funds each demo participant starts with, in minor units.
const FUNDING: [(Currency, i64); 2] = [
    (Currency::Hkd, 100_000_000_000),
    (Currency::Cny, 10_000_000_000),
];

pub fn participants() -> Vec<Participant> {
    PARTICIPANTS
        .iter()
        .filter_map(|(code, en, hant, hans, kind)| {
            Some(Participant {
                code: ParticipantCode::parse(code)?,
                name_en: (*en).to_owned(),
                name_zh_hant: (*hant).to_owned(),
                name_zh_hans: (*hans).to_owned(),
                kind: *kind,
                active: true,
            })
        })
        .collect()
}

/// Registers and funds the demo participants. Idempotent: funding transfers have fixed ids.
pub async fn load(switch: &Switch) -> Result<usize, SwitchError> {
    let mut transfers = Vec::new();
    for p in participants() {
        if switch.participant(p.code).is_none() {
            switch.register(p.clone(), "system:demo").await?;
        }
        for (k, (currency, amount)) in FUNDING.iter().enumerate() {
            // A fixed id per participant and currency: 0xDE30 ‖ code ‖ currency index.
            let id = (0xDE30u128 << 112) | (u128::from(p.code.number()) << 8) | (k as u128 + 1);
            transfers.push(Settlement::Fund.transfer(
                id,
                p.code,
                Money::from_minor(*amount, *currency),
                "demo funding",
            ));
        }
    }
    let outcomes = switch.submit(transfers, Caller::Operator).await?;
    Ok(outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::Created { .. }))
        .count())
}
