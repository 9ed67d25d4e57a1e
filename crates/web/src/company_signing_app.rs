//! Company signing in the 智方便 app: a representative sees the company signing requests
//! waiting for them (those of every business they may sign for now), with the business, the
//! requesting service, the document's name and SHA-256, the signing type and how many
//! approvals it needs and has; they approve or reject. CorpID's [`CompanySigning`] decides
//! and audits everything: this module only shows, in the resident's language, what came of it
//! — signed, waiting for a second signatory, rejected — or why it was refused, with the
//! refusal's stable `corpid.*` code and never an internal error for a refusal.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use bauhinia_core::{ErrorCode, Lang, Problem};
use bauhinia_corpid::domain::signing::{ApprovalRefusal, SigningKind};
use bauhinia_corpid::signing::CompanyRequest;
use bauhinia_corpid::CorpIdError;
use bauhinia_identity::domain::signing::RequestStatus;
use bauhinia_identity::Session;

use crate::page::{Page, Section};
use crate::prefs::Prefs;
use crate::respond::no_store;
use crate::signing_app::service_name;
use crate::{render, PortalState};

/// A company signing request waiting for the resident, as the app's home lists it.
#[derive(Debug)]
pub struct CompanyPendingView {
    pub id: String,
    pub business: String,
    pub document_name: String,
}

#[derive(Debug)]
pub struct CompanySignTexts {
    pub title: &'static str,
    pub intro: &'static str,
    pub business: &'static str,
    pub brn: &'static str,
    pub service: &'static str,
    pub document: &'static str,
    pub hash: &'static str,
    pub kind: &'static str,
    pub approvals: &'static str,
    /// "{given} of {required}" is written as given, this, required.
    pub approvals_of: &'static str,
    pub personal: &'static str,
    pub corporate: &'static str,
    pub integrated: &'static str,
    pub you_approved: &'static str,
    pub approve: &'static str,
    pub reject: &'static str,
    pub signed: &'static str,
    pub waiting: &'static str,
    pub rejected: &'static str,
    pub to_history: &'static str,
    pub to_app: &'static str,
    pub refused_title: &'static str,
    pub error_code: &'static str,
    pub not_found: &'static str,
    pub not_pending: &'static str,
    pub expired: &'static str,
    pub role_insufficient: &'static str,
    pub not_representative: &'static str,
    pub delegation_ended: &'static str,
    pub already_approved: &'static str,
    pub business_inactive: &'static str,
    pub nothing_signed: &'static str,
}

const ZH_HANT: CompanySignTexts = CompanySignTexts {
    title: "企業數碼簽署",
    intro: "以下服務要求你代表企業簽署文件：",
    business: "企業",
    brn: "商業登記號碼",
    service: "提出要求的服務",
    document: "文件",
    hash: "文件指紋（SHA-256）",
    kind: "簽署類別",
    approvals: "批核",
    approvals_of: "／",
    personal: "個人簽署（以你的個人簽署證書，註明企業及你的職位）",
    corporate: "企業簽署（以企業的簽署證書，即企業印章）",
    integrated: "綜合簽署（你的個人簽署及企業簽署）",
    you_approved: "你已批核此要求，正等待另一名獲授權簽署人批核。",
    approve: "批核並簽署",
    reject: "拒絕",
    signed: "已簽署：企業的數碼簽署已完成，提出要求的服務會收到簽署。",
    waiting: "你已批核。此企業的簽署須由兩名簽署人批核，現正等待第二名獲授權簽署人。",
    rejected: "你已拒絕此簽署要求，文件沒有被簽署。",
    to_history: "查看企業的簽署紀錄",
    to_app: "返回智方便",
    refused_title: "未能處理簽署要求",
    error_code: "錯誤代碼",
    not_found: "此簽署要求不存在，或不是由你處理。",
    not_pending: "此簽署要求已被處理（已簽署、已拒絕或已取消）。",
    expired: "此簽署要求已逾時，未有足夠簽署人及時批核。",
    role_insufficient: "只有企業的管理員及獲授權簽署人可以批核簽署，你的職位不可以。",
    not_representative: "你現時並不代表此企業，不能批核其簽署。",
    delegation_ended: "你經代理企業代表此企業的授權已結束或被撤銷，不能批核其簽署。",
    already_approved: "你已批核此要求；第二個批核必須由另一名簽署人作出。",
    business_inactive: "此企業已暫停營業或已解散，不能簽署。",
    nothing_signed: "文件沒有被簽署。",
};

