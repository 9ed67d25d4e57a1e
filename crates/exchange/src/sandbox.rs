//! The developer sandbox (the IADS developer platform's test data): a built-in simulated
//! provider for every data product. [`generate`] makes realistic synthetic data that is
//! deterministic — the same (product, owner, provider, date range, accounts) always give the
//! same document; different owners get different data — and that follows the product's JSON
//! Schema. Every dated item lies inside the range asked for.
//!
//! Randomness is ChaCha20 seeded with SHA-256 of the inputs. The movements of one day are
//! seeded by that day (and the account), not by the whole range, so two overlapping ranges
//! mostly agree on the days they share (running balances start from a range's own opening
//! balance, so they, and a debit the balance cannot cover, may differ). Where the owner holds accounts at a bank Bauhinia hosts, the caller passes
//! them ([`KnownAccount`], from the banks' own records) and they are used as they are; other
//! owners get made-up numbers in the same format, with serials from 900000000 (far above the
//! hosted banks' sequence) so they never look like a real customer's.
//!
//! Amounts are integer minor units, written as decimal strings; no float is used.

use bauhinia_core::{ErrorCode, Problem};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use time::{Date, Duration, Month};

use crate::products::ProductId;

/// The longest range one request may cover, in days (inclusive of both ends).
pub const RANGE_DAYS_MAX: i64 = 366;
/// The most accounts one IADS answer lists.
pub const ACCOUNTS_MAX: usize = 20;
pub const OWNER_LEN_MAX: usize = 128;

/// An account the owner really holds at the providing bank (from the hosted banks' records).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownAccount {
    /// `004-100000001`.
    pub number: String,
    /// `HKD`, `CNY` or `USD`; other currencies are left out.
    pub currency: String,
    /// The bank's account kind: `savings`, `current`, `wallet`, `ecny_wallet`, …
    pub kind: String,
}

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxRequest<'a> {
    pub product: ProductId,
    /// The data owner: a resident's or a company's id.
    pub owner: &'a str,
    /// The providing participant's id.
    pub provider: &'a str,
    /// The provider's FPS code, for made-up account numbers.
    pub bank_code: Option<&'a str>,
    pub from: Date,
    pub to: Date,
    pub accounts: &'a [KnownAccount],
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SandboxError {
    #[error("the range ends before it starts")]
    RangeInverted,
    #[error("the range is longer than {RANGE_DAYS_MAX} days")]
    RangeTooLong,
    #[error("the owner id must be 1 to {OWNER_LEN_MAX} characters")]
    Owner,
    #[error("the provider id is empty or too long")]
    Provider,
}

impl From<SandboxError> for Problem {
    fn from(error: SandboxError) -> Problem {
        Problem::new(ErrorCode::ExchangeSandboxInvalid).detail(error.to_string())
    }
}

/// A deterministic generator: ChaCha20 with a seed from SHA-256 of labelled parts.
struct Rng(ChaCha20Rng);

impl Rng {
    fn new(parts: &[&str]) -> Rng {
        let mut hash = Sha256::new();
        hash.update(b"bauhinia-exchange-sandbox/1");
        for part in parts {
            hash.update([0u8]);
            hash.update(part.as_bytes());
        }
        Rng(ChaCha20Rng::from_seed(hash.finalize().into()))
    }

    /// A number in `0..n` (0 when `n` is 0). The modulo bias is immaterial for test data.
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.0.next_u64() % n
        }
    }

    fn range(&mut self, low: i64, high: i64) -> i64 {
        let span = u64::try_from(high.saturating_sub(low)).unwrap_or(0);
        low.saturating_add(i64::try_from(self.below(span.saturating_add(1))).unwrap_or(0))
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        let i = usize::try_from(self.below(items.len() as u64)).unwrap_or(0);
        items.get(i).copied().unwrap_or_default()
    }

    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + (self.below(10) as u8)))
            .collect()
    }

    fn hex(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| {
                char::from(
                    b"0123456789ABCDEF"
                        .get(self.below(16) as usize)
                        .copied()
                        .unwrap_or(b'0'),
                )
            })
            .collect()
    }

    fn alnum(&mut self, n: usize) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        (0..n)
            .map(|_| {
                let i = self.below(ALPHABET.len() as u64) as usize;
                char::from(ALPHABET.get(i).copied().unwrap_or(b'A'))
            })
            .collect()
    }
}

