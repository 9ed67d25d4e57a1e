//! The CKAN Action API's write side and uploaded files: the write actions' dispatch (each
//! parses its dictionary, asks `OpenData`, shapes the answer), requests read within their
//! limits — JSON up to `json_body_max_bytes`, `multipart/form-data` with an `upload` file up to
//! `upload_max_bytes`, streamed to disk — and the download route of uploaded resources,
//! `/dataset/{id}/resource/{rid}/download/{filename}`.

use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::sync::Arc;

use crate::action::{self, Action, Params};
use crate::ckan;
use crate::error::OpendataError;
use crate::files::FileError;
use crate::publish::{clean_file_name, ResourceChange, Upload};
use crate::service::OpenData;
use crate::token::Publisher;

/// At most this many form fields are read from one multipart request.
const FORM_FIELDS_MAX: usize = action::PARAMS_MAX;
/// A form field other than the file: at most this many bytes.
const FORM_FIELD_MAX_BYTES: usize = 1024 * 1024;

/// Who is calling, and the file they sent.
#[derive(Debug, Default)]
pub struct Caller {
    pub publisher: Option<Publisher>,
    pub upload: Option<Upload>,
}

impl Caller {
    /// The caller, with the file moved out of `self` (the publisher stays for read actions).
    pub fn clone_publisher(&mut self) -> Caller {
        Caller {
            publisher: self.publisher.clone(),
            upload: self.upload.take(),
        }
    }
}

pub fn now_s() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// A request's failure before its action runs: CKAN's status and `error` dictionary, or
/// CKAN's bare 400 text.
#[derive(Debug)]
pub enum Refusal {
    BadRequest(String),
    Error(StatusCode, Value),
}

fn too_large(limit: u64) -> Refusal {
    Refusal::Error(
        StatusCode::PAYLOAD_TOO_LARGE,
        serde_json::json!({
            "__type": "Validation Error",
            "message": format!("The request is larger than {limit} bytes"),
        }),
    )
}

/// A POST's parameters and file: JSON, or `multipart/form-data` (an `upload` file field and
/// text fields).
pub async fn read_post(
    open: &OpenData,
    request: Request,
) -> Result<(Params, Option<Upload>), Refusal> {
    let limits = open.limits();
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    if multipart {
        let form = Multipart::from_request(request, &())
            .await
            .map_err(|e| Refusal::BadRequest(format!("Invalid form: {}", e.body_text())))?;
        return read_form(open, form).await;
    }
    let limit = usize::try_from(limits.json_body_max_bytes).unwrap_or(usize::MAX);
    let body = axum::body::to_bytes(request.into_body(), limit)
        .await
        .map_err(|_| too_large(limits.json_body_max_bytes))?;
    Params::from_json(&body)
        .map(|p| (p, None))
        .map_err(|detail| Refusal::BadRequest(format!("JSON Error: {detail}")))
}

async fn read_form(
    open: &OpenData,
    mut form: Multipart,
) -> Result<(Params, Option<Upload>), Refusal> {
    let limits = open.limits();
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut upload = None;
    let mut fields = 0_usize;
    let bad = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large(limits.upload_max_bytes)
        } else {
            Refusal::BadRequest(format!("Invalid form: {}", e.body_text()))
        }
    };
    while let Some(mut field) = form.next_field().await.map_err(bad)? {
        fields += 1;
        if fields > FORM_FIELDS_MAX {
            return Err(Refusal::BadRequest(format!(
                "At most {FORM_FIELDS_MAX} form fields are read"
            )));
        }
        let name = field.name().unwrap_or_default().to_owned();
        if name == "upload" && field.file_name().is_some() {
            if upload.is_some() {
                return Err(Refusal::BadRequest("One upload per request".into()));
            }
            let file_name = clean_file_name(field.file_name().unwrap_or_default());
            let mut incoming = open
                .files()
                .receive(limits.upload_max_bytes)
                .map_err(|e| internal(&e))?;
            while let Some(chunk) = field.chunk().await.map_err(bad)? {
                incoming.write(&chunk).map_err(|e| match e {
                    FileError::TooLarge(limit) => too_large(limit),
                    other => internal(&other),
                })?;
            }
            let stored = incoming.finish().await.map_err(|e| internal(&e))?;
            upload = Some(Upload { file_name, stored });
            continue;
        }
        let mut value = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(bad)? {
            if value.len() + chunk.len() > FORM_FIELD_MAX_BYTES {
                return Err(too_large(
                    u64::try_from(FORM_FIELD_MAX_BYTES).unwrap_or(u64::MAX),
                ));
            }
            value.extend_from_slice(&chunk);
        }
        let value = String::from_utf8(value)
            .map_err(|_| Refusal::BadRequest(format!("Form field {name} is not UTF-8")))?;
        pairs.push((name, value));
    }
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, value) in &pairs {
        query.append_pair(name, value);
    }
    Ok((Params::from_query(&query.finish()), upload))
}

