//! Company signatures on the business pages: a representative who may sign for the business
//! starts one from its dashboard (the document's SHA-256 is computed in the browser by
//! `static/business-sign.js`, or pasted: the file itself never reaches the server), approves it
//! in the 智方便 app, and finds it in the signing history, from where the signature (the JWS
//! JSON text) downloads. `/business/verify` is the public verification as a page, for anyone.
//! [`CompanySigning`] decides, audits and signs; this module only shows.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use bauhinia_core::Lang;
use bauhinia_corpid::domain::signing::{check_approver, SigningKind};
use bauhinia_corpid::domain::Role;
use bauhinia_corpid::signing::{CompanyRequest, CompanyVerification, RequestDraft};
use bauhinia_corpid::CorpIdError;
use bauhinia_identity::domain::signing::{DocumentHash, RequestStatus};

use super::views::{Choice, FormKind, SignatureRecordView};
use super::{internal, now, page, BusinessPortalState, Change, Opened, Viewed};
use crate::exchange::views::shown_time;
use crate::page::{Page, Section};
use crate::prefs::Prefs;
use crate::render;
use crate::respond::{no_store, see_other};

/// The longest signature the verification page reads (the API's limit too).
pub const SIGNATURE_CHARS_MAX: usize = 32_768;

#[derive(Debug)]
pub struct SigningTexts {
    pub sign_title: &'static str,
    pub sign_intro: &'static str,
    pub file_label: &'static str,
    pub name_label: &'static str,
    pub name_hint: &'static str,
    pub hash_label: &'static str,
    pub hash_hint: &'static str,
    pub kind_label: &'static str,
    pub personal: &'static str,
    pub corporate: &'static str,
    pub integrated: &'static str,
    pub sign_button: &'static str,
    pub history_kind: &'static str,
    pub history_status: &'static str,
    pub history_requested: &'static str,
    pub history_decided: &'static str,
    pub history_approvals: &'static str,
    pub history_signature: &'static str,
    pub pending: &'static str,
    pub approved: &'static str,
    pub rejected: &'static str,
    pub cancelled: &'static str,
    pub expired: &'static str,
    pub download: &'static str,
    pub verify_link: &'static str,
    pub f_name: &'static str,
    pub f_hash: &'static str,
    pub f_kind: &'static str,
    pub err_role: &'static str,
    pub err_delegation_ended: &'static str,
    pub err_inactive: &'static str,
    pub business: &'static str,
    pub verify_title: &'static str,
    pub verify_intro: &'static str,
    pub signature_label: &'static str,
    pub verify_hash_label: &'static str,
    pub verify_hash_hint: &'static str,
    pub verify_button: &'static str,
    pub valid: &'static str,
    pub invalid: &'static str,
    pub malformed: &'static str,
    pub signed_at: &'static str,
    pub certificate: &'static str,
    pub revoked: &'static str,
    pub problems: &'static str,
}

const ZH_HANT: SigningTexts = SigningTexts {
    sign_title: "簽署文件",
    sign_intro: "選擇文件後，瀏覽器會在你的裝置上計算文件指紋（SHA-256），文件本身不會上載。之後請在智方便批核。",
    file_label: "文件",
    name_label: "文件名稱",
    name_hint: "簽署上顯示的名稱，最多 256 字。",
    hash_label: "文件指紋（SHA-256）",
    hash_hint: "選擇文件後會自動填寫；亦可貼上 64 位十六進制的 SHA-256 值。",
    kind_label: "簽署類別",
    personal: "個人簽署",
    corporate: "企業簽署（企業印章）",
    integrated: "綜合簽署（個人及企業）",
    sign_button: "往智方便批核",
    history_kind: "類別",
    history_status: "狀態",
    history_requested: "提出時間",
    history_decided: "完成時間",
    history_approvals: "批核人",
    history_signature: "簽署",
    pending: "等待批核",
    approved: "已簽署",
    rejected: "已拒絕",
    cancelled: "已取消",
    expired: "已逾時",
    download: "下載簽署",
    verify_link: "核實",
    f_name: "請輸入文件名稱（最多 256 字，不可有控制字元）。",
    f_hash: "請選擇文件，或貼上 64 位十六進制的 SHA-256 值。",
    f_kind: "請選擇簽署類別。",
    err_role: "只有企業的管理員及獲授權簽署人可以代表企業簽署文件。",
    err_delegation_ended: "你經代理企業代表此企業的授權已結束或被撤銷。",
    err_inactive: "此企業已暫停營業或已解散，不能簽署。",
    business: "企業",
    verify_title: "核實企業簽署",
    verify_intro: "貼上企業數碼簽署（JSON 文字），即可查看由哪家企業、哪位人士以甚麼職位簽署，簽署時證書是否有效，以及證書現時有否被撤銷。",
    signature_label: "簽署（JSON）",
    verify_hash_label: "文件指紋（SHA-256，可選填）",
    verify_hash_hint: "填寫你持有的文件的 SHA-256，以核對簽署的正是這份文件。",
    verify_button: "核實",
    valid: "簽署有效",
    invalid: "簽署無效",
    malformed: "這不是企業數碼簽署。",
    signed_at: "簽署時間",
    certificate: "證書",
    revoked: "已撤銷",
    problems: "未通過的檢查",
};