fn day(date: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// Minor units as a decimal string with two places: `-1234.05`.
fn decimal(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

fn days(from: Date, to: Date) -> impl Iterator<Item = Date> {
    let count = (to - from).whole_days().max(-1) + 1;
    (0..count).filter_map(move |i| from.checked_add(Duration::days(i)))
}

const SURNAMES: &[&str] = &[
    "CHAN", "WONG", "LEE", "CHEUNG", "LAU", "HO", "NG", "LEUNG", "TANG", "YIP",
];
const SURNAMES_ZH: &[&str] = &["陳", "黃", "李", "張", "劉", "何", "吳", "梁", "鄧", "葉"];
const GIVEN: &[&str] = &[
    "Tai Man",
    "Siu Ming",
    "Ka Yan",
    "Wing Sze",
    "Chi Keung",
    "Mei Ling",
    "Ho Yin",
    "Wai Kit",
];
const GIVEN_ZH: &[&str] = &[
    "大文", "小明", "嘉欣", "詠詩", "志強", "美玲", "浩賢", "偉傑",
];
const TRADES: &[(&str, &str)] = &[
    ("Trading", "貿易"),
    ("Logistics", "物流"),
    ("Food Supplies", "食品供應"),
    ("Electronics", "電子"),
    ("Garment", "製衣"),
    ("Design", "設計"),
];
const PLACES: &[(&str, &str)] = &[
    ("Harbour", "海港"),
    ("Lion Rock", "獅子山"),
    ("Golden Bauhinia", "金紫荊"),
    ("Pearl River", "珠江"),
    ("Victoria", "維多利亞"),
];
const STREETS: &[&str] = &[
    "88 Queen's Road Central, Central",
    "18 Hennessy Road, Wan Chai",
    "100 Nathan Road, Tsim Sha Tsui",
    "1 Hoi Bun Road, Kwun Tong",
    "25 Castle Peak Road, Sham Shui Po",
];

fn person(rng: &mut Rng) -> (String, String) {
    let i = rng.below(SURNAMES.len() as u64) as usize;
    let j = rng.below(GIVEN.len() as u64) as usize;
    let en = format!(
        "{}, {}",
        SURNAMES.get(i).unwrap_or(&"CHAN"),
        GIVEN.get(j).unwrap_or(&"Tai Man")
    );
    let zh = format!(
        "{}{}",
        SURNAMES_ZH.get(i).unwrap_or(&"陳"),
        GIVEN_ZH.get(j).unwrap_or(&"大文")
    );
    (en, zh)
}

/// The owner's business, the same for every product and provider.
fn business(owner: &str) -> (String, String, &'static str, Vec<String>) {
    let mut rng = Rng::new(&["business", owner]);
    let (place, place_zh) = PLACES
        .get(rng.below(PLACES.len() as u64) as usize)
        .copied()
        .unwrap_or(("Harbour", "海港"));
    let (trade, trade_zh) = TRADES
        .get(rng.below(TRADES.len() as u64) as usize)
        .copied()
        .unwrap_or(("Trading", "貿易"));
    let en = format!("{place} {trade} Company Limited");
    let zh = format!("{place_zh}{trade_zh}有限公司");
    let office = vec![
        format!("Unit {}, {}/F", rng.range(1, 20), rng.range(2, 40)),
        rng.pick(STREETS).to_owned(),
        "Hong Kong".to_owned(),
    ];
    (en, zh, trade, office)
}

/// The fields every document starts with: product, owner, provider and dates. The
/// Companies Registry's documents (`registry`) start the same way.
pub(crate) fn header(req: &SandboxRequest<'_>) -> serde_json::Map<String, Value> {
    let mut map = serde_json::Map::new();
    map.insert("product".into(), json!(req.product.as_str()));
    map.insert("owner".into(), json!(req.owner));
    map.insert("provider".into(), json!(req.provider));
    map.insert("from".into(), json!(day(req.from)));
    map.insert("to".into(), json!(day(req.to)));
    map
}

fn check(req: &SandboxRequest<'_>) -> Result<(), SandboxError> {
    if req.owner.is_empty() || req.owner.chars().count() > OWNER_LEN_MAX {
        return Err(SandboxError::Owner);
    }
    if req.provider.is_empty() || req.provider.len() > 64 {
        return Err(SandboxError::Provider);
    }
    if req.to < req.from {
        return Err(SandboxError::RangeInverted);
    }
    if (req.to - req.from).whole_days() >= RANGE_DAYS_MAX {
        return Err(SandboxError::RangeTooLong);
    }
    Ok(())
}

/// The document the sandbox's provider returns for `req`.
pub fn generate(req: &SandboxRequest<'_>) -> Result<Value, SandboxError> {
    check(req)?;
    let mut doc = header(req);
    let body = match req.product {
        ProductId::CompanyParticulars => company_particulars(req),
        ProductId::BusinessRegistration => business_registration(req),
        ProductId::EcommerceSales => ecommerce_sales(req),
        ProductId::TradeDeclarations => trade_declarations(req),
        ProductId::MerchantReceipts => merchant_receipts(req),
        ProductId::CreditReference => credit_reference(req),
        ProductId::AccountAvailability => {
            accounts_doc(req, |a, _| json!({ "available": a.status != "closed" }))
        }
        ProductId::AccountStatus => accounts_doc(
            req,
            |a, _| json!({ "status": a.status, "opened": day(a.opened) }),
        ),
        ProductId::Balance => balance(req),
        ProductId::Transactions => transactions(req),
    };
    doc.extend(body);
    Ok(Value::Object(doc))
}

fn object(value: Value) -> serde_json::Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => serde_json::Map::new(),
    }
}