fn internal(e: &dyn std::fmt::Display) -> Refusal {
    tracing::error!(error = %e, "open data upload failed");
    Refusal::Error(
        StatusCode::INTERNAL_SERVER_ERROR,
        serde_json::json!({ "__type": "Internal Server Error", "message": "Internal Server Error" }),
    )
}

/// The result of a write action, or `None` for a read action.
pub async fn run_write(
    open: &OpenData,
    action: Action,
    params: &Params,
    caller: Caller,
) -> Option<Result<Value, OpendataError>> {
    let dict = params.to_dict();
    let who = caller.publisher.as_ref();
    let now = now_s();
    let resource = |change| open.resource_write(who, change, &dict, caller.upload.clone(), now);
    Some(match action {
        Action::PackageCreate => open
            .package_create(who, &dict, now)
            .await
            .map(|p| ckan::package(&p)),
        Action::PackageUpdate => open
            .package_update(who, &dict, now)
            .await
            .map(|p| ckan::package(&p)),
        Action::PackagePatch => open
            .package_patch(who, &dict, now)
            .await
            .map(|p| ckan::package(&p)),
        Action::PackageDelete => match action::ShowArgs::parse(params) {
            Ok(args) => open
                .package_delete(who, &args.id, now)
                .await
                .map(|()| Value::Null),
            Err(faults) => Err(OpendataError::Invalid(faults)),
        },
        Action::ResourceShow => match action::ShowArgs::parse(params) {
            Ok(args) => open.resource_show(&args.id, who).await,
            Err(faults) => Err(OpendataError::Invalid(faults)),
        },
        Action::ResourceCreate => resource(ResourceChange::Create).await,
        Action::ResourceUpdate => resource(ResourceChange::Update).await,
        Action::ResourcePatch => resource(ResourceChange::Patch).await,
        Action::ResourceDelete => resource(ResourceChange::Delete).await,
        Action::OrganizationCreate => open
            .organization_create(who, &dict, now)
            .await
            .map(|o| ckan::organization(&o)),
        _ => return None,
    })
}

/// The write actions' documentation (`help_show`).
pub const fn help(action: Action) -> &'static str {
    match action {
        Action::PackageCreate => "Create a new dataset (package).\n\nYou must be authorized to create new datasets: an API token of a publisher who edits the organization given as ``owner_org``.\n\n:param name: the name of the new dataset: 2 to 100 lowercase alphanumeric characters, - and _\n:type name: string\n:param title: the title of the dataset (English); title_tc and title_sc the Chinese\n:type title: string\n:param notes: a description of the dataset; notes_tc and notes_sc the Chinese\n:type notes: string\n:param owner_org: the id or name of the dataset's organization\n:type owner_org: string\n:param private: whether the dataset is private (optional, default: False)\n:type private: bool\n:param license_id: the id of the dataset's license (optional)\n:type license_id: string\n:param groups: the categories, as dictionaries with a name (optional)\n:type groups: list of dictionaries\n:param tags: the tags, as dictionaries with a name (optional)\n:type tags: list of tag dictionaries\n:param resources: the dataset's resources (optional)\n:type resources: list of resource dictionaries\n:param extras: update_frequency, spatial_coverage, temporal_coverage_from/to and the Chinese texts (optional)\n:type extras: list of dataset extra dictionaries\n\n:returns: the newly created dataset\n:rtype: dictionary\n",
        Action::PackageUpdate => "Update a dataset (package).\n\nThe dataset is replaced by the one given: fields not given are cleared and resources not given are removed. Use package_patch to change only some fields.\n\n:param id: the id or name of the dataset to update\n:type id: string\n\n:returns: the updated dataset\n:rtype: dictionary\n",
        Action::PackagePatch => "Patch a dataset (package).\n\nOnly the fields given change; the others keep their values.\n\n:param id: the id or name of the dataset\n:type id: string\n\n:returns: the patched dataset\n:rtype: dictionary\n",
        Action::PackageDelete => "Delete a dataset (package).\n\nThe dataset's state becomes deleted; it is kept, and shown only to its publishers.\n\n:param id: the id or name of the dataset to delete\n:type id: string\n",
        Action::ResourceShow => "Return the metadata of a resource.\n\n:param id: the id of the resource\n:type id: string\n\n:rtype: dictionary\n",
        Action::ResourceCreate => "Append a new resource to a dataset.\n\nSend the file as multipart/form-data in a field named ``upload`` to store it here (url_type becomes upload), or give a ``url``.\n\n:param package_id: id of the package that the resource should be added to\n:type package_id: string\n:param url: url of resource (optional with an upload)\n:type url: string\n:param upload: the file (optional)\n:type upload: multipart file\n:param name: (optional)\n:type name: string\n:param format: CSV, JSON, XML, GeoJSON or API (optional with an upload whose name tells it)\n:type format: string\n\n:returns: the newly created resource\n:rtype: dictionary\n",
        Action::ResourceUpdate => "Update a resource.\n\nThe resource is replaced by the one given. A new upload adds a version of the file to the historical archive; no version is overwritten.\n\n:param id: the id of the resource to update\n:type id: string\n\n:returns: the updated resource\n:rtype: dictionary\n",
        Action::ResourcePatch => "Patch a resource.\n\nOnly the fields given change.\n\n:param id: the id of the resource\n:type id: string\n\n:returns: the patched resource\n:rtype: dictionary\n",
        Action::ResourceDelete => "Delete a resource from a dataset.\n\nIts uploaded files stay in the historical archive.\n\n:param id: the id of the resource\n:type id: string\n",
        Action::OrganizationCreate => "Create a new organization (data provider). Sysadmins only.\n\n:param name: the name of the organization\n:type name: string\n:param title: the title (English); title_tc and title_sc the Chinese\n:type title: string\n:param id: the id to give it (optional, a UUID)\n:type id: string\n\n:returns: the newly created organization\n:rtype: dictionary\n",
        _ => "",
    }
}