const ZH_HANS: SigningTexts = SigningTexts {
    sign_title: "签署文件",
    sign_intro: "选择文件后，浏览器会在你的装置上计算文件指纹（SHA-256），文件本身不会上载。之后请在智方便批核。",
    file_label: "文件",
    name_label: "文件名称",
    name_hint: "签署上显示的名称，最多 256 字。",
    hash_label: "文件指纹（SHA-256）",
    hash_hint: "选择文件后会自动填写；亦可贴上 64 位十六进制的 SHA-256 值。",
    kind_label: "签署类别",
    personal: "个人签署",
    corporate: "企业签署（企业印章）",
    integrated: "综合签署（个人及企业）",
    sign_button: "往智方便批核",
    history_kind: "类别",
    history_status: "状态",
    history_requested: "提出时间",
    history_decided: "完成时间",
    history_approvals: "批核人",
    history_signature: "签署",
    pending: "等待批核",
    approved: "已签署",
    rejected: "已拒绝",
    cancelled: "已取消",
    expired: "已逾时",
    download: "下载签署",
    verify_link: "核实",
    f_name: "请输入文件名称（最多 256 字，不可有控制字元）。",
    f_hash: "请选择文件，或贴上 64 位十六进制的 SHA-256 值。",
    f_kind: "请选择签署类别。",
    err_role: "只有企业的管理员及获授权签署人可以代表企业签署文件。",
    err_delegation_ended: "你经代理企业代表此企业的授权已结束或被撤销。",
    err_inactive: "此企业已暂停营业或已解散，不能签署。",
    business: "企业",
    verify_title: "核实企业签署",
    verify_intro: "贴上企业数码签署（JSON 文字），即可查看由哪家企业、哪位人士以什么职位签署，签署时证书是否有效，以及证书现时有否被撤销。",
    signature_label: "签署（JSON）",
    verify_hash_label: "文件指纹（SHA-256，可选填）",
    verify_hash_hint: "填写你持有的文件的 SHA-256，以核对签署的正是这份文件。",
    verify_button: "核实",
    valid: "签署有效",
    invalid: "签署无效",
    malformed: "这不是企业数码签署。",
    signed_at: "签署时间",
    certificate: "证书",
    revoked: "已撤销",
    problems: "未通过的检查",
};