fn years_before(date: Date, rng: &mut Rng, max_years: i64) -> Date {
    date.checked_sub(Duration::days(rng.range(200, max_years * 365)))
        .unwrap_or(date)
}

fn company_particulars(req: &SandboxRequest<'_>) -> serde_json::Map<String, Value> {
    let (name_en, name_zh, _, office) = business(req.owner);
    let mut rng = Rng::new(&["company", req.owner]);
    let incorporated = years_before(req.to, &mut rng, 25);
    let directors: Vec<Value> = (0..rng.range(1, 4))
        .map(|_| {
            let (en, zh) = person(&mut rng);
            let span = (req.to - incorporated).whole_days().max(0);
            let appointed = incorporated.checked_add(Duration::days(rng.range(0, span))).unwrap_or(incorporated);
            json!({ "name_en": en, "name_zh": zh, "capacity": "natural_person", "appointed": day(appointed) })
        })
        .collect();
    let shares = rng.range(1, 1000) * 10_000;
    let (secretary, _) = person(&mut rng);
    object(json!({
        "company_number": rng.digits(7),
        "name_en": name_en,
        "name_zh": name_zh,
        "company_type": "private_limited_by_shares",
        "incorporation_date": day(incorporated),
        "status": "live",
        "registered_office": office,
        "share_capital": { "currency": "HKD", "issued": decimal(shares * 100), "shares": shares },
        "directors": directors,
        "company_secretary": secretary,
    }))
}

fn business_registration(req: &SandboxRequest<'_>) -> serde_json::Map<String, Value> {
    let (name_en, name_zh, trade, office) = business(req.owner);
    let mut rng = Rng::new(&["business-registration", req.owner]);
    let commenced = years_before(req.to, &mut rng, 25);
    let expiry = req
        .to
        .checked_add(Duration::days(rng.range(1, 365)))
        .unwrap_or(req.to);
    object(json!({
        "br_number": rng.digits(8),
        "business_name_en": name_en,
        "business_name_zh": name_zh,
        "nature_of_business": trade.to_ascii_uppercase(),
        "status_of_business": "corporation",
        "address": office,
        "commencement_date": day(commenced),
        "certificate_expiry_date": day(expiry),
        "branches": rng.range(0, 3),
    }))
}