/// The download route of uploaded resources.
pub fn router(open: Arc<OpenData>) -> axum::Router {
    axum::Router::new()
        .route(
            "/dataset/{id}/resource/{rid}/download/{file}",
            axum::routing::get(download),
        )
        .with_state(open)
}

async fn download(
    State(open): State<Arc<OpenData>>,
    Path((id, rid, _file)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    match serve(&open, &id, &rid, &headers).await {
        Ok(response) => response,
        Err(e) => {
            if matches!(e, OpendataError::Store(_) | OpendataError::Io(_)) {
                tracing::error!(error = %e, "open data download failed");
            }
            let (status, error) = ckan::error(&e);
            let message = error
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("Not found")
                .to_owned();
            (
                status,
                [(header::CONTENT_TYPE, "text/plain;charset=utf-8")],
                message,
            )
                .into_response()
        }
    }
}

async fn serve(
    open: &OpenData,
    dataset: &str,
    resource: &str,
    headers: &HeaderMap,
) -> Result<Response, OpendataError> {
    let publisher = open
        .authenticate(crate::token::presented(headers).as_deref(), now_s())
        .await?;
    let package = open.package_for(dataset, publisher.as_ref()).await?;
    if !package.dataset.resources.iter().any(|r| r.id == resource) {
        return Err(OpendataError::NotFound(String::new()));
    }
    let version = open
        .store()
        .latest_file(resource)
        .await?
        .ok_or_else(|| OpendataError::NotFound(String::new()))?;
    file_response(open, &version, headers).await
}

/// A file version's bytes with its type, length and ETag (its SHA-256); 304 if the client has
/// it.
pub async fn file_response(
    open: &OpenData,
    version: &crate::store_write::FileVersion,
    headers: &HeaderMap,
) -> Result<Response, OpendataError> {
    let etag = format!("\"{}\"", version.sha256);
    let cached = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let etag_value = HeaderValue::from_str(&etag).map_err(|e| OpendataError::Io(e.to_string()))?;
    if cached {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag_value)]).into_response());
    }
    let bytes = open
        .files()
        .read(&version.sha256)
        .await
        .map_err(|e| OpendataError::Io(e.to_string()))?;
    let disposition = format!(
        "attachment; filename=\"{}\"",
        clean_file_name(&version.file_name)
    );
    let mut response = Response::new(Body::from(bytes));
    let h = response.headers_mut();
    let mimetype = HeaderValue::from_str(&version.mimetype)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    h.insert(header::CONTENT_TYPE, mimetype);
    h.insert(
        header::CONTENT_LENGTH,
        HeaderValue::from(version.size_bytes),
    );
    h.insert(header::ETAG, etag_value);
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    Ok(response)
}
