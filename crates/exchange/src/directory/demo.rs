//! Demo participants for an embedded installation, sized like the fact sheet: the 28 banks of
//! the IADS pilot (the FPS demo's seven banks and ZA Bank under the same codes and names, the
//! other digital banks — 8 licences in all — and more licensed banks), 4 virtual insurers,
//! 11 virtual-asset trading platforms, 15 stored-value facilities (the FPS demo's two among
//! them), the Companies Registry and the Business Registration Office for CDEG, and CDI's
//! commercial data providers. Institutions are named as publicly registered; where a licence
//! count is filled out with made-up institutions their names say "Demo".
//!
//! Each gets a P-256 signing key made at load: the public half is published in the directory,
//! the private half kept sealed by the vault in `exchange_sandbox_keys`, so the sandbox's
//! built-in providers can sign what they return.

use bauhinia_core::crypto::Vault;
use bauhinia_core::Localized;
use bauhinia_identity::jose::{Alg, Jwk};
use openssl::ec::{EcGroup, EcKey};
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};

use super::store::DirectoryStore;
use super::{now_s, DirectoryError, Licence, NewParticipant, ParticipantId, Roles};
use crate::products::ProductId;

/// (id, English, 繁體, 简体, licence, FPS code)
type Demo = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Licence,
    Option<&'static str>,
);

use Licence::{
    Bank, CommercialDataProvider as Cdp, DigitalBank, GovernmentDepartment as Gov,
    StoredValueFacility as Svf, VirtualAssetPlatform as Vatp, VirtualInsurer as Vi,
};