fn ecommerce_sales(req: &SandboxRequest<'_>) -> serde_json::Map<String, Value> {
    let (name_en, _, _, _) = business(req.owner);
    let mut shop = Rng::new(&["shop", req.owner, req.provider]);
    let mut months = Vec::new();
    let (mut total_orders, mut total_net) = (0i64, 0i64);
    let mut start = req.from;
    while start <= req.to {
        let next_month = Date::from_calendar_date(
            if start.month() == Month::December {
                start.year() + 1
            } else {
                start.year()
            },
            start.month().next(),
            1,
        )
        .unwrap_or(req.to);
        let end = next_month.previous_day().unwrap_or(req.to).min(req.to);
        let month = format!("{:04}-{:02}", start.year(), u8::from(start.month()));
        let mut rng = Rng::new(&["ecommerce", req.owner, req.provider, &month]);
        let share = (end - start).whole_days() + 1;
        let orders = rng.range(0, 400) * share / 31;
        let gross = orders * rng.range(8_000, 120_000);
        let refunds = gross * rng.range(0, 8) / 100;
        total_orders += orders;
        total_net += gross - refunds;
        months.push(json!({
            "month": month,
            "from": day(start),
            "to": day(end),
            "orders": orders,
            "gross_sales": decimal(gross),
            "refunds": decimal(refunds),
            "net_sales": decimal(gross - refunds),
            "average_rating": format!("{}.{}", rng.range(3, 4), rng.range(0, 9)),
        }));
        if next_month <= start {
            break;
        }
        start = next_month;
    }
    object(json!({
        "platform_shop_id": format!("SHOP-{}", shop.hex(10)),
        "shop_name": name_en,
        "currency": "HKD",
        "months": months,
        "total_orders": total_orders,
        "total_net_sales": decimal(total_net),
    }))
}

const GOODS: &[(&str, &str)] = &[
    ("85176200", "Communication apparatus"),
    ("61091000", "Cotton T-shirts"),
    ("21069099", "Food preparations"),
    ("84713000", "Portable computers"),
    ("95030099", "Toys"),
];

fn trade_declarations(req: &SandboxRequest<'_>) -> serde_json::Map<String, Value> {
    let (name_en, _, _, _) = business(req.owner);
    let mut declarations = Vec::new();
    for date in days(req.from, req.to) {
        let mut rng = Rng::new(&["trade", req.owner, req.provider, &day(date)]);
        let count = if rng.chance(20) { rng.range(1, 2) } else { 0 };
        for _ in 0..count {
            let (hs, description) = GOODS
                .get(rng.below(GOODS.len() as u64) as usize)
                .copied()
                .unwrap_or(("95030099", "Toys"));
            declarations.push(json!({
                "declaration_number": format!("TD{}{}", day(date).replace('-', ""), rng.digits(4)),
                "date": day(date),
                "direction": rng.pick(&["import", "export", "re_export"]),
                "hs_code": hs,
                "description": description,
                "country": rng.pick(&["CN", "US", "JP", "DE", "SG", "VN", "GB"]),
                "quantity": rng.range(10, 5_000),
                "unit": rng.pick(&["PCS", "KG", "CTN"]),
                "value": decimal(rng.range(5_000, 2_000_000) * 100),
            }));
        }
    }
    object(json!({ "trader_name": name_en, "currency": "HKD", "declarations": declarations }))
}

fn fps_reference(rng: &mut Rng, date: Date) -> String {
    format!("FRN{}{}", day(date).replace('-', ""), rng.alnum(12))
}

fn merchant_receipts(req: &SandboxRequest<'_>) -> serde_json::Map<String, Value> {
    let (name_en, _, _, _) = business(req.owner);
    let mut receipts = Vec::new();
    let mut total = 0i64;
    for date in days(req.from, req.to) {
        let mut rng = Rng::new(&["receipts", req.owner, req.provider, &day(date)]);
        for _ in 0..rng.range(0, 6) {
            let channel = rng.pick(&["fps", "fps_qr", "card", "stored_value"]);
            let amount = rng.range(2_000, 500_000);
            total += amount;
            let fps = channel.starts_with("fps");
            receipts.push(json!({
                "receipt_id": format!("RC{}", rng.hex(16)),
                "received_at": format!("{}T{:02}:{:02}:{:02}+08:00", day(date), rng.range(8, 22), rng.range(0, 59), rng.range(0, 59)),
                "channel": channel,
                "amount": decimal(amount),
                "fps_reference": if fps { Value::from(fps_reference(&mut rng, date)) } else { Value::Null },
                "payer_bank": if fps { Value::from(rng.pick(&["003", "004", "009", "012", "015", "016", "024", "387"])) } else { Value::Null },
            }));
        }
    }
    object(
        json!({ "merchant_name": name_en, "currency": "HKD", "receipts": receipts, "total_received": decimal(total) }),
    )
}