const EN: SigningTexts = SigningTexts {
    sign_title: "Sign a document",
    sign_intro: "Choose the file: your browser computes its fingerprint (SHA-256) on this device, and the file itself is not uploaded. You then approve in iAM Smart.",
    file_label: "File",
    name_label: "Document name",
    name_hint: "The name the signature shows, up to 256 characters.",
    hash_label: "Document fingerprint (SHA-256)",
    hash_hint: "Filled in when you choose the file; or paste the SHA-256 as 64 hexadecimal digits.",
    kind_label: "Type of signature",
    personal: "Personal",
    corporate: "Corporate (company chop)",
    integrated: "Integrated (personal and corporate)",
    sign_button: "Continue to approve in iAM Smart",
    history_kind: "Type",
    history_status: "Status",
    history_requested: "Requested",
    history_decided: "Completed",
    history_approvals: "Approved by",
    history_signature: "Signature",
    pending: "Waiting for approval",
    approved: "Signed",
    rejected: "Rejected",
    cancelled: "Cancelled",
    expired: "Expired",
    download: "Download the signature",
    verify_link: "Verify",
    f_name: "Enter the document's name (up to 256 characters, no control characters).",
    f_hash: "Choose the file, or paste its SHA-256 as 64 hexadecimal digits.",
    f_kind: "Choose the type of signature.",
    err_role: "Only the business's administrators and authorised signatories sign documents for it.",
    err_delegation_ended: "You acted for this business through an agent whose delegation has ended or was revoked.",
    err_inactive: "The business is suspended or dissolved: it signs nothing.",
    business: "Business",
    verify_title: "Verify a company signature",
    verify_intro: "Paste a company's digital signature (the JSON text) to see which business signed, who approved it in which role, whether the certificates were valid when it was signed, and whether they have been revoked since.",
    signature_label: "Signature (JSON)",
    verify_hash_label: "Document fingerprint (SHA-256, optional)",
    verify_hash_hint: "The SHA-256 of the document you hold, to check that it is the one signed.",
    verify_button: "Verify",
    valid: "The signature is valid",
    invalid: "The signature is not valid",
    malformed: "This is not a company signature.",
    signed_at: "Signed at",
    certificate: "Certificate",
    revoked: "revoked",
    problems: "Checks that failed",
};

impl SigningTexts {
    pub fn get(lang: Lang) -> &'static SigningTexts {
        match lang {
            Lang::ZhHant => &ZH_HANT,
            Lang::ZhHans => &ZH_HANS,
            Lang::En => &EN,
        }
    }

    pub fn kind(&self, kind: SigningKind) -> &'static str {
        match kind {
            SigningKind::Personal => self.personal,
            SigningKind::Corporate => self.corporate,
            SigningKind::Integrated => self.integrated,
        }
    }

    pub fn status(&self, status: RequestStatus) -> &'static str {
        match status {
            RequestStatus::Pending => self.pending,
            RequestStatus::Approved => self.approved,
            RequestStatus::Rejected => self.rejected,
            RequestStatus::Cancelled => self.cancelled,
            RequestStatus::Expired => self.expired,
        }
    }
}

/// The signing types as the dashboard's form offers them.
pub fn kinds(lang: Lang) -> Vec<Choice> {
    let g = SigningTexts::get(lang);
    SigningKind::ALL
        .iter()
        .map(|k| Choice {
            value: k.as_str(),
            label: g.kind(*k),
        })
        .collect()
}

/// Whether the resident may start a signature for the business (as they could approve one).
pub fn may_sign(opened: &Opened) -> bool {
    Role::parse(&opened.me.role).is_some_and(|role| check_approver(role).is_ok())
}

/// The business's signing history, its approvers named in the page's language.
pub async fn history(
    state: &BusinessPortalState,
    opened: &Opened,
    resident: &str,
    lang: Lang,
) -> Result<Vec<SignatureRecordView>, Response> {
    let g = SigningTexts::get(lang);
    let requests = state
        .signing
        .history(resident, &opened.business.brn, now())
        .await
        .map_err(internal)?;
    let mut names = std::collections::HashMap::new();
    let mut out = Vec::with_capacity(requests.len());
    for request in requests {
        let mut signers = Vec::with_capacity(request.approved_by.len());
        for id in &request.approved_by {
            if !names.contains_key(id) {
                let person = state.identity.resident(id).await.map_err(internal)?;
                let name = match (lang, person.chinese_name) {
                    (Lang::En, _) | (_, None) => person.english_name,
                    (_, Some(chinese)) => chinese,
                };
                names.insert(id.clone(), name);
            }
            signers.push(names.get(id).cloned().unwrap_or_default());
        }
        out.push(record(&request, signers, g));
    }
    Ok(out)
}

