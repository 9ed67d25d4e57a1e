//! 轉數快 FPS for residents (`/pay`): the resident's accounts at the hosted banks, signed in
//! with the 智方便 session. Send money by mobile number, email, FPS ID or account number — or
//! by pasting a QR code's payload — after a review page that shows who will be paid (the
//! payee's bank and masked name); receive with a QR code; request money from someone by their
//! mobile number, email or FPS ID, and pay or decline the requests made to you; manage the
//! eDDA mandates on your accounts; register proxies; see the history.
//! Every page works without JavaScript; every form post is checked for the site's own origin.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bauhinia_bank::{
    AccountNumber, AccountView, BankError, MandateOrder, MandateView, Payee, PaymentOrder,
    PaymentView, RequestOrder, RequestView,
};
use bauhinia_core::{Currency, Lang, Money, Problem};
use bauhinia_fps::flows::domain::{MandateAction, MandateStatus, RequestStatus};
use bauhinia_fps::proxy::domain::{EmailAddress, MobileNumber, ProxyKey, ProxyKind};
use bauhinia_fps::switch::ParticipantCode;
use bauhinia_identity::session::token_from_headers;
use bauhinia_identity::Session;

use crate::page::{Page, Section};
use crate::prefs::Prefs;
use crate::respond::{no_store, see_other};
use crate::{render, PortalState};

/// Pairs read from a form body at most.
const FORM_PAIRS_MAX: usize = 24;
/// The notice version residents consent to when registering a proxy here.
const PROXY_NOTICE_VERSION: &str = "fps-notice-2026-11";

#[derive(Debug)]
pub struct PayTexts {
    pub title: &'static str,
    pub intro: &'static str,
    pub sign_in_first: &'static str,
    pub sign_in: &'static str,
    pub accounts: &'static str,
    pub no_accounts: &'static str,
    pub open_account: &'static str,
    pub open_button: &'static str,
    pub balance: &'static str,
    pub available: &'static str,
    pub send: &'static str,
    pub receive: &'static str,
    pub history: &'static str,
    pub no_history: &'static str,
    pub sent_to: &'static str,
    pub received_from: &'static str,
    pub proxies: &'static str,
    pub no_proxies: &'static str,
    pub register_proxy: &'static str,
    pub proxy_kind: &'static str,
    pub kind_mobile: &'static str,
    pub kind_email: &'static str,
    pub kind_fps_id: &'static str,
    pub kind_account: &'static str,
    pub proxy_consent: &'static str,
    pub register_button: &'static str,
    pub registered: &'static str,
    pub from_account: &'static str,
    pub payee_kind: &'static str,
    pub payee: &'static str,
    pub payee_hint: &'static str,
    pub amount: &'static str,
    pub reference: &'static str,
    pub qr_payload: &'static str,
    pub qr_hint: &'static str,
    pub review_button: &'static str,
    pub review_title: &'static str,
    pub payee_bank: &'static str,
    pub payee_name: &'static str,
    pub confirm_button: &'static str,
    pub change: &'static str,
    pub receipt_title: &'static str,
    pub state_settled: &'static str,
    pub state_failed: &'static str,
    pub state_initiated: &'static str,
    pub transfer_id: &'static str,
    pub back: &'static str,
    pub receive_intro: &'static str,
    pub receive_needs_proxy: &'static str,
    pub receive_button: &'static str,
    pub qr_alt: &'static str,
    pub errors_heading: &'static str,
    pub error_payee: &'static str,
    pub error_payee_not_found: &'static str,
    pub error_amount: &'static str,
    pub error_reference: &'static str,
    pub error_account: &'static str,
    pub error_qr: &'static str,
    pub error_consent: &'static str,
    pub error_proxy_exists: &'static str,
    pub error_again: &'static str,
    pub request: &'static str,
    pub request_intro: &'static str,
    pub to_account: &'static str,
    pub payer_kind: &'static str,
    pub payer: &'static str,
    pub payer_hint: &'static str,
    pub request_button: &'static str,
    pub requested: &'static str,
    pub requests_to_you: &'static str,
    pub no_requests_to_you: &'static str,
    pub requests_made: &'static str,
    pub no_requests_made: &'static str,
    pub requested_by: &'static str,
    pub requested_from: &'static str,
    pub pay_from: &'static str,
    pub pay_button: &'static str,
    pub decline_button: &'static str,
    pub declined: &'static str,
    pub status_pending: &'static str,
    pub status_settling: &'static str,
    pub status_paid: &'static str,
    pub status_declined: &'static str,
    pub status_cancelled: &'static str,
    pub status_expired: &'static str,
    pub error_payer: &'static str,
    pub error_payer_same_bank: &'static str,
    pub error_request_gone: &'static str,
    pub error_pay_from: &'static str,
    pub mandates: &'static str,
    pub mandates_intro: &'static str,
    pub no_mandates: &'static str,
    pub set_up_mandate: &'static str,
    pub debtor_account: &'static str,
    pub creditor_account: &'static str,
    pub creditor_hint: &'static str,
    pub per_debit_limit: &'static str,
    pub monthly_limit: &'static str,
    pub set_up_button: &'static str,
    pub mandate_created: &'static str,
    pub mandate_moved: &'static str,
    pub creditor: &'static str,
    pub action_confirm: &'static str,
    pub action_reject: &'static str,
    pub action_suspend: &'static str,
    pub action_resume: &'static str,
    pub action_cancel: &'static str,
    pub mandate_pending: &'static str,
    pub mandate_active: &'static str,
    pub mandate_suspended: &'static str,
    pub mandate_cancelled: &'static str,
    pub mandate_rejected: &'static str,
    pub error_creditor: &'static str,
    pub error_limits: &'static str,
    pub error_mandate_state: &'static str,
    pub reason_insufficient_funds: &'static str,
    pub reason_other: &'static str,
}