fn credit_reference(req: &SandboxRequest<'_>) -> serde_json::Map<String, Value> {
    let mut rng = Rng::new(&["credit", req.owner, req.provider, &day(req.to)]);
    let score = rng.range(1000, 4000);
    let grades = ["J", "I", "H", "G", "F", "E", "D", "C", "B", "A"];
    let grade = grades
        .get(usize::try_from((score - 1000) * 10 / 3001).unwrap_or(0))
        .copied()
        .unwrap_or("E");
    let lenders = [
        "Hang Seng Bank",
        "Bank of China (Hong Kong)",
        "The Bank of East Asia",
        "ZA Bank",
        "Dah Sing Bank",
    ];
    let facilities: Vec<Value> = (0..rng.range(0, 4))
        .map(|_| {
            let limit = rng.range(50_000, 5_000_000) * 100;
            let outstanding = limit * rng.range(0, 100) / 100;
            json!({
                "lender": rng.pick(&lenders),
                "type": rng.pick(&["overdraft", "term_loan", "revolving", "trade_finance", "credit_card"]),
                "currency": "HKD",
                "limit": decimal(limit),
                "outstanding": decimal(outstanding),
                "status": if rng.chance(90) { "current" } else { "overdue_30" },
                "opened": day(years_before(req.to, &mut rng, 10)),
            })
        })
        .collect();
    object(json!({
        "report_id": format!("CR{}", rng.hex(12)),
        "as_of": day(req.to),
        "score": score,
        "grade": grade,
        "facilities": facilities,
        "defaults_last_5y": if rng.chance(5) { 1 } else { 0 },
        "enquiries_last_12m": rng.range(0, 6),
    }))
}

/// An account as the IADS products describe it.
#[derive(Debug, Clone)]
struct Account {
    number: String,
    account_type: &'static str,
    currency: String,
    status: &'static str,
    opened: Date,
}

fn account_type(kind: &str) -> &'static str {
    match kind {
        "current" => "current",
        "wallet" | "ecny_wallet" => "wallet",
        "time_deposit" => "time_deposit",
        _ => "savings",
    }
}

fn accounts(req: &SandboxRequest<'_>) -> Vec<Account> {
    let mut rng = Rng::new(&["accounts", req.owner, req.provider]);
    let opened = |rng: &mut Rng| years_before(req.to, rng, 15);
    if !req.accounts.is_empty() {
        return req
            .accounts
            .iter()
            .filter(|a| matches!(a.currency.as_str(), "HKD" | "CNY" | "USD"))
            .take(ACCOUNTS_MAX)
            .map(|a| Account {
                number: a.number.clone(),
                account_type: account_type(&a.kind),
                currency: a.currency.clone(),
                status: "active",
                opened: opened(&mut rng),
            })
            .collect();
    }
    let bank = match req.bank_code {
        Some(code) if code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit()) => {
            code.to_owned()
        }
        _ => format!("{:03}", Rng::new(&["bank", req.provider]).range(100, 999)),
    };
    (0..rng.range(1, 3))
        .map(|i| Account {
            number: format!("{bank}-9{}", rng.digits(8)),
            account_type: if i == 0 {
                "savings"
            } else {
                rng.pick(&["current", "savings", "time_deposit"])
            },
            currency: if i == 0 || rng.chance(70) {
                "HKD".into()
            } else {
                rng.pick(&["CNY", "USD"]).into()
            },
            status: if i == 0 || rng.chance(85) {
                "active"
            } else {
                "dormant"
            },
            opened: opened(&mut rng),
        })
        .collect()
}

fn accounts_doc(
    req: &SandboxRequest<'_>,
    extra: impl Fn(&Account, &mut Rng) -> Value,
) -> serde_json::Map<String, Value> {
    let list: Vec<Value> = accounts(req)
        .iter()
        .map(|a| {
            let mut rng = Rng::new(&["account", req.owner, &a.number, &day(req.to)]);
            let mut map = object(json!({
                "account_number": a.number,
                "account_type": a.account_type,
                "currency": a.currency,
            }));
            map.extend(object(extra(a, &mut rng)));
            Value::Object(map)
        })
        .collect();
    object(json!({ "accounts": list }))
}