/// The FPS demo's participants first, under their codes and names.
pub const PARTICIPANTS: &[Demo] = &[
    (
        "bank-003",
        "Standard Chartered Bank (Hong Kong)",
        "渣打銀行(香港)",
        "渣打银行(香港)",
        Bank,
        Some("003"),
    ),
    (
        "bank-004",
        "The Hongkong and Shanghai Banking Corporation",
        "香港上海滙豐銀行",
        "香港上海汇丰银行",
        Bank,
        Some("004"),
    ),
    (
        "bank-009",
        "China Construction Bank (Asia)",
        "中國建設銀行(亞洲)",
        "中国建设银行(亚洲)",
        Bank,
        Some("009"),
    ),
    (
        "bank-012",
        "Bank of China (Hong Kong)",
        "中國銀行(香港)",
        "中国银行(香港)",
        Bank,
        Some("012"),
    ),
    (
        "bank-015",
        "The Bank of East Asia",
        "東亞銀行",
        "东亚银行",
        Bank,
        Some("015"),
    ),
    (
        "bank-016",
        "DBS Bank (Hong Kong)",
        "星展銀行(香港)",
        "星展银行(香港)",
        Bank,
        Some("016"),
    ),
    (
        "bank-024",
        "Hang Seng Bank",
        "恒生銀行",
        "恒生银行",
        Bank,
        Some("024"),
    ),
    (
        "bank-387",
        "ZA Bank",
        "眾安銀行",
        "众安银行",
        DigitalBank,
        Some("387"),
    ),
    (
        "svf-948",
        "Demo Wallet (stored-value facility)",
        "示範電子錢包(儲值支付工具)",
        "示范电子钱包(储值支付工具)",
        Svf,
        Some("948"),
    ),
    (
        "svf-949",
        "Demo e-CNY Wallet Operator (stored-value facility)",
        "示範數字人民幣錢包營運商(儲值支付工具)",
        "示范数字人民币钱包运营商(储值支付工具)",
        Svf,
        Some("949"),
    ),
    // The other digital banks.
    (
        "bank-mox",
        "Mox Bank",
        "Mox Bank",
        "Mox Bank",
        DigitalBank,
        None,
    ),
    (
        "bank-welab",
        "WeLab Bank",
        "匯立銀行",
        "汇立银行",
        DigitalBank,
        None,
    ),
    (
        "bank-livi",
        "livi bank",
        "理慧銀行",
        "理慧银行",
        DigitalBank,
        None,
    ),
    (
        "bank-airstar",
        "Airstar Bank",
        "天星銀行",
        "天星银行",
        DigitalBank,
        None,
    ),
    (
        "bank-fusion",
        "Fusion Bank",
        "富融銀行",
        "富融银行",
        DigitalBank,
        None,
    ),
    (
        "bank-ant",
        "Ant Bank (Hong Kong)",
        "螞蟻銀行(香港)",
        "蚂蚁银行(香港)",
        DigitalBank,
        None,
    ),
    (
        "bank-pao",
        "PAO Bank",
        "平安壹賬通銀行(香港)",
        "平安壹账通银行(香港)",
        DigitalBank,
        None,
    ),
    // More licensed banks: 20 banks and 8 digital banks make the pilot's 28.
    (
        "bank-citi",
        "Citibank (Hong Kong)",
        "花旗銀行(香港)",
        "花旗银行(香港)",
        Bank,
        None,
    ),
    (
        "bank-dahsing",
        "Dah Sing Bank",
        "大新銀行",
        "大新银行",
        Bank,
        None,
    ),
    (
        "bank-chonghing",
        "Chong Hing Bank",
        "創興銀行",
        "创兴银行",
        Bank,
        None,
    ),
    (
        "bank-ocbc",
        "OCBC Bank (Hong Kong)",
        "華僑銀行(香港)",
        "华侨银行(香港)",
        Bank,
        None,
    ),
    (
        "bank-nanyang",
        "Nanyang Commercial Bank",
        "南洋商業銀行",
        "南洋商业银行",
        Bank,
        None,
    ),
    (
        "bank-chiyu",
        "Chiyu Banking Corporation",
        "集友銀行",
        "集友银行",
        Bank,
        None,
    ),
    (
        "bank-fubon",
        "Fubon Bank (Hong Kong)",
        "富邦銀行(香港)",
        "富邦银行(香港)",
        Bank,
        None,
    ),
    (
        "bank-public",
        "Public Bank (Hong Kong)",
        "大眾銀行(香港)",
        "大众银行(香港)",
        Bank,
        None,
    ),
    (
        "bank-shacom",
        "Shanghai Commercial Bank",
        "上海商業銀行",
        "上海商业银行",
        Bank,
        None,
    ),
    (
        "bank-citic",
        "China CITIC Bank International",
        "中信銀行(國際)",
        "中信银行(国际)",
        Bank,
        None,
    ),
    (
        "bank-icbc",
        "ICBC (Asia)",
        "中國工商銀行(亞洲)",
        "中国工商银行(亚洲)",
        Bank,
        None,
    ),
    (
        "bank-cmbwl",
        "CMB Wing Lung Bank",
        "招商永隆銀行",
        "招商永隆银行",
        Bank,
        None,
    ),
    (
        "bank-bocom",
        "Bank of Communications (Hong Kong)",
        "交通銀行(香港)",
        "交通银行(香港)",
        Bank,
        None,
    ),
    // Virtual insurers.
    (
        "vi-bowtie",
        "Bowtie Life Insurance",
        "保泰人壽",
        "保泰人寿",
        Vi,
        None,
    ),
    ("vi-avo", "Avo Insurance", "安我保險", "安我保险", Vi, None),
    ("vi-blue", "Blue Insurance", "藍保", "蓝保", Vi, None),
    (
        "vi-onedegree",
        "OneDegree Hong Kong",
        "OneDegree 香港",
        "OneDegree 香港",
        Vi,
        None,
    ),
    // Virtual-asset trading platforms (made up).
    (
        "vatp-01",
        "Demo Harbour Digital Asset Exchange",
        "示範海港數字資產交易所",
        "示范海港数字资产交易所",
        Vatp,
        None,
    ),
    (
        "vatp-02",
        "Demo Lion Rock Virtual Asset Platform",
        "示範獅子山虛擬資產平台",
        "示范狮子山虚拟资产平台",
        Vatp,
        None,
    ),
    (
        "vatp-03",
        "Demo Victoria Peak Exchange",
        "示範太平山交易所",
        "示范太平山交易所",
        Vatp,
        None,
    ),
    (
        "vatp-04",
        "Demo Kowloon Digital Exchange",
        "示範九龍數字交易所",
        "示范九龙数字交易所",
        Vatp,
        None,
    ),
    (
        "vatp-05",
        "Demo Tsim Sha Tsui Virtual Assets",
        "示範尖沙咀虛擬資產",
        "示范尖沙咀虚拟资产",
        Vatp,
        None,
    ),
    (
        "vatp-06",
        "Demo Lantau Exchange",
        "示範大嶼山交易所",
        "示范大屿山交易所",
        Vatp,
        None,
    ),
    (
        "vatp-07",
        "Demo Sai Kung Digital Assets",
        "示範西貢數字資產",
        "示范西贡数字资产",
        Vatp,
        None,
    ),
    (
        "vatp-08",
        "Demo Cheung Chau Exchange",
        "示範長洲交易所",
        "示范长洲交易所",
        Vatp,
        None,
    ),
    (
        "vatp-09",
        "Demo Tai Mo Shan Virtual Asset Platform",
        "示範大帽山虛擬資產平台",
        "示范大帽山虚拟资产平台",
        Vatp,
        None,
    ),
    (
        "vatp-10",
        "Demo Shek O Exchange",
        "示範石澳交易所",
        "示范石澳交易所",
        Vatp,
        None,
    ),
    (
        "vatp-11",
        "Demo Lamma Digital Exchange",
        "示範南丫數字交易所",
        "示范南丫数字交易所",
        Vatp,
        None,
    ),
    // Stored-value facilities: 15 licences with the FPS demo's two.
    (
        "svf-octopus",
        "Octopus Cards",
        "八達通卡",
        "八达通卡",
        Svf,
        None,
    ),
    (
        "svf-alipayhk",
        "Alipay Financial Services (HK)",
        "支付寶金融服務(香港)",
        "支付宝金融服务(香港)",
        Svf,
        None,
    ),
    (
        "svf-wechatpay",
        "WeChat Pay Hong Kong",
        "微信支付香港",
        "微信支付香港",
        Svf,
        None,
    ),
    (
        "svf-hktpay",
        "HKT Payment",
        "香港電訊支付",
        "香港电讯支付",
        Svf,
        None,
    ),
    (
        "svf-05",
        "Demo Star Ferry Wallet",
        "示範天星錢包",
        "示范天星钱包",
        Svf,
        None,
    ),
    (
        "svf-06",
        "Demo Tram Pay",
        "示範叮叮支付",
        "示范叮叮支付",
        Svf,
        None,
    ),
    (
        "svf-07",
        "Demo Dim Sum Wallet",
        "示範點心錢包",
        "示范点心钱包",
        Svf,
        None,
    ),
    (
        "svf-08",
        "Demo Bauhinia Pay",
        "示範紫荊支付",
        "示范紫荆支付",
        Svf,
        None,
    ),
    (
        "svf-09",
        "Demo Junk Boat Wallet",
        "示範帆船錢包",
        "示范帆船钱包",
        Svf,
        None,
    ),
    (
        "svf-10",
        "Demo Egg Tart Pay",
        "示範蛋撻支付",
        "示范蛋挞支付",
        Svf,
        None,
    ),
    (
        "svf-11",
        "Demo Milk Tea Wallet",
        "示範奶茶錢包",
        "示范奶茶钱包",
        Svf,
        None,
    ),
    (
        "svf-12",
        "Demo Neon Pay",
        "示範霓虹支付",
        "示范霓虹支付",
        Svf,
        None,
    ),
    (
        "svf-13",
        "Demo Peak Tram Wallet",
        "示範山頂纜車錢包",
        "示范山顶缆车钱包",
        Svf,
        None,
    ),
    // CDEG's government providers.
    (
        "companies-registry",
        "Companies Registry",
        "公司註冊處",
        "公司注册处",
        Gov,
        None,
    ),
    (
        "business-registration-office",
        "Business Registration Office, Inland Revenue Department",
        "稅務局商業登記署",
        "税务局商业登记署",
        Gov,
        None,
    ),
    // CDI's commercial data providers.
    (
        "cdi-ecommerce-01",
        "Demo Harbour Mall (e-commerce platform)",
        "示範海港網購平台",
        "示范海港网购平台",
        Cdp,
        None,
    ),
    (
        "cdi-ecommerce-02",
        "Demo Kowloon Bazaar (e-commerce platform)",
        "示範九龍市集網購平台",
        "示范九龙市集网购平台",
        Cdp,
        None,
    ),
    (
        "cdi-trade-01",
        "Demo Trade Declaration Services",
        "示範貿易報關服務",
        "示范贸易报关服务",
        Cdp,
        None,
    ),
    (
        "cdi-payments-01",
        "Demo Merchant Acquiring Services",
        "示範商戶收單服務",
        "示范商户收单服务",
        Cdp,
        None,
    ),
    (
        "cdi-credit-01",
        "Demo Commercial Credit Reference Agency",
        "示範商業信貸資料服務機構",
        "示范商业信贷资料服务机构",
        Cdp,
        None,
    ),
];