const ZH_HANT: PayTexts = PayTexts {
    title: "轉數快",
    intro: "以手機號碼、電郵、轉數快識別碼或二維碼即時轉帳，款項經轉數快在銀行之間即時結算。",
    sign_in_first: "請先以智方便登入，即可使用你在各銀行的戶口。",
    sign_in: "以智方便登入",
    accounts: "我的戶口",
    no_accounts: "你還沒有戶口。可在下面開立。",
    open_account: "開立戶口",
    open_button: "開立",
    balance: "結餘",
    available: "可用",
    send: "轉帳",
    receive: "收款二維碼",
    history: "交易紀錄",
    no_history: "暫無交易。",
    sent_to: "轉帳予",
    received_from: "收款自",
    proxies: "我的轉數快登記",
    no_proxies: "你還沒有登記手機號碼、電郵或轉數快識別碼。",
    register_proxy: "登記轉數快",
    proxy_kind: "登記類別",
    kind_mobile: "手機號碼",
    kind_email: "電郵地址",
    kind_fps_id: "轉數快識別碼",
    kind_account: "戶口號碼",
    proxy_consent: "我已閱讀轉數快登記通知，同意銀行為我登記，並讓付款人看到我的部分遮蓋姓名。",
    register_button: "登記",
    registered: "已登記：",
    from_account: "由戶口",
    payee_kind: "收款人以",
    payee: "收款人",
    payee_hint: "例如 9123 4567、name@example.hk、轉數快識別碼或戶口號碼",
    amount: "金額",
    reference: "備註（選填）",
    qr_payload: "或貼上二維碼內容",
    qr_hint: "以「000201」開始的一串文字",
    review_button: "下一步",
    review_title: "確認轉帳",
    payee_bank: "收款銀行",
    payee_name: "收款人姓名",
    confirm_button: "確認轉帳",
    change: "修改",
    receipt_title: "轉帳結果",
    state_settled: "已完成",
    state_failed: "未能完成",
    state_initiated: "處理中",
    transfer_id: "轉數快交易編號",
    back: "返回轉數快",
    receive_intro: "付款人以銀行應用程式掃描此二維碼即可轉帳給你。",
    receive_needs_proxy: "請先登記你的手機號碼或電郵，才可產生收款二維碼。",
    receive_button: "產生二維碼",
    qr_alt: "轉數快收款二維碼",
    errors_heading: "請修正以下項目：",
    error_payee: "收款人的手機號碼、電郵、轉數快識別碼或戶口號碼格式不正確。",
    error_payee_not_found: "沒有人以此登記轉數快，請核對後再試。",
    error_amount: "請輸入大於零、最多兩位小數的金額。",
    error_reference: "備註最多 140 字。",
    error_account: "請選擇你的戶口。",
    error_qr: "此二維碼不是有效的轉數快二維碼：",
    error_consent: "登記前須同意轉數快登記通知。",
    error_proxy_exists: "你已在此銀行登記了這個手機號碼或電郵。",
    error_again: "未能處理，請再試。",
    request: "要求付款",
    request_intro:
        "向朋友要求付款：對方會在其銀行的轉數快看到你的要求，確認後款項即時存入你的戶口。",
    to_account: "存入戶口",
    payer_kind: "付款人以",
    payer: "付款人",
    payer_hint: "例如 9123 4567、name@example.hk 或轉數快識別碼",
    request_button: "發出要求",
    requested: "已發出付款要求：",
    requests_to_you: "向你要求付款",
    no_requests_to_you: "暫無向你提出的付款要求。",
    requests_made: "你發出的付款要求",
    no_requests_made: "你還沒有發出付款要求。",
    requested_by: "要求人",
    requested_from: "要求對象",
    pay_from: "付款戶口",
    pay_button: "付款",
    decline_button: "拒絕",
    declined: "已拒絕付款要求。",
    status_pending: "待付款",
    status_settling: "付款中",
    status_paid: "已付款",
    status_declined: "已拒絕",
    status_cancelled: "已取消",
    status_expired: "已過期",
    error_payer: "付款人的手機號碼、電郵或轉數快識別碼格式不正確。",
    error_payer_same_bank: "付款人與此戶口在同一銀行；請以另一銀行的戶口提出要求。",
    error_request_gone: "此付款要求已不能處理（已付款、已拒絕、已取消或已過期）。",
    error_pay_from: "請選擇你在收到要求的銀行的戶口。",
    mandates: "直接付款授權",
    mandates_intro:
        "管理你戶口上的電子直接付款授權（eDDA）：商戶只可在你設定的每次及每月上限內收款。",
    no_mandates: "你的戶口暫無直接付款授權。",
    set_up_mandate: "設立直接付款授權",
    debtor_account: "扣款戶口",
    creditor_account: "商戶戶口號碼",
    creditor_hint: "例如 387-100000001（須在另一銀行）",
    per_debit_limit: "每次上限",
    monthly_limit: "每月上限",
    set_up_button: "設立授權",
    mandate_created: "已設立直接付款授權。",
    mandate_moved: "已更新直接付款授權。",
    creditor: "收款商戶",
    action_confirm: "確認",
    action_reject: "拒絕",
    action_suspend: "暫停",
    action_resume: "恢復",
    action_cancel: "取消",
    mandate_pending: "待確認",
    mandate_active: "生效中",
    mandate_suspended: "已暫停",
    mandate_cancelled: "已取消",
    mandate_rejected: "已拒絕",
    error_creditor: "商戶戶口號碼不正確，或與扣款戶口在同一銀行。",
    error_limits: "請輸入大於零、最多兩位小數的上限，每月上限不少於每次上限。",
    error_mandate_state: "此授權的狀態不容許這項操作。",
    reason_insufficient_funds: "戶口可用結餘不足。",
    reason_other: "轉數快未能處理此轉帳。原因代碼：",
};

const ZH_HANS: PayTexts = PayTexts {
    title: "转数快",
    intro: "以手机号码、电邮、转数快识别码或二维码即时转账，款项经转数快在银行之间即时结算。",
    sign_in_first: "请先以智方便登入，即可使用你在各银行的户口。",
    sign_in: "以智方便登入",
    accounts: "我的户口",
    no_accounts: "你还没有户口。可在下面开立。",
    open_account: "开立户口",
    open_button: "开立",
    balance: "结余",
    available: "可用",
    send: "转账",
    receive: "收款二维码",
    history: "交易记录",
    no_history: "暂无交易。",
    sent_to: "转账予",
    received_from: "收款自",
    proxies: "我的转数快登记",
    no_proxies: "你还没有登记手机号码、电邮或转数快识别码。",
    register_proxy: "登记转数快",
    proxy_kind: "登记类别",
    kind_mobile: "手机号码",
    kind_email: "电邮地址",
    kind_fps_id: "转数快识别码",
    kind_account: "户口号码",
    proxy_consent: "我已阅读转数快登记通知，同意银行为我登记，并让付款人看到我的部分遮盖姓名。",
    register_button: "登记",
    registered: "已登记：",
    from_account: "由户口",
    payee_kind: "收款人以",
    payee: "收款人",
    payee_hint: "例如 9123 4567、name@example.hk、转数快识别码或户口号码",
    amount: "金额",
    reference: "备注（选填）",
    qr_payload: "或贴上二维码内容",
    qr_hint: "以「000201」开始的一串文字",
    review_button: "下一步",
    review_title: "确认转账",
    payee_bank: "收款银行",
    payee_name: "收款人姓名",
    confirm_button: "确认转账",
    change: "修改",
    receipt_title: "转账结果",
    state_settled: "已完成",
    state_failed: "未能完成",
    state_initiated: "处理中",
    transfer_id: "转数快交易编号",
    back: "返回转数快",
    receive_intro: "付款人以银行应用程序扫描此二维码即可转账给你。",
    receive_needs_proxy: "请先登记你的手机号码或电邮，才可产生收款二维码。",
    receive_button: "产生二维码",
    qr_alt: "转数快收款二维码",
    errors_heading: "请修正以下项目：",
    error_payee: "收款人的手机号码、电邮、转数快识别码或户口号码格式不正确。",
    error_payee_not_found: "没有人以此登记转数快，请核对后再试。",
    error_amount: "请输入大于零、最多两位小数的金额。",
    error_reference: "备注最多 140 字。",
    error_account: "请选择你的户口。",
    error_qr: "此二维码不是有效的转数快二维码：",
    error_consent: "登记前须同意转数快登记通知。",
    error_proxy_exists: "你已在此银行登记了这个手机号码或电邮。",
    error_again: "未能处理，请再试。",
    request: "要求付款",
    request_intro:
        "向朋友要求付款：对方会在其银行的转数快看到你的要求，确认后款项即时存入你的账户。",
    to_account: "存入账户",
    payer_kind: "付款人以",
    payer: "付款人",
    payer_hint: "例如 9123 4567、name@example.hk 或转数快识别码",
    request_button: "发出要求",
    requested: "已发出付款要求：",
    requests_to_you: "向你要求付款",
    no_requests_to_you: "暂无向你提出的付款要求。",
    requests_made: "你发出的付款要求",
    no_requests_made: "你还没有发出付款要求。",
    requested_by: "要求人",
    requested_from: "要求对象",
    pay_from: "付款账户",
    pay_button: "付款",
    decline_button: "拒绝",
    declined: "已拒绝付款要求。",
    status_pending: "待付款",
    status_settling: "付款中",
    status_paid: "已付款",
    status_declined: "已拒绝",
    status_cancelled: "已取消",
    status_expired: "已过期",
    error_payer: "付款人的手机号码、电邮或转数快识别码格式不正确。",
    error_payer_same_bank: "付款人与此账户在同一银行；请以另一银行的账户提出要求。",
    error_request_gone: "此付款要求已不能处理（已付款、已拒绝、已取消或已过期）。",
    error_pay_from: "请选择你在收到要求的银行的账户。",
    mandates: "直接付款授权",
    mandates_intro:
        "管理你账户上的电子直接付款授权（eDDA）：商户只可在你设定的每次及每月上限内收款。",
    no_mandates: "你的账户暂无直接付款授权。",
    set_up_mandate: "设立直接付款授权",
    debtor_account: "扣款账户",
    creditor_account: "商户账户号码",
    creditor_hint: "例如 387-100000001（须在另一银行）",
    per_debit_limit: "每次上限",
    monthly_limit: "每月上限",
    set_up_button: "设立授权",
    mandate_created: "已设立直接付款授权。",
    mandate_moved: "已更新直接付款授权。",
    creditor: "收款商户",
    action_confirm: "确认",
    action_reject: "拒绝",
    action_suspend: "暂停",
    action_resume: "恢复",
    action_cancel: "取消",
    mandate_pending: "待确认",
    mandate_active: "生效中",
    mandate_suspended: "已暂停",
    mandate_cancelled: "已取消",
    mandate_rejected: "已拒绝",
    error_creditor: "商户账户号码不正确，或与扣款账户在同一银行。",
    error_limits: "请输入大于零、最多两位小数的上限，每月上限不少于每次上限。",
    error_mandate_state: "此授权的状态不容许这项操作。",
    reason_insufficient_funds: "户口可用结余不足。",
    reason_other: "转数快未能处理此转账。原因代码：",
};