const ZH_HANS: CompanySignTexts = CompanySignTexts {
    title: "企业数码签署",
    intro: "以下服务要求你代表企业签署文件：",
    business: "企业",
    brn: "商业登记号码",
    service: "提出要求的服务",
    document: "文件",
    hash: "文件指纹（SHA-256）",
    kind: "签署类别",
    approvals: "批核",
    approvals_of: "／",
    personal: "个人签署（以你的个人签署证书，注明企业及你的职位）",
    corporate: "企业签署（以企业的签署证书，即企业印章）",
    integrated: "综合签署（你的个人签署及企业签署）",
    you_approved: "你已批核此要求，正等待另一名获授权签署人批核。",
    approve: "批核并签署",
    reject: "拒绝",
    signed: "已签署：企业的数码签署已完成，提出要求的服务会收到签署。",
    waiting: "你已批核。此企业的签署须由两名签署人批核，现正等待第二名获授权签署人。",
    rejected: "你已拒绝此签署要求，文件没有被签署。",
    to_history: "查看企业的签署记录",
    to_app: "返回智方便",
    refused_title: "未能处理签署要求",
    error_code: "错误代码",
    not_found: "此签署要求不存在，或不是由你处理。",
    not_pending: "此签署要求已被处理（已签署、已拒绝或已取消）。",
    expired: "此签署要求已逾时，未有足够签署人及时批核。",
    role_insufficient: "只有企业的管理员及获授权签署人可以批核签署，你的职位不可以。",
    not_representative: "你现时并不代表此企业，不能批核其签署。",
    delegation_ended: "你经代理企业代表此企业的授权已结束或被撤销，不能批核其签署。",
    already_approved: "你已批核此要求；第二个批核必须由另一名签署人作出。",
    business_inactive: "此企业已暂停营业或已解散，不能签署。",
    nothing_signed: "文件没有被签署。",
};

const EN: CompanySignTexts = CompanySignTexts {
    title: "Company signing",
    intro: "This service asks you to sign a document for a business:",
    business: "Business",
    brn: "Business Registration number",
    service: "Requested by",
    document: "Document",
    hash: "Document fingerprint (SHA-256)",
    kind: "Type of signature",
    approvals: "Approvals",
    approvals_of: " of ",
    personal: "Personal (your own signing certificate, naming the business and your role)",
    corporate: "Corporate (the business's signing certificate: its company chop)",
    integrated: "Integrated (your personal signature and the business's)",
    you_approved: "You have approved this request; it waits for another authorised signatory.",
    approve: "Approve and sign",
    reject: "Reject",
    signed: "Signed: the business's digital signature is made, and the requesting service receives it.",
    waiting: "Approved. This business's signatures need two signatories: it now waits for a second authorised signatory.",
    rejected: "You rejected the request: the document was not signed.",
    to_history: "The business's signing history",
    to_app: "Back to iAM Smart",
    refused_title: "The signing request could not be completed",
    error_code: "Error code",
    not_found: "This signing request does not exist, or is not yours to decide.",
    not_pending: "This signing request has already been dealt with (signed, rejected or cancelled).",
    expired: "This signing request expired before enough signatories approved it.",
    role_insufficient: "Only the business's administrators and authorised signatories approve its signatures; your role does not.",
    not_representative: "You do not represent this business now, so you cannot approve its signatures.",
    delegation_ended: "You acted for this business through an agent whose delegation has ended or was revoked, so you cannot approve.",
    already_approved: "You have already approved this request; the second approval must come from another signatory.",
    business_inactive: "The business is suspended or dissolved: it signs nothing.",
    nothing_signed: "The document was not signed.",
};

impl CompanySignTexts {
    pub fn get(lang: Lang) -> &'static CompanySignTexts {
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