fn record(request: &CompanyRequest, signers: Vec<String>, g: &SigningTexts) -> SignatureRecordView {
    SignatureRecordView {
        id: request.id.clone(),
        document: request.document_name.clone(),
        kind: g.kind(request.kind),
        kind_key: request.kind.as_str(),
        status: g.status(request.status),
        status_key: request.status.as_str(),
        requested: shown_time(request.created_at_s),
        decided: request.decided_at_s.map(shown_time).unwrap_or_default(),
        approvals: format!(
            "{}/{}",
            request.approved_by.len(),
            request.approvals_required
        ),
        signers,
        signed: request.signature.is_some(),
    }
}

/// `POST /business/{brn}/signatures`: a signature of this document for the business, to be
/// approved in the app, where the browser goes next. A refusal is the dashboard again with
/// the error summary, and nothing is written.
pub async fn start(State(state): State<BusinessPortalState>, change: Change) -> Response {
    // A hash that does not parse is sent as no bytes: the service names it with the others.
    let hash = DocumentHash::parse_text(change.field("document_hash"))
        .map(|h| h.as_bytes().to_vec())
        .unwrap_or_default();
    let draft = RequestDraft {
        brn: change.brn().as_str(),
        kind: change.field("type"),
        document_name: change.field("document_name").trim(),
        document_hash: &hash,
    };
    let resident = change.form.signed.resident().to_owned();
    match state
        .signing
        .create_request_as(&resident, &state.portal_client_id, draft, now())
        .await
    {
        Ok(request) => see_other(&format!("/app/company-sign/{}", request.id)),
        Err(error) => {
            change
                .finish(&state, FormKind::Sign, ("", ""), Err(error.into()))
                .await
        }
    }
}

/// `GET /business/{brn}/signatures/{id}`: the signature as a JSON file, to representatives of
/// the business once it is signed; anything else is the 404 page.
pub async fn download(
    State(state): State<BusinessPortalState>,
    Path((_, id)): Path<(String, String)>,
    v: Viewed,
) -> Response {
    let found = state
        .signing
        .request_of(v.signed.resident(), &v.opened.business.brn, &id, now())
        .await;
    let signature = match found {
        Ok(request) => request.signature,
        Err(CorpIdError::SigningRequestNotFound | CorpIdError::BusinessNotFound) => None,
        Err(e) => return internal(e),
    };
    let Some(signature) = signature else {
        return super::not_found(v.prefs, &v.uri);
    };
    // The id is a UUID the service made, so the file name needs no quoting.
    let disposition = HeaderValue::from_str(&format!(
        "attachment; filename=\"signature-{}.json\"",
        id.chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
    ))
    .unwrap_or(HeaderValue::from_static("attachment"));
    let mut response = (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        signature,
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_DISPOSITION, disposition);
    no_store(response)
}

#[derive(Debug)]
pub struct ApprovalView {
    pub name: String,
    pub role: String,
    pub at: String,
}

#[derive(Debug)]
pub struct EntryView {
    pub subject: String,
    pub serial: String,
    pub revoked: bool,
}

#[derive(Debug)]
pub struct ReportView {
    pub valid: bool,
    pub business: String,
    pub brn: String,
    pub kind: &'static str,
    pub document: String,
    pub hash: String,
    pub signed_at: String,
    pub approvals: Vec<ApprovalView>,
    pub entries: Vec<EntryView>,
    pub errors: Vec<&'static str>,
}

fn report_view(report: CompanyVerification, lang: Lang) -> ReportView {
    let g = SigningTexts::get(lang);
    let b = super::texts::BusinessTexts::get(lang);
    let business = match (lang, &report.business.name_zh) {
        (Lang::ZhHant | Lang::ZhHans, Some(zh)) if !zh.is_empty() => zh.clone(),
        _ => report.business.name_en.clone(),
    };
    ReportView {
        valid: report.valid,
        business,
        brn: report.business.brn,
        kind: g.kind(report.kind),
        document: report.document_name,
        hash: report.document_hash,
        signed_at: shown_time(report.signed_at),
        approvals: report
            .approvals
            .into_iter()
            .map(|a| ApprovalView {
                name: a.name,
                role: b.role_named(&a.role),
                at: shown_time(a.approved_at),
            })
            .collect(),
        entries: report
            .signatures
            .into_iter()
            .map(|s| EntryView {
                subject: s.subject,
                serial: s.certificate_serial,
                revoked: s.revoked_at.is_some(),
            })
            .collect(),
        errors: report.errors.iter().map(|e| e.code()).collect(),
    }
}