const EN: PayTexts = PayTexts {
    title: "FPS",
    intro: "Pay instantly by mobile number, email, FPS ID or QR code; the money settles between the banks through FPS at once.",
    sign_in_first: "Sign in with iAM Smart to use your accounts at the banks.",
    sign_in: "Sign in with iAM Smart",
    accounts: "My accounts",
    no_accounts: "You have no account yet. Open one below.",
    open_account: "Open an account",
    open_button: "Open",
    balance: "Balance",
    available: "Available",
    send: "Send money",
    receive: "QR code to get paid",
    history: "History",
    no_history: "No payments yet.",
    sent_to: "Sent to",
    received_from: "Received from",
    proxies: "My FPS registrations",
    no_proxies: "You have not registered a mobile number, email or FPS ID.",
    register_proxy: "Register for FPS",
    proxy_kind: "Register my",
    kind_mobile: "Mobile number",
    kind_email: "Email address",
    kind_fps_id: "FPS ID",
    kind_account: "Account number",
    proxy_consent: "I have read the FPS registration notice, ask the bank to register me, and agree that payers see my partly masked name.",
    register_button: "Register",
    registered: "Registered:",
    from_account: "From account",
    payee_kind: "Pay by",
    payee: "Payee",
    payee_hint: "e.g. 9123 4567, name@example.hk, an FPS ID or an account number",
    amount: "Amount",
    reference: "Reference (optional)",
    qr_payload: "Or paste a QR code's content",
    qr_hint: "Text starting with 000201",
    review_button: "Next",
    review_title: "Check the payment",
    payee_bank: "Payee's bank",
    payee_name: "Payee's name",
    confirm_button: "Confirm and pay",
    change: "Change",
    receipt_title: "Payment",
    state_settled: "Completed",
    state_failed: "Not completed",
    state_initiated: "In progress",
    transfer_id: "FPS transaction id",
    back: "Back to FPS",
    receive_intro: "A payer scans this code with their bank's app to pay you.",
    receive_needs_proxy: "Register your mobile number or email first to get a QR code.",
    receive_button: "Make the QR code",
    qr_alt: "FPS QR code to pay me",
    errors_heading: "Please correct the following:",
    error_payee: "The payee's mobile number, email, FPS ID or account number is not in a valid form.",
    error_payee_not_found: "No one is registered for FPS with this; please check it.",
    error_amount: "Enter an amount above zero with at most two decimals.",
    error_reference: "The reference has at most 140 characters.",
    error_account: "Choose one of your accounts.",
    error_qr: "This is not a valid FPS QR code:",
    error_consent: "You must agree to the FPS registration notice to register.",
    error_proxy_exists: "You have already registered this at this bank.",
    error_again: "This could not be done; please try again.",
    request: "Request money",
    request_intro: "Ask someone to pay you: they see your request in FPS at their bank, and once they confirm, the money reaches your account at once.",
    to_account: "Into account",
    payer_kind: "Ask by",
    payer: "Payer",
    payer_hint: "e.g. 9123 4567, name@example.hk or an FPS ID",
    request_button: "Send the request",
    requested: "Request sent to",
    requests_to_you: "Requests to you",
    no_requests_to_you: "No one has asked you to pay.",
    requests_made: "Requests you made",
    no_requests_made: "You have not asked anyone to pay.",
    requested_by: "Requested by",
    requested_from: "Asked",
    pay_from: "Pay from",
    pay_button: "Pay",
    decline_button: "Decline",
    declined: "Request declined.",
    status_pending: "Waiting for payment",
    status_settling: "Being paid",
    status_paid: "Paid",
    status_declined: "Declined",
    status_cancelled: "Cancelled",
    status_expired: "Expired",
    error_payer: "The payer's mobile number, email or FPS ID is not in a valid form.",
    error_payer_same_bank: "The payer banks with the same bank as this account; ask from an account at another bank.",
    error_request_gone: "This request can no longer be acted on (paid, declined, cancelled or expired).",
    error_pay_from: "Choose one of your accounts at the bank the request was sent to.",
    mandates: "Direct debit authorisations",
    mandates_intro: "Manage the eDDA mandates on your accounts: a merchant collects only within the limits you set for each debit and each month.",
    no_mandates: "There are no direct debit authorisations on your accounts.",
    set_up_mandate: "Set up a direct debit authorisation",
    debtor_account: "Account to debit",
    creditor_account: "Merchant's account number",
    creditor_hint: "e.g. 387-100000001 (at another bank)",
    per_debit_limit: "Limit per debit",
    monthly_limit: "Limit per month",
    set_up_button: "Set up",
    mandate_created: "Direct debit authorisation set up.",
    mandate_moved: "Direct debit authorisation updated.",
    creditor: "Merchant",
    action_confirm: "Confirm",
    action_reject: "Reject",
    action_suspend: "Suspend",
    action_resume: "Resume",
    action_cancel: "Cancel",
    mandate_pending: "Waiting for your confirmation",
    mandate_active: "Active",
    mandate_suspended: "Suspended",
    mandate_cancelled: "Cancelled",
    mandate_rejected: "Rejected",
    error_creditor: "The merchant's account number is not valid, or is at the same bank as the account to debit.",
    error_limits: "Enter limits above zero with at most two decimals; the monthly limit must be at least the limit per debit.",
    error_mandate_state: "This authorisation's status does not allow that.",
    reason_insufficient_funds: "The account's available balance is too low.",
    reason_other: "FPS could not make this payment. Reason code:",
};

impl PayTexts {
    pub fn get(lang: Lang) -> &'static PayTexts {
        match lang {
            Lang::ZhHant => &ZH_HANT,
            Lang::ZhHans => &ZH_HANS,
            Lang::En => &EN,
        }
    }
}

#[derive(Debug)]
struct AccountRow {
    number: String,
    bank: String,
    currency: &'static str,
    balance: String,
    available: String,
}

#[derive(Debug)]
struct PaymentRow {
    id: String,
    outgoing: bool,
    counterparty: String,
    bank: String,
    amount: String,
    state: String,
    failed: bool,
    reference: String,
    at: String,
}

#[derive(Debug)]
struct ProxyRow {
    masked: String,
    kind: &'static str,
    account: String,
}

/// A request to pay, as a list shows it: to the resident (with the accounts that may pay it)
/// or made by them.
#[derive(Debug)]
struct RequestItem {
    id: String,
    who: String,
    bank: String,
    amount: String,
    reference: String,
    status: &'static str,
    status_code: &'static str,
    at: String,
    accounts: Vec<String>,
}

#[derive(Debug)]
struct BankChoice {
    code: String,
    name: String,
}

#[derive(Template)]
#[template(path = "pay.html")]
struct PayTemplate {
    page: Page,
    p: &'static PayTexts,
    signed_in: bool,
    notice: Option<String>,
    errors: Vec<String>,
    accounts: Vec<AccountRow>,
    payments: Vec<PaymentRow>,
    proxies: Vec<ProxyRow>,
    banks: Vec<BankChoice>,
    mobile: Option<String>,
    email: Option<String>,
    requests_in: Vec<RequestItem>,
    requests_out: Vec<RequestItem>,
}

/// What the request form holds.
#[derive(Debug, Default, Clone)]
struct RequestForm {
    id: String,
    to: String,
    kind: String,
    payer: String,
    amount: String,
    reference: String,
}

#[derive(Template)]
#[template(path = "pay_request.html")]
struct RequestTemplate {
    page: Page,
    p: &'static PayTexts,
    form: RequestForm,
    accounts: Vec<AccountRow>,
    errors: Vec<String>,
}

/// What the send form holds (also carried through the review page).
#[derive(Debug, Default, Clone)]
struct SendForm {
    id: String,
    from: String,
    kind: String,
    payee: String,
    amount: String,
    reference: String,
    payload: String,
}