fn balance(req: &SandboxRequest<'_>) -> serde_json::Map<String, Value> {
    let mut doc = accounts_doc(req, |_, rng| {
        let ledger = rng.range(0, 50_000_000);
        let held = if rng.chance(20) {
            rng.range(0, ledger / 10)
        } else {
            0
        };
        json!({ "ledger_balance": decimal(ledger), "available_balance": decimal(ledger - held) })
    });
    doc.insert("as_of".into(), json!(day(req.to)));
    doc
}

const COUNTERPARTIES: &[&str] = &[
    "PARKNSHOP",
    "WELLCOME",
    "MTR CORPORATION",
    "CLP POWER",
    "HK ELECTRIC",
    "TOWNGAS",
    "OCTOPUS CARDS",
    "HKBN",
    "7-ELEVEN",
    "MANNINGS",
];

/// One day's movements on one account: (credit?, amount, description, counterparty, channel, fps).
fn day_movements(
    req: &SandboxRequest<'_>,
    account: &Account,
    date: Date,
) -> Vec<(bool, i64, String, String, &'static str, bool)> {
    let mut rng = Rng::new(&["transactions", req.owner, &account.number, &day(date)]);
    let mut out = Vec::new();
    if date.day() == 25 && account.account_type == "savings" {
        out.push((
            true,
            rng.range(18_000, 60_000) * 100,
            "SALARY".into(),
            "EMPLOYER PAYROLL".into(),
            "salary",
            false,
        ));
    }
    for _ in 0..rng.range(0, 2) {
        let fps = rng.chance(50);
        let credit = rng.chance(25);
        let (en, _) = person(&mut rng);
        let counterparty = if fps {
            en
        } else {
            rng.pick(COUNTERPARTIES).to_owned()
        };
        let channel = if fps {
            "fps"
        } else {
            rng.pick(&["card", "atm", "transfer"])
        };
        let description = match (fps, credit) {
            (true, true) => "FPS PAYMENT RECEIVED".to_owned(),
            (true, false) => "FPS PAYMENT".to_owned(),
            _ => format!(
                "{} {}",
                channel.to_ascii_uppercase(),
                if credit { "CREDIT" } else { "DEBIT" }
            ),
        };
        out.push((
            credit,
            rng.range(50, 8_000) * 100 + rng.range(0, 99),
            description,
            counterparty,
            channel,
            fps,
        ));
    }
    out
}

fn transactions(req: &SandboxRequest<'_>) -> serde_json::Map<String, Value> {
    let list: Vec<Value> = accounts(req)
        .iter()
        .map(|account| {
            let mut rng = Rng::new(&["opening", req.owner, &account.number, &day(req.from)]);
            let opening = rng.range(500_000, 20_000_000);
            let mut balance = opening;
            let mut items = Vec::new();
            for date in days(req.from, req.to).filter(|d| *d >= account.opened) {
                for (n, (credit, amount, description, counterparty, channel, fps)) in day_movements(req, account, date).into_iter().enumerate() {
                    // A customer's account never goes below zero: a debit it cannot cover is
                    // not made.
                    if !credit && amount > balance {
                        continue;
                    }
                    balance += if credit { amount } else { -amount };
                    let mut id_rng = Rng::new(&["txid", &account.number, &day(date), &n.to_string()]);
                    items.push(json!({
                        "transaction_id": format!("TX{}", id_rng.hex(16)),
                        "booking_date": day(date),
                        "value_date": day(date),
                        "credit_debit": if credit { "credit" } else { "debit" },
                        "amount": decimal(amount),
                        "balance_after": decimal(balance),
                        "description": description,
                        "counterparty": counterparty,
                        "channel": channel,
                        "fps_reference": if fps { Value::from(fps_reference(&mut id_rng, date)) } else { Value::Null },
                    }));
                }
            }
            json!({
                "account_number": account.number,
                "account_type": account.account_type,
                "currency": account.currency,
                "opening_balance": decimal(opening),
                "closing_balance": decimal(balance),
                "transactions": items,
            })
        })
        .collect();
    object(json!({ "accounts": list }))
}