#[derive(Template)]
#[template(path = "business_verify.html")]
struct VerifyTemplate {
    page: Page,
    g: &'static SigningTexts,
    signature: String,
    hash: String,
    report: Option<ReportView>,
    /// Why the text could not be verified at all.
    refusal: Option<(&'static str, &'static str)>,
}

fn verify_page(
    (prefs, uri): (Prefs, &Uri),
    status: StatusCode,
    fields: (String, String),
    report: Option<ReportView>,
    refusal: Option<(&'static str, &'static str)>,
) -> Response {
    let g = SigningTexts::get(prefs.lang);
    let (signature, hash) = fields;
    no_store(render(
        &VerifyTemplate {
            page: page(prefs, g.verify_title, uri),
            g,
            signature,
            hash,
            report,
            refusal,
        },
        status,
    ))
}

/// `GET /business/verify`: the public verification form.
pub async fn verify_form(prefs: Prefs, OriginalUri(uri): OriginalUri) -> Response {
    let fields = (String::new(), String::new());
    verify_page((prefs, &uri), StatusCode::OK, fields, None, None)
}

/// The signature and the optional hash of the verification form (at most a few pairs read).
pub fn verify_fields(body: &[u8]) -> (String, String) {
    let mut signature = String::new();
    let mut hash = String::new();
    for (k, v) in form_urlencoded::parse(body).take(4) {
        match k.as_ref() {
            "signature" => signature = v.into_owned(),
            "document_hash" => hash = v.trim().to_owned(),
            _ => {}
        }
    }
    (signature, hash)
}

/// `POST /business/verify`: verifies the pasted signature (nothing is written; no session is
/// needed, as the public API's). A text that is not a company signature, or a hash that does
/// not parse, is said on the page with its code.
pub async fn verify(
    State(state): State<BusinessPortalState>,
    prefs: Prefs,
    OriginalUri(uri): OriginalUri,
    body: Bytes,
) -> Response {
    let g = SigningTexts::get(prefs.lang);
    let (signature, hash_text) = verify_fields(&body);
    let hash = if hash_text.is_empty() {
        Ok(None)
    } else {
        DocumentHash::parse_text(&hash_text).map(Some)
    };
    let too_long = signature.chars().count() > SIGNATURE_CHARS_MAX;
    let at = (prefs, &uri);
    let hash = match hash {
        Ok(hash) if !too_long => hash,
        Ok(_) => {
            let refusal = Some((g.malformed, "corpid.signature_malformed"));
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return verify_page(at, status, (String::new(), hash_text), None, refusal);
        }
        Err(_) => {
            let refusal = Some((g.f_hash, "corpid.invalid"));
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return verify_page(at, status, (signature, String::new()), None, refusal);
        }
    };
    match state.signing.verify(&signature, hash.as_ref(), now()).await {
        Ok(report) => {
            let view = report_view(report, prefs.lang);
            verify_page(at, StatusCode::OK, (signature, hash_text), Some(view), None)
        }
        Err(CorpIdError::SignatureMalformed(_)) => {
            let refusal = Some((g.malformed, "corpid.signature_malformed"));
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            verify_page(at, status, (signature, hash_text), None, refusal)
        }
        Err(e) => internal(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_the_verification_form() {
        let (signature, hash) =
            verify_fields(b"signature=%7B%22a%22%3A1%7D&document_hash=+ab+&x=y");
        assert_eq!(signature, "{\"a\":1}");
        assert_eq!(hash, "ab");
        assert_eq!(verify_fields(b""), (String::new(), String::new()));
    }

    proptest! {
        /// Whatever a browser sends, the form is read without a panic, and only its own fields.
        #[test]
        fn any_body_is_read(body in proptest::collection::vec(any::<u8>(), 0..400)) {
            let (signature, hash) = verify_fields(&body);
            prop_assert!(signature.len() <= body.len() * 3 && hash.len() <= body.len() * 3);
        }
    }
}