#[derive(Debug)]
struct Review {
    bank: String,
    name: String,
    address: String,
    amount: String,
}

#[derive(Template)]
#[template(path = "pay_send.html")]
struct SendTemplate {
    page: Page,
    p: &'static PayTexts,
    form: SendForm,
    accounts: Vec<AccountRow>,
    errors: Vec<String>,
    review: Option<Review>,
}

#[derive(Template)]
#[template(path = "pay_receipt.html")]
struct ReceiptTemplate {
    page: Page,
    p: &'static PayTexts,
    payment: PaymentRow,
    reason: Option<String>,
    fps_transfer: String,
}

#[derive(Template)]
#[template(path = "pay_receive.html")]
struct ReceiveTemplate {
    page: Page,
    p: &'static PayTexts,
    accounts: Vec<AccountRow>,
    proxies: Vec<ProxyRow>,
    account: String,
    amount: String,
    reference: String,
    errors: Vec<String>,
    svg: Option<String>,
    payload: Option<String>,
}

async fn session(state: &PortalState, headers: &HeaderMap) -> Option<Session> {
    let token = token_from_headers(headers)?;
    state.passkeys.sessions().find(token).await.ok().flatten()
}

fn owner(session: &Session) -> String {
    format!("resident:{}", session.resident_id)
}

fn same_origin(state: &PortalState, headers: &HeaderMap) -> bool {
    state
        .passkeys
        .sessions()
        .accepts_origin(headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()))
}

/// The session of a form post: signed in (else back to `/pay`) and from this site's own pages
/// (else a problem).
async fn posting_session(state: &PortalState, headers: &HeaderMap) -> Result<Session, Response> {
    let Some(session) = session(state, headers).await else {
        return Err(see_other("/pay"));
    };
    if !same_origin(state, headers) {
        return Err(Problem::new(bauhinia_core::ErrorCode::IdentityCrossOrigin).into_response());
    }
    Ok(session)
}