    /// What to say of a refusal of the service, with its code; `None` when it is not a
    /// refusal but a failure (the store, a corrupt record): an internal error.
    fn refusal(&self, error: &CorpIdError) -> Option<(ErrorCode, &'static str)> {
        Some(match error {
            CorpIdError::SigningRequestNotFound => {
                (ErrorCode::CorpidSigningRequestNotFound, self.not_found)
            }
            CorpIdError::SigningRequestNotPending(_) => {
                (ErrorCode::CorpidSigningRequestNotPending, self.not_pending)
            }
            CorpIdError::SigningRequestExpired => {
                (ErrorCode::CorpidSigningRequestExpired, self.expired)
            }
            CorpIdError::Approval(refusal) => match refusal {
                ApprovalRefusal::RoleInsufficient => (
                    ErrorCode::CorpidSigningRoleInsufficient,
                    self.role_insufficient,
                ),
                ApprovalRefusal::NotRepresentative => (
                    ErrorCode::CorpidSigningNotRepresentative,
                    self.not_representative,
                ),
                ApprovalRefusal::DelegationEnded => (
                    ErrorCode::CorpidSigningDelegationEnded,
                    self.delegation_ended,
                ),
                ApprovalRefusal::AlreadyApproved => (
                    ErrorCode::CorpidSigningAlreadyApproved,
                    self.already_approved,
                ),
                ApprovalRefusal::BusinessInactive => (
                    ErrorCode::CorpidSigningBusinessInactive,
                    self.business_inactive,
                ),
            },
            _ => return None,
        })
    }
}

/// The business's name in the page's script (Chinese on Chinese pages when it has one).
fn business_name(request: &CompanyRequest, lang: Lang) -> String {
    match (lang, &request.business.name_zh) {
        (Lang::ZhHant | Lang::ZhHans, Some(zh)) if !zh.is_empty() => zh.clone(),
        _ => request.business.name_en.clone(),
    }
}

fn now() -> i64 {
    bauhinia_core::background::now_ms() / 1_000
}

/// The company signing requests waiting for a resident (empty if they cannot be read: the
/// app's home still shows).
pub async fn pending(
    state: &PortalState,
    resident_id: &str,
    lang: Lang,
) -> Vec<CompanyPendingView> {
    match state.company_signing.pending_for(resident_id, now()).await {
        Ok(requests) => requests
            .iter()
            .map(|r| CompanyPendingView {
                id: r.id.clone(),
                business: business_name(r, lang),
                document_name: r.document_name.clone(),
            })
            .collect(),
        Err(e) => {
            tracing::warn!(error = %e, "could not list pending company signing requests");
            Vec::new()
        }
    }
}

/// The resident's app session; without one, the app's home (to sign in) instead.
async fn signed_in(state: &PortalState, headers: &HeaderMap) -> Result<Session, Response> {
    match crate::resident_app::session(state, headers).await {
        Ok(Some(session)) => Ok(session),
        Ok(None) => Err(Redirect::to("/app").into_response()),
        Err(problem) => Err(problem.into_response()),
    }
}

#[derive(Template)]
#[template(path = "app_company_sign.html")]
struct SignTemplate {
    page: Page,
    s: &'static CompanySignTexts,
    business: String,
    brn: String,
    service: String,
    document_name: String,
    hash: String,
    kind: &'static str,
    kind_key: &'static str,
    given: usize,
    required: u8,
    you_approved: bool,
    action: String,
}