/// What a demo participant does and provides, from its licence (and, for CDI providers, its
/// trade).
fn roles_and_products(id: &str, licence: Licence) -> (Roles, Vec<ProductId>) {
    use ProductId::*;
    match licence {
        Bank | DigitalBank => (
            Roles::Both,
            vec![AccountAvailability, AccountStatus, Balance, Transactions],
        ),
        Svf => (Roles::Both, vec![MerchantReceipts]),
        Vi | Vatp => (Roles::Consumer, Vec::new()),
        Gov if id == "companies-registry" => (Roles::Provider, vec![CompanyParticulars]),
        Gov => (Roles::Provider, vec![BusinessRegistration]),
        Cdp => {
            let product = if id.contains("ecommerce") {
                EcommerceSales
            } else if id.contains("trade") {
                TradeDeclarations
            } else if id.contains("credit") {
                CreditReference
            } else {
                MerchantReceipts
            };
            (Roles::Provider, vec![product])
        }
    }
}

fn sealing_context(participant: &str, kid: &str) -> String {
    format!("exchange.sandbox_key/{participant}/{kid}")
}

fn new_key() -> Result<(PKey<Private>, Jwk), DirectoryError> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)
        .map_err(bauhinia_identity::jose::JoseError::from)?;
    let key = EcKey::generate(&group)
        .and_then(PKey::from_ec_key)
        .map_err(bauhinia_identity::jose::JoseError::from)?;
    let mut jwk = Jwk::from_key(&key, None, Some(Alg::ES256))?;
    // The RFC 7638 thumbprint names the key: unique without a registry of kids.
    let thumbprint = jwk.thumbprint()?;
    jwk.kid = Some(format!(
        "sandbox-{}",
        thumbprint.get(..16).unwrap_or(&thumbprint)
    ));
    Ok((key, jwk))
}