/// A posted form over the resident's accounts: the session, the form's pairs and the
/// accounts — or the response to give instead.
async fn posted_form(
    state: &PortalState,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(Session, Vec<(String, String)>, Vec<AccountView>), Response> {
    let session = posting_session(state, headers).await?;
    let accounts = state
        .banks
        .accounts_of(&owner(&session))
        .await
        .map_err(internal)?;
    Ok((session, form(body), accounts))
}

fn form(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body)
        .take(FORM_PAIRS_MAX)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn value(pairs: &[(String, String)], name: &str) -> String {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

fn bank_name(state: &PortalState, code: &str, lang: Lang) -> String {
    ParticipantCode::parse(code)
        .and_then(|c| state.switch.participant(c))
        .map(|p| lang.pick(p.name_zh_hant, p.name_zh_hans, p.name_en))
        .unwrap_or_else(|| code.to_owned())
}

fn money_text(m: Money) -> String {
    format!("{} {}", m.currency.code(), m.to_decimal_string())
}

fn shown_time(at_s: i64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
    time::OffsetDateTime::from_unix_timestamp(at_s)
        .map(|t| t.to_offset(time::macros::offset!(+8)))
        .ok()
        .and_then(|t| t.format(format).ok())
        .unwrap_or_default()
}

fn kind_name(p: &'static PayTexts, kind: &str) -> &'static str {
    match kind {
        "mobile" => p.kind_mobile,
        "email" => p.kind_email,
        "fps_id" => p.kind_fps_id,
        _ => p.kind_account,
    }
}

fn account_rows(state: &PortalState, accounts: &[AccountView], lang: Lang) -> Vec<AccountRow> {
    accounts
        .iter()
        .map(|a| AccountRow {
            number: a.number.to_string(),
            bank: bank_name(state, &a.bank.as_str(), lang),
            currency: a.currency.code(),
            balance: money_text(a.balance),
            available: money_text(a.available),
        })
        .collect()
}

fn payment_row(
    state: &PortalState,
    p: &'static PayTexts,
    v: &PaymentView,
    lang: Lang,
) -> PaymentRow {
    let sign = if v.outgoing { "−" } else { "+" };
    PaymentRow {
        id: v.id.clone(),
        outgoing: v.outgoing,
        counterparty: format!("{} ({})", v.counterparty_name, v.counterparty_address),
        bank: bank_name(state, &v.counterparty_bank, lang),
        amount: format!("{sign}{}", money_text(v.amount)),
        state: match v.state {
            bauhinia_bank::PaymentState::Settled => p.state_settled,
            bauhinia_bank::PaymentState::Failed => p.state_failed,
            bauhinia_bank::PaymentState::Initiated => p.state_initiated,
        }
        .to_owned(),
        failed: v.state == bauhinia_bank::PaymentState::Failed,
        reference: v.reference.clone(),
        at: shown_time(v.at_s),
    }
}

fn status_text(p: &'static PayTexts, status: RequestStatus) -> &'static str {
    match status {
        RequestStatus::Pending => p.status_pending,
        RequestStatus::Settling => p.status_settling,
        RequestStatus::Paid => p.status_paid,
        RequestStatus::Declined => p.status_declined,
        RequestStatus::Cancelled => p.status_cancelled,
        RequestStatus::Expired => p.status_expired,
    }
}

/// A request as a list shows it: to the resident (`to_me`: who asks, at which bank) or made by
/// them (whom they asked).
fn request_item(
    state: &PortalState,
    p: &'static PayTexts,
    r: &RequestView,
    lang: Lang,
    to_me: bool,
) -> RequestItem {
    let (who, bank) = if to_me {
        (r.payee_name.clone(), &r.payee_bank)
    } else {
        (
            format!("{} ({})", r.payer_name, r.payer_address),
            &r.payer_bank,
        )
    };
    RequestItem {
        id: r.id.clone(),
        who,
        bank: bank_name(state, bank, lang),
        amount: money_text(r.amount),
        reference: r.reference.clone(),
        status: status_text(p, r.status),
        status_code: r.status.as_str(),
        at: shown_time(r.at_s),
        accounts: Vec::new(),
    }
}

fn internal(e: impl Into<Problem>) -> Response {
    e.into().into_response()
}

/// `GET /pay`: accounts, history and registrations — or the invitation to sign in.
pub async fn home(
    State(state): State<PortalState>,
    prefs: Prefs,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
) -> Response {
    let p = PayTexts::get(prefs.lang);
    let notice = form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()).find_map(|(k, v)| {
        match k.as_ref() {
            "registered" => Some(format!("{} {v}", p.registered)),
            "requested" => Some(format!("{} {v}", p.requested)),
            "declined" => Some(p.declined.to_owned()),
            _ => None,
        }
    });
    overview(&state, prefs, &headers, &uri, notice, Vec::new()).await
}

async fn overview(
    state: &PortalState,
    prefs: Prefs,
    headers: &HeaderMap,
    uri: &axum::http::Uri,
    notice: Option<String>,
    errors: Vec<String>,
) -> Response {
    let p = PayTexts::get(prefs.lang);
    let page = Page::new(prefs, p.title, Section::Pay, crate::path_and_query(uri));
    let mut template = PayTemplate {
        page,
        p,
        signed_in: false,
        notice,
        errors,
        accounts: Vec::new(),
        payments: Vec::new(),
        proxies: Vec::new(),
        banks: Vec::new(),
        mobile: None,
        email: None,
        requests_in: Vec::new(),
        requests_out: Vec::new(),
    };
    if let Some(session) = session(state, headers).await {
        let owner = owner(&session);
        let (accounts, history, proxies, hosted, resident) = match (
            state.banks.accounts_of(&owner).await,
            state.banks.history(&owner).await,
            state.banks.proxies_of(&owner).await,
            state.banks.hosted().await,
            state.identity.resident(&session.resident_id).await,
        ) {
            (Ok(a), Ok(h), Ok(x), Ok(b), Ok(r)) => (a, h, x, b, r),
            (Err(e), ..) | (_, Err(e), ..) | (_, _, Err(e), ..) | (_, _, _, Err(e), _) => {
                return internal(e)
            }
            (.., Err(e)) => return internal(e),
        };
        template.signed_in = true;
        template.accounts = account_rows(state, &accounts, prefs.lang);
        template.payments = history
            .iter()
            .map(|v| payment_row(state, p, v, prefs.lang))
            .collect();
        template.proxies = proxies
            .into_iter()
            .map(|x| ProxyRow {
                masked: x.masked,
                kind: kind_name(p, &x.kind),
                account: x.account,
            })
            .collect();
        template.banks = hosted
            .into_iter()
            .map(|(code, _)| BankChoice {
                name: bank_name(state, &code.as_str(), prefs.lang),
                code: code.as_str(),
            })
            .collect();
        template.mobile = resident.mobile;
        template.email = resident.email;
        let (to_me, mine) = match (
            state.banks.requests_for(&owner).await,
            state.banks.requests_made(&owner).await,
        ) {
            (Ok(i), Ok(o)) => (i, o),
            (Err(e), _) | (_, Err(e)) => return internal(e),
        };
        template.requests_in = to_me
            .iter()
            .map(|r| {
                let mut item = request_item(state, p, r, prefs.lang, true);
                item.accounts = accounts
                    .iter()
                    .filter(|a| a.bank.as_str() == r.payer_bank && a.currency == r.amount.currency)
                    .map(|a| a.number.to_string())
                    .collect();
                item
            })
            .collect();
        template.requests_out = mine
            .iter()
            .map(|r| request_item(state, p, r, prefs.lang, false))
            .collect();
    }
    no_store(render(&template, StatusCode::OK))
}

/// `POST /pay/accounts`: opens a savings account at a hosted bank in the resident's name (as
/// 智方便 holds it).
pub async fn open_account(
    State(state): State<PortalState>,
    prefs: Prefs,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    body: Bytes,
) -> Response {
    let session = match posting_session(&state, &headers).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let pairs = form(&body);
    let p = PayTexts::get(prefs.lang);
    let bank = ParticipantCode::parse(&value(&pairs, "bank"));
    let currency = Currency::parse(&value(&pairs, "currency"));
    let (Some(bank), Some(currency)) = (bank, currency) else {
        return overview(
            &state,
            prefs,
            &headers,
            &uri,
            None,
            vec![p.error_account.to_owned()],
        )
        .await;
    };
    let resident = match state.identity.resident(&session.resident_id).await {
        Ok(r) => r,
        Err(e) => return internal(e),
    };
    let kind = if bank.as_str() == bauhinia_bank::demo::ECNY_OPERATOR {
        bauhinia_bank::AccountKind::EcnyWallet
    } else {
        bauhinia_bank::AccountKind::Savings
    };
    match state
        .banks
        .open_account(
            bank,
            &owner(&session),
            &resident.english_name,
            currency,
            kind,
            &owner(&session),
        )
        .await
    {
        Ok(_) => see_other("/pay"),
        Err(BankError::NotHosted | BankError::Invalid(_)) => {
            overview(
                &state,
                prefs,
                &headers,
                &uri,
                None,
                vec![p.error_account.to_owned()],
            )
            .await
        }
        Err(e) => internal(e),
    }
}

/// `POST /pay/proxies`: registers the resident's mobile number or email (as 智方便 holds
/// them), or a new FPS ID, for one of their accounts.
pub async fn register_proxy(
    State(state): State<PortalState>,
    prefs: Prefs,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    body: Bytes,
) -> Response {
    let session = match posting_session(&state, &headers).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let p = PayTexts::get(prefs.lang);
    let pairs = form(&body);
    let fail = |why: &str| vec![why.to_owned()];
    if value(&pairs, "consent") != "yes" {
        return overview(&state, prefs, &headers, &uri, None, fail(p.error_consent)).await;
    }
    let Some(account) = AccountNumber::parse(&value(&pairs, "account")) else {
        return overview(&state, prefs, &headers, &uri, None, fail(p.error_account)).await;
    };
    let resident = match state.identity.resident(&session.resident_id).await {
        Ok(r) => r,
        Err(e) => return internal(e),
    };
    let (kind, key) = match value(&pairs, "kind").as_str() {
        "mobile" => match resident.mobile.as_deref().map(MobileNumber::parse) {
            Some(Ok(m)) => (ProxyKind::Mobile, Some(ProxyKey::Mobile(m))),
            _ => return overview(&state, prefs, &headers, &uri, None, fail(p.error_payee)).await,
        },
        "email" => match resident.email.as_deref().map(EmailAddress::parse) {
            Some(Ok(e)) => (ProxyKind::Email, Some(ProxyKey::Email(e))),
            _ => return overview(&state, prefs, &headers, &uri, None, fail(p.error_payee)).await,
        },
        _ => (ProxyKind::FpsId, None),
    };
    match state
        .banks
        .register_proxy(
            &owner(&session),
            &account,
            kind,
            key,
            PROXY_NOTICE_VERSION,
            true,
        )
        .await
    {
        Ok(registered) => {
            let masked: String =
                form_urlencoded::byte_serialize(registered.key.masked().as_bytes()).collect();
            see_other(&format!("/pay?registered={masked}"))
        }
        Err(BankError::Proxy(bauhinia_fps::proxy::ProxyError::Exists)) => {
            overview(
                &state,
                prefs,
                &headers,
                &uri,
                None,
                fail(p.error_proxy_exists),
            )
            .await
        }
        Err(BankError::AccountNotFound | BankError::Invalid(_) | BankError::Proxy(_)) => {
            overview(&state, prefs, &headers, &uri, None, fail(p.error_account)).await
        }
        Err(e) => internal(e),
    }
}

async fn send_page(
    state: &PortalState,
    prefs: Prefs,
    uri: &axum::http::Uri,
    session: &Session,
    form: SendForm,
    errors: Vec<String>,
    review: Option<Review>,
) -> Response {
    let p = PayTexts::get(prefs.lang);
    let faulty = !errors.is_empty();
    form_page(state, prefs, session, faulty, |accounts| SendTemplate {
        page: Page::new(prefs, p.send, Section::Pay, uri.path()),
        p,
        form,
        accounts,
        errors,
        review,
    })
    .await
}

/// A form over the resident's accounts, built by `build`; 422 when it names faults.
async fn form_page<T: Template>(
    state: &PortalState,
    prefs: Prefs,
    session: &Session,
    faulty: bool,
    build: impl FnOnce(Vec<AccountRow>) -> T,
) -> Response {
    let accounts = match state.banks.accounts_of(&owner(session)).await {
        Ok(a) => a,
        Err(e) => return internal(e),
    };
    let status = if faulty {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let template = build(account_rows(state, &accounts, prefs.lang));
    no_store(render(&template, status))
}

/// `GET /pay/send`: the form, with a fresh order id (so a form sent twice pays once).
pub async fn send_form(
    State(state): State<PortalState>,
    prefs: Prefs,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
) -> Response {
    let Some(session) = session(&state, &headers).await else {
        return see_other("/pay");
    };
    let form = SendForm {
        id: uuid::Uuid::new_v4().to_string(),
        kind: "mobile".to_owned(),
        ..SendForm::default()
    };
    send_page(&state, prefs, &uri, &session, form, Vec::new(), None).await
}

fn read_send_form(pairs: &[(String, String)]) -> SendForm {
    SendForm {
        id: value(pairs, "id"),
        from: value(pairs, "from"),
        kind: value(pairs, "kind"),
        payee: value(pairs, "payee"),
        amount: value(pairs, "amount"),
        reference: value(pairs, "reference"),
        payload: value(pairs, "payload"),
    }
}

/// Checks a send form into an order, naming every fault; a pasted QR payload fills in the
/// payee, and the amount and reference when the code fixes them.
fn order_from(
    p: &'static PayTexts,
    form: &mut SendForm,
    accounts: &[AccountView],
) -> Result<PaymentOrder, Vec<String>> {
    let mut errors = Vec::new();
    if !form.payload.trim().is_empty() {
        match bauhinia_fps::qr::decode(form.payload.trim()) {
            Ok(decoded) => {
                let proxy = &decoded.qr.account.proxy;
                form.kind = proxy.kind().to_owned();
                form.payee = proxy.as_str().to_owned();
                if let Some(m) = decoded.qr.money() {
                    form.amount = m.to_decimal_string();
                }
                if let Some(label) = decoded.qr.reference_label() {
                    form.reference = label.as_str().to_owned();
                }
            }
            Err(e) => errors.push(format!("{} {e}", p.error_qr)),
        }
        form.payload.clear();
    }
    let id = uuid::Uuid::try_parse(&form.id).unwrap_or_else(|_| uuid::Uuid::new_v4());
    form.id = id.to_string();
    let from =
        AccountNumber::parse(&form.from).and_then(|n| accounts.iter().find(|a| a.number == n));
    if from.is_none() {
        errors.push(p.error_account.to_owned());
    }
    let payee = Payee::parse(&form.kind, &form.payee);
    if payee.is_err() && errors.is_empty() {
        errors.push(p.error_payee.to_owned());
    }
    let amount = amount_and_reference(p, &mut errors, from, &form.amount, &form.reference);
    match (from, payee, amount, errors.is_empty()) {
        (Some(from), Ok(payee), Some(amount), true) => Ok(PaymentOrder {
            id,
            from: from.number.clone(),
            payee,
            amount,
            reference: form.reference.trim().to_owned(),
        }),
        _ => Err(errors),
    }
}

/// The amount typed, in `account`'s currency, and the reference checked; each fault named in
/// `errors` (no amount fault without an account to read it for).
fn amount_and_reference(
    p: &'static PayTexts,
    errors: &mut Vec<String>,
    account: Option<&AccountView>,
    amount: &str,
    reference: &str,
) -> Option<Money> {
    let money = account
        .and_then(|a| Money::parse_decimal(amount.trim(), a.currency).ok())
        .filter(|m| m.minor > 0);
    if money.is_none() && account.is_some() {
        errors.push(p.error_amount.to_owned());
    }
    if bauhinia_bank::domain::reference(reference).is_err() {
        errors.push(p.error_reference.to_owned());
    }
    money
}

fn bank_error_text(p: &'static PayTexts, e: &BankError) -> Option<&'static str> {
    match e {
        BankError::PayeeNotFound => Some(p.error_payee_not_found),
        BankError::AccountNotFound => Some(p.error_account),
        BankError::Invalid(_) => Some(p.error_amount),
        BankError::IdConflict => Some(p.error_again),
        BankError::Proxy(_) => Some(p.error_payee),
        _ => None,
    }
}

/// A posted send form, checked: the signed-in resident, what they typed, and the order it
/// makes — or the response to give instead (the form again with its faults, a redirect, a
/// problem).
struct Posted {
    session: Session,
    form: SendForm,
    order: PaymentOrder,
}

async fn posted_order(
    state: &PortalState,
    prefs: Prefs,
    headers: &HeaderMap,
    uri: &axum::http::Uri,
    body: &[u8],
) -> Result<Posted, Response> {
    let session = posting_session(state, headers).await?;
    let p = PayTexts::get(prefs.lang);
    let mut form = read_send_form(&self::form(body));
    let accounts = state
        .banks
        .accounts_of(&owner(&session))
        .await
        .map_err(internal)?;
    match order_from(p, &mut form, &accounts) {
        Ok(order) => Ok(Posted {
            session,
            form,
            order,
        }),
        Err(errors) => Err(send_page(state, prefs, uri, &session, form, errors, None).await),
    }
}

/// The send form again with the bank's refusal in words, or a problem for a failure.
async fn refused(
    state: &PortalState,
    prefs: Prefs,
    uri: &axum::http::Uri,
    posted: Posted,
    error: BankError,
) -> Response {
    match bank_error_text(PayTexts::get(prefs.lang), &error) {
        Some(text) => {
            let errors = vec![text.to_owned()];
            send_page(
                state,
                prefs,
                uri,
                &posted.session,
                posted.form,
                errors,
                None,
            )
            .await
        }
        None => internal(error),
    }
}

/// `POST /pay/send/review`: who would be paid, before paying.
pub async fn review(
    State(state): State<PortalState>,
    prefs: Prefs,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    body: Bytes,
) -> Response {
    let posted = match posted_order(&state, prefs, &headers, &uri, &body).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let owner = owner(&posted.session);
    let (from, payee) = (&posted.order.from, &posted.order.payee);
    match state.banks.preview(&owner, from, payee).await {
        Ok(preview) => {
            let review = Review {
                bank: bank_name(&state, &preview.bank.as_str(), prefs.lang),
                name: preview.masked_name,
                address: preview.masked_address,
                amount: money_text(posted.order.amount),
            };
            let Posted { session, form, .. } = posted;
            send_page(
                &state,
                prefs,
                &uri,
                &session,
                form,
                Vec::new(),
                Some(review),
            )
            .await
        }
        Err(e) => refused(&state, prefs, &uri, posted, e).await,
    }
}

/// `POST /pay/send`: pays, then shows the receipt.
pub async fn send(
    State(state): State<PortalState>,
    prefs: Prefs,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    body: Bytes,
) -> Response {
    let posted = match posted_order(&state, prefs, &headers, &uri, &body).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let owner = owner(&posted.session);
    match state.banks.pay(&owner, posted.order.clone(), &owner).await {
        Ok(payment) => see_other(&format!("/pay/payments/{}", payment.id)),
        Err(e) => refused(&state, prefs, &uri, posted, e).await,
    }
}

/// `GET /pay/payments/{id}`: one of the resident's payments.
pub async fn receipt(
    State(state): State<PortalState>,
    prefs: Prefs,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    Path(id): Path<String>,
) -> Response {
    let Some(session) = session(&state, &headers).await else {
        return see_other("/pay");
    };
    let p = PayTexts::get(prefs.lang);
    let payment = match state.banks.payment(&owner(&session), &id).await {
        Ok(Some(payment)) => payment,
        Ok(None) => {
            return crate::respond::message(
                Page::new(prefs, p.receipt_title, Section::Pay, uri.path()),
                StatusCode::NOT_FOUND,
                p.receipt_title,
                p.error_again,
            )
        }
        Err(e) => return internal(e),
    };
    let reason = payment.reason.as_deref().map(|r| match r {
        "insufficient_funds" => p.reason_insufficient_funds.to_owned(),
        other => format!("{} {other}", p.reason_other),
    });
    let template = ReceiptTemplate {
        page: Page::new(prefs, p.receipt_title, Section::Pay, uri.path()),
        p,
        fps_transfer: payment.fps_transfer.clone(),
        payment: payment_row(&state, p, &payment, prefs.lang),
        reason,
    };
    no_store(render(&template, StatusCode::OK))
}

/// `GET /pay/receive`: a QR code that pays the resident's registered mobile number or email,
/// with an amount and reference if given.
pub async fn receive(
    State(state): State<PortalState>,
    prefs: Prefs,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
) -> Response {
    let Some(session) = session(&state, &headers).await else {
        return see_other("/pay");
    };
    let p = PayTexts::get(prefs.lang);
    let owner = owner(&session);
    let (accounts, proxies, resident) = match (
        state.banks.accounts_of(&owner).await,
        state.banks.proxies_of(&owner).await,
        state.identity.resident(&session.resident_id).await,
    ) {
        (Ok(a), Ok(x), Ok(r)) => (a, x, r),
        (Err(e), ..) | (_, Err(e), _) => return internal(e),
        (.., Err(e)) => return internal(e),
    };
    let query: Vec<(String, String)> = form(uri.query().unwrap_or("").as_bytes());
    let amount = value(&query, "amount");
    let reference = value(&query, "reference");
    let account = AccountNumber::parse(&value(&query, "account"));
    let mut errors = Vec::new();
    let mut svg = None;
    let mut payload = None;
    if let Some(account) = account.and_then(|n| accounts.iter().find(|a| a.number == n)) {
        match receive_payload(
            &state,
            &account.number,
            account.currency,
            &resident,
            &amount,
            &reference,
        )
        .await
        {
            Ok(Some(text)) => {
                svg = bauhinia_fps::qr::render::svg(&text).ok();
                payload = Some(text);
            }
            Ok(None) => errors.push(p.receive_needs_proxy.to_owned()),
            Err(why) => errors.push(why(p).to_owned()),
        }
    }
    let template = ReceiveTemplate {
        page: Page::new(prefs, p.receive, Section::Pay, crate::path_and_query(&uri)),
        p,
        accounts: account_rows(&state, &accounts, prefs.lang),
        proxies: proxies
            .into_iter()
            .map(|x| ProxyRow {
                masked: x.masked,
                kind: kind_name(p, &x.kind),
                account: x.account,
            })
            .collect(),
        account: value(&query, "account"),
        amount,
        reference,
        errors,
        svg,
        payload,
    };
    no_store(render(&template, StatusCode::OK))
}

type TextPick = fn(&'static PayTexts) -> &'static str;

/// The payload of a QR code paying `account` through the resident's mobile number or email,
/// if one of them is registered for that account; `None` if neither is.
async fn receive_payload(
    state: &PortalState,
    account: &AccountNumber,
    currency: Currency,
    resident: &bauhinia_identity::Resident,
    amount: &str,
    reference: &str,
) -> Result<Option<String>, TextPick> {
    use bauhinia_fps::qr::{self as qr, FpsQr};
    let mobile = resident
        .mobile
        .as_deref()
        .and_then(|m| MobileNumber::parse(m).ok())
        .map(ProxyKey::Mobile);
    let email = resident
        .email
        .as_deref()
        .and_then(|e| EmailAddress::parse(e).ok())
        .map(ProxyKey::Email);
    let mut found = None;
    for key in [mobile, email].into_iter().flatten() {
        if state.banks.has_proxy(account, &key).await.unwrap_or(false) {
            found = Some(key);
            break;
        }
    }
    let Some(key) = found else {
        return Ok(None);
    };
    let proxy = match &key {
        ProxyKey::Mobile(_) => {
            qr::MobileNumber::parse_loose(&key.canonical()).map(qr::Proxy::Mobile)
        }
        _ => qr::EmailAddress::parse(&key.canonical()).map(qr::Proxy::Email),
    }
    .map_err(|_| (|p: &'static PayTexts| p.error_payee) as TextPick)?;
    let mut code = FpsQr::new(proxy);
    code.currency = currency;
    code.account.participant = qr::ParticipantCode::parse(&account.bank().as_str()).ok();
    if !amount.trim().is_empty() {
        let money = Money::parse_decimal(amount.trim(), currency)
            .ok()
            .filter(|m| m.minor > 0)
            .ok_or((|p: &'static PayTexts| p.error_amount) as TextPick)?;
        code.amount = Some(
            qr::Amount::from_minor(money.minor)
                .map_err(|_| (|p: &'static PayTexts| p.error_amount) as TextPick)?,
        );
        code.initiation = Some(qr::Initiation::Dynamic);
    }
    if !reference.trim().is_empty() {
        let label = qr::ReferenceLabel::parse_common(reference.trim())
            .map_err(|_| (|p: &'static PayTexts| p.error_reference) as TextPick)?;
        code.set_reference_label(Some(label));
    }
    qr::encode(&code)
        .map(Some)
        .map_err(|_| (|p: &'static PayTexts| p.error_again) as TextPick)
}

async fn request_page(
    state: &PortalState,
    prefs: Prefs,
    uri: &axum::http::Uri,
    session: &Session,
    form: RequestForm,
    errors: Vec<String>,
) -> Response {
    let p = PayTexts::get(prefs.lang);
    let faulty = !errors.is_empty();
    form_page(state, prefs, session, faulty, |accounts| RequestTemplate {
        page: Page::new(prefs, p.request, Section::Pay, uri.path()),
        p,
        form,
        accounts,
        errors,
    })
    .await
}

/// `GET /pay/request`: the request form, with a fresh id (so a form sent twice asks once).
pub async fn request_form(
    State(state): State<PortalState>,
    prefs: Prefs,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
) -> Response {
    let Some(session) = session(&state, &headers).await else {
        return see_other("/pay");
    };
    let form = RequestForm {
        id: uuid::Uuid::new_v4().to_string(),
        kind: "mobile".to_owned(),
        ..RequestForm::default()
    };
    request_page(&state, prefs, &uri, &session, form, Vec::new()).await
}

/// Checks a request form into a request, naming every fault.
fn request_from(
    p: &'static PayTexts,
    form: &mut RequestForm,
    accounts: &[AccountView],
) -> Result<RequestOrder, Vec<String>> {
    let mut errors = Vec::new();
    let id = uuid::Uuid::try_parse(&form.id).unwrap_or_else(|_| uuid::Uuid::new_v4());
    form.id = id.to_string();
    let to = AccountNumber::parse(&form.to).and_then(|n| accounts.iter().find(|a| a.number == n));
    if to.is_none() {
        errors.push(p.error_account.to_owned());
    }
    let payer = Payee::parse(&form.kind, &form.payer)
        .ok()
        .filter(|x| x.kind() != "account");
    if payer.is_none() {
        errors.push(p.error_payer.to_owned());
    }
    let amount = amount_and_reference(p, &mut errors, to, &form.amount, &form.reference);
    match (to, payer, amount, errors.is_empty()) {
        (Some(to), Some(payer), Some(amount), true) => Ok(RequestOrder {
            id,
            to: to.number.clone(),
            payer,
            amount,
            reference: form.reference.trim().to_owned(),
        }),
        _ => Err(errors),
    }
}

/// `POST /pay/request`: asks the payer, then back to `/pay`, which lists the request.
pub async fn request(
    State(state): State<PortalState>,
    prefs: Prefs,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    body: Bytes,
) -> Response {
    let (session, pairs, accounts) = match posted_form(&state, &headers, &body).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let p = PayTexts::get(prefs.lang);
    let mut form = RequestForm {
        id: value(&pairs, "id"),
        to: value(&pairs, "to"),
        kind: value(&pairs, "kind"),
        payer: value(&pairs, "payer"),
        amount: value(&pairs, "amount"),
        reference: value(&pairs, "reference"),
    };
    let owner = owner(&session);
    let order = match request_from(p, &mut form, &accounts) {
        Ok(order) => order,
        Err(errors) => return request_page(&state, prefs, &uri, &session, form, errors).await,
    };
    let why = match state.banks.request_money(&owner, order, &owner).await {
        Ok(made) => {
            let to: String =
                form_urlencoded::byte_serialize(made.payer_address.as_bytes()).collect();
            return see_other(&format!("/pay?requested={to}"));
        }
        Err(BankError::Invalid(fields)) if fields.iter().any(|(f, _)| f == "payer") => {
            p.error_payer_same_bank
        }
        Err(e) => match bank_error_text(p, &e) {
            Some(text) => text,
            None => return internal(e),
        },
    };
    request_page(&state, prefs, &uri, &session, form, vec![why.to_owned()]).await
}

/// `POST /pay/requests/{id}/pay`: pays a request made to the resident from the account chosen,
/// then shows the receipt.
pub async fn pay_request(
    State(state): State<PortalState>,
    prefs: Prefs,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let session = match posting_session(&state, &headers).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let owner = owner(&session);
    let answer = match AccountNumber::parse(&value(&form(&body), "from")) {
        Some(from) => state.banks.pay_request(&owner, &id, &from, &owner).await,
        None => Err(BankError::AccountNotFound),
    };
    let next = answer.map(|payment| format!("/pay/payments/{}", payment.id));
    after_request(&state, prefs, &headers, &uri, next).await
}

/// `POST /pay/requests/{id}/decline`: declines a request made to the resident.
pub async fn decline_request(
    State(state): State<PortalState>,
    prefs: Prefs,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    Path(id): Path<String>,
) -> Response {
    let session = match posting_session(&state, &headers).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let owner = owner(&session);
    let answer = state.banks.decline_request(&owner, &id, &owner).await;
    let next = answer.map(|_| "/pay?declined=1".to_owned());
    after_request(&state, prefs, &headers, &uri, next).await
}

/// After paying or declining a request: on to `next`, or `/pay` naming what was wrong.
async fn after_request(
    state: &PortalState,
    prefs: Prefs,
    headers: &HeaderMap,
    uri: &axum::http::Uri,
    next: Result<String, BankError>,
) -> Response {
    let why = match next {
        Ok(next) => return see_other(&next),
        Err(e) => match request_error_text(PayTexts::get(prefs.lang), &e) {
            Some(text) => text,
            None => return internal(e),
        },
    };
    overview(state, prefs, headers, uri, None, vec![why.to_owned()]).await
}

fn request_error_text(p: &'static PayTexts, e: &BankError) -> Option<&'static str> {
    match e {
        BankError::RequestNotFound | BankError::RequestState(_) => Some(p.error_request_gone),
        BankError::AccountNotFound | BankError::Invalid(_) => Some(p.error_pay_from),
        _ => None,
    }
}

/// A mandate as the list shows it, with the moves its status allows.
#[derive(Debug)]
struct MandateItem {
    id: String,
    creditor: String,
    bank: String,
    account: String,
    per_debit: String,
    monthly: String,
    status: &'static str,
    status_code: &'static str,
    actions: Vec<(&'static str, &'static str)>,
}

/// What the mandate form holds.
#[derive(Debug, Default, Clone)]
struct MandateForm {
    id: String,
    debtor: String,
    creditor: String,
    per_debit: String,
    monthly: String,
}

#[derive(Template)]
#[template(path = "pay_mandates.html")]
struct MandatesTemplate {
    page: Page,
    p: &'static PayTexts,
    notice: Option<&'static str>,
    errors: Vec<String>,
    mandates: Vec<MandateItem>,
    form: MandateForm,
    accounts: Vec<AccountRow>,
}

fn mandate_item(
    state: &PortalState,
    p: &'static PayTexts,
    m: &MandateView,
    lang: Lang,
) -> MandateItem {
    use MandateAction as A;
    let (status, actions): (&'static str, &[MandateAction]) = match m.status {
        MandateStatus::Pending => (p.mandate_pending, &[A::Confirm, A::Reject, A::Cancel]),
        MandateStatus::Active => (p.mandate_active, &[A::Suspend, A::Cancel]),
        MandateStatus::Suspended => (p.mandate_suspended, &[A::Resume, A::Cancel]),
        MandateStatus::Cancelled => (p.mandate_cancelled, &[]),
        MandateStatus::Rejected => (p.mandate_rejected, &[]),
    };
    let label = |a: MandateAction| match a {
        A::Confirm => p.action_confirm,
        A::Reject => p.action_reject,
        A::Suspend => p.action_suspend,
        A::Resume => p.action_resume,
        A::Cancel => p.action_cancel,
    };
    MandateItem {
        id: m.id.clone(),
        creditor: format!("{} ({})", m.creditor_name, m.creditor_account),
        bank: bank_name(state, &m.creditor_bank, lang),
        account: m.debtor_account.clone(),
        per_debit: money_text(m.per_debit),
        monthly: money_text(m.monthly),
        status,
        status_code: m.status.as_str(),
        actions: actions.iter().map(|a| (a.as_str(), label(*a))).collect(),
    }
}

async fn mandates_page(
    state: &PortalState,
    prefs: Prefs,
    session: &Session,
    notice: Option<&'static str>,
    form: MandateForm,
    errors: Vec<String>,
) -> Response {
    let p = PayTexts::get(prefs.lang);
    let mandates = match state.banks.mandates_of(&owner(session)).await {
        Ok(m) => m,
        Err(e) => return internal(e),
    };
    let mandates = mandates
        .iter()
        .map(|m| mandate_item(state, p, m, prefs.lang))
        .collect();
    let faulty = !errors.is_empty();
    form_page(state, prefs, session, faulty, |accounts| MandatesTemplate {
        page: Page::new(prefs, p.mandates, Section::Pay, "/pay/mandates"),
        p,
        notice,
        errors,
        mandates,
        form,
        accounts,
    })
    .await
}

fn fresh_mandate_form() -> MandateForm {
    MandateForm {
        id: uuid::Uuid::new_v4().to_string(),
        ..MandateForm::default()
    }
}

/// `GET /pay/mandates`: the mandates on the resident's accounts, and the form to set one up.
pub async fn mandates(
    State(state): State<PortalState>,
    prefs: Prefs,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
) -> Response {
    let Some(session) = session(&state, &headers).await else {
        return see_other("/pay");
    };
    let p = PayTexts::get(prefs.lang);
    let query = form(uri.query().unwrap_or("").as_bytes());
    let notice = match value(&query, "done").as_str() {
        "created" => Some(p.mandate_created),
        "moved" => Some(p.mandate_moved),
        _ => None,
    };
    mandates_page(
        &state,
        prefs,
        &session,
        notice,
        fresh_mandate_form(),
        Vec::new(),
    )
    .await
}

/// Checks the mandate form into an order, naming every fault.
fn mandate_from(
    p: &'static PayTexts,
    form: &mut MandateForm,
    accounts: &[AccountView],
) -> Result<MandateOrder, Vec<String>> {
    let mut errors = Vec::new();
    let id = uuid::Uuid::try_parse(&form.id).unwrap_or_else(|_| uuid::Uuid::new_v4());
    form.id = id.to_string();
    let debtor =
        AccountNumber::parse(&form.debtor).and_then(|n| accounts.iter().find(|a| a.number == n));
    if debtor.is_none() {
        errors.push(p.error_account.to_owned());
    }
    let creditor = AccountNumber::parse(&form.creditor)
        .filter(|c| debtor.is_none_or(|d| d.number.bank() != c.bank()));
    if creditor.is_none() {
        errors.push(p.error_creditor.to_owned());
    }
    let limit = |text: &str| {
        debtor
            .and_then(|a| Money::parse_decimal(text.trim(), a.currency).ok())
            .filter(|m| m.minor > 0)
    };
    let (per_debit, monthly) = (limit(&form.per_debit), limit(&form.monthly));
    let limits = per_debit
        .zip(monthly)
        .filter(|(per, month)| month.minor >= per.minor);
    if limits.is_none() && debtor.is_some() {
        errors.push(p.error_limits.to_owned());
    }
    match (debtor, creditor, limits, errors.is_empty()) {
        (Some(debtor), Some(creditor), Some((per_debit, monthly)), true) => Ok(MandateOrder {
            id,
            debtor: debtor.number.clone(),
            creditor,
            per_debit,
            monthly,
        }),
        _ => Err(errors),
    }
}

/// `POST /pay/mandates`: sets up a standard mandate on one of the resident's accounts.
pub async fn set_up_mandate(
    State(state): State<PortalState>,
    prefs: Prefs,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (session, pairs, accounts) = match posted_form(&state, &headers, &body).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let p = PayTexts::get(prefs.lang);
    let mut form = MandateForm {
        id: value(&pairs, "id"),
        debtor: value(&pairs, "debtor"),
        creditor: value(&pairs, "creditor"),
        per_debit: value(&pairs, "per_debit"),
        monthly: value(&pairs, "monthly"),
    };
    let owner = owner(&session);
    let why = match mandate_from(p, &mut form, &accounts) {
        Err(errors) => return mandates_page(&state, prefs, &session, None, form, errors).await,
        Ok(order) => match state.banks.set_up_mandate(&owner, order, &owner).await {
            Ok(_) => return see_other("/pay/mandates?done=created"),
            Err(BankError::Invalid(fields)) if fields.iter().any(|(f, _)| f == "creditor") => {
                p.error_creditor
            }
            Err(BankError::Invalid(_)) => p.error_limits,
            Err(e) => match bank_error_text(p, &e) {
                Some(text) => text,
                None => return internal(e),
            },
        },
    };
    mandates_page(&state, prefs, &session, None, form, vec![why.to_owned()]).await
}

/// `POST /pay/mandates/{id}/{action}`: confirms, rejects, suspends, resumes or cancels one of
/// the resident's mandates.
pub async fn move_mandate(
    State(state): State<PortalState>,
    prefs: Prefs,
    headers: HeaderMap,
    Path((id, action)): Path<(String, String)>,
) -> Response {
    let session = match posting_session(&state, &headers).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let p = PayTexts::get(prefs.lang);
    let owner = owner(&session);
    let Some(action) = MandateAction::ALL
        .into_iter()
        .find(|a| a.as_str() == action)
    else {
        return crate::respond::message(
            Page::new(prefs, p.mandates, Section::Pay, "/pay/mandates"),
            StatusCode::NOT_FOUND,
            p.mandates,
            p.error_again,
        );
    };
    let why = match state.banks.move_mandate(&owner, &id, action, &owner).await {
        Ok(_) => return see_other("/pay/mandates?done=moved"),
        Err(BankError::MandateNotFound | BankError::MandateState(_)) => p.error_mandate_state,
        Err(e) => return internal(e),
    };
    let errors = vec![why.to_owned()];
    mandates_page(&state, prefs, &session, None, fresh_mandate_form(), errors).await
}