#[derive(Template)]
#[template(path = "app_company_signed.html")]
struct OutcomeTemplate {
    page: Page,
    s: &'static CompanySignTexts,
    title: &'static str,
    body: String,
    /// The request's status (`approved`, `pending`, `rejected`) or the refusal's code.
    outcome: &'static str,
    code: Option<&'static str>,
    link: (String, &'static str),
}

/// The page saying what came of a decision, or why it was refused.
fn outcome_page(
    prefs: Prefs,
    uri: &axum::http::Uri,
    status: StatusCode,
    template: impl FnOnce(Page) -> OutcomeTemplate,
) -> Response {
    let s = CompanySignTexts::get(prefs.lang);
    let page = Page::new(prefs, s.title, Section::App, uri.path());
    no_store(render(&template(page), status))
}

/// A refusal of the service as a page in the resident's language, with its stable code and
/// status; an internal error only for what is not a refusal.
fn refused(prefs: Prefs, uri: &axum::http::Uri, error: CorpIdError) -> Response {
    let s = CompanySignTexts::get(prefs.lang);
    let Some((code, text)) = s.refusal(&error) else {
        return Problem::from(error).into_response();
    };
    tracing::info!(code = code.code(), "company signing decision refused");
    let body = match code {
        ErrorCode::CorpidSigningRequestNotFound => text.to_owned(),
        _ => format!("{text} {}", s.nothing_signed),
    };
    outcome_page(prefs, uri, code.status(), |page| OutcomeTemplate {
        page,
        s,
        title: s.refused_title,
        body,
        outcome: code.code(),
        code: Some(code.code()),
        link: ("/app".to_owned(), s.to_app),
    })
}

/// `GET /app/company-sign/{id}`: the request, if it waits for this resident now.
pub async fn sign_page(
    State(state): State<PortalState>,
    prefs: Prefs,
    OriginalUri(uri): OriginalUri,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let s = CompanySignTexts::get(prefs.lang);
    let session = match signed_in(&state, &headers).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let resident = &session.resident_id;
    let request = match state.company_signing.pending_for(resident, now()).await {
        Ok(list) => list.into_iter().find(|r| r.id == id),
        Err(e) => return Problem::from(e).into_response(),
    };
    let Some(request) = request else {
        return refused(prefs, &uri, CorpIdError::SigningRequestNotFound);
    };
    let template = SignTemplate {
        page: Page::new(prefs, s.title, Section::App, uri.path()),
        s,
        business: business_name(&request, prefs.lang),
        service: service_name(&state, &request.client_id, prefs.lang).await,
        document_name: request.document_name.clone(),
        hash: request.document_hash.to_hex(),
        kind: s.kind(request.kind),
        kind_key: request.kind.as_str(),
        given: request.approved_by.len(),
        required: request.approvals_required,
        you_approved: request.approved_by.iter().any(|a| a == resident),
        action: uri.path().to_owned(),
        brn: request.business.brn,
    };
    no_store(render(&template, StatusCode::OK))
}

/// `POST /app/company-sign/{id}`: `decision=approve|reject`, from the app's own page.
pub async fn sign_decide(
    State(state): State<PortalState>,
    prefs: Prefs,
    OriginalUri(uri): OriginalUri,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let s = CompanySignTexts::get(prefs.lang);
    let session = match signed_in(&state, &headers).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    if let Err(refused) = crate::resident_app::same_origin(&state, &headers) {
        return refused.into_response();
    }
    let approve = form_urlencoded::parse(&body)
        .take(4)
        .any(|(k, v)| k == "decision" && v == "approve");
    let resident = &session.resident_id;
    let result = if approve {
        state.company_signing.approve(&id, resident, now()).await
    } else {
        state.company_signing.reject(&id, resident, now()).await
    };
    let request = match result {
        Ok(request) => request,
        Err(error) => return refused(prefs, &uri, error),
    };
    let (outcome, text) = match request.status {
        RequestStatus::Approved => ("approved", s.signed),
        RequestStatus::Pending => ("pending", s.waiting),
        _ => ("rejected", s.rejected),
    };
    let history = format!("/business/{}#signing-history", request.business.brn);
    outcome_page(prefs, &uri, StatusCode::OK, |page| OutcomeTemplate {
        page,
        s,
        title: s.title,
        body: text.to_owned(),
        outcome,
        code: None,
        link: (history, s.to_history),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every refusal of an approval is said in each language with the code the API gives it.
    #[test]
    fn every_refusal_is_said_with_its_code() {
        let refusals = || {
            vec![
                CorpIdError::SigningRequestNotFound,
                CorpIdError::SigningRequestNotPending("approved".into()),
                CorpIdError::SigningRequestExpired,
                CorpIdError::Approval(ApprovalRefusal::RoleInsufficient),
                CorpIdError::Approval(ApprovalRefusal::NotRepresentative),
                CorpIdError::Approval(ApprovalRefusal::DelegationEnded),
                CorpIdError::Approval(ApprovalRefusal::AlreadyApproved),
                CorpIdError::Approval(ApprovalRefusal::BusinessInactive),
            ]
        };
        for lang in [Lang::ZhHant, Lang::ZhHans, Lang::En] {
            let s = CompanySignTexts::get(lang);
            let mut said = Vec::new();
            for (i, error) in refusals().iter().enumerate() {
                let (code, text) = s.refusal(error).expect("a refusal");
                assert!(code.status().is_client_error(), "{error}");
                let api = Problem::from(refusals().remove(i)).code;
                assert_eq!(api, code.code(), "{error}");
                assert!(!said.contains(&text), "{error}: a sentence of its own");
                said.push(text);
            }
        }
        let broken = CorpIdError::Corrupt("x".into());
        assert!(CompanySignTexts::get(Lang::En).refusal(&broken).is_none());
    }
}