/// Registers every demo participant not yet registered, each with a fresh sandbox signing key.
/// Idempotent. Returns how many were registered.
pub async fn load(store: &DirectoryStore, vault: &Vault) -> Result<usize, DirectoryError> {
    let mut registered = 0;
    for (id, en, zh_hant, zh_hans, licence, fps_code) in PARTICIPANTS {
        if store.get(id).await?.is_some() {
            continue;
        }
        let pid = ParticipantId::parse(id).ok_or_else(|| DirectoryError::NotFound((*id).into()))?;
        let (roles, provides) = roles_and_products(id, *licence);
        let (key, jwk) = new_key()?;
        let kid = jwk.kid.clone().unwrap_or_default();
        let pem = key
            .private_key_to_pkcs8()
            .map_err(bauhinia_identity::jose::JoseError::from)?;
        let sealed = vault.seal(&sealing_context(id, &kid), &pem).map_err(|e| {
            DirectoryError::Key(bauhinia_identity::jose::JoseError::Crypto(e.to_string()))
        })?;
        let new = NewParticipant {
            id: pid,
            name: Localized {
                zh_hant: (*zh_hant).to_owned(),
                zh_hans: (*zh_hans).to_owned(),
                en: (*en).to_owned(),
            },
            roles,
            licence: *licence,
            fps_code: fps_code.map(str::to_owned),
            keys: vec![jwk],
            provides,
        };
        match store
            .insert(&new, Some((&kid, &sealed)), now_s(), "system:demo")
            .await
        {
            Ok(()) => registered += 1,
            // Another node loaded it first.
            Err(DirectoryError::Exists(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(registered)
}

/// The sandbox provider's newest signing key: (kid, private key), to sign what it returns.
pub async fn signing_key(
    store: &DirectoryStore,
    vault: &Vault,
    participant: &str,
) -> Result<(String, PKey<Private>), DirectoryError> {
    let keys = store.sandbox_keys(participant).await?;
    let (kid, sealed) = keys
        .into_iter()
        .next()
        .ok_or_else(|| DirectoryError::NotFound(participant.to_owned()))?;
    let der = vault
        .open(&sealing_context(participant, &kid), &sealed)
        .map_err(|e| {
            DirectoryError::Key(bauhinia_identity::jose::JoseError::Crypto(e.to_string()))
        })?;
    let key =
        PKey::private_key_from_pkcs8(&der).map_err(bauhinia_identity::jose::JoseError::from)?;
    Ok((kid, key))
}
