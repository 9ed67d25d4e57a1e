//! The historical archive API, in the shape of DATA.GOV.HK's
//! (`https://api.data.gov.hk/v1/historical-archive/…`), served here at
//! `/v1/historical-archive/{list-files, list-file-versions, get-file}`: every version of every
//! uploaded file, by period, category, provider and format. Dates are `YYYYMMDD` and times
//! `YYYYMMDD-HHMM`, in Hong Kong time (UTC+8), as DATA.GOV.HK's. Only public, active datasets'
//! files are listed and served.
//!
//! Bad parameters are answered with problem+json (`opendata.archive_parameter_invalid`, naming
//! each), not CKAN's envelope: this is not the Action API.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use bauhinia_core::{ErrorCode, FieldError, Problem};
use serde_json::{json, Value};
use time::{Date, PrimitiveDateTime, Time, UtcOffset};

use crate::domain::category;
use crate::service::OpenData;
use crate::store_write::FileFilter;

/// `list-files` answers at most this many files at once (`max`).
pub const LIST_FILES_MAX: u32 = 1_000;
/// `list-files` without `max`.
pub const LIST_FILES_DEFAULT: u32 = 100;
/// A period is at most this many days long.
pub const PERIOD_DAYS_MAX: i64 = 366 * 200;

const HONG_KONG: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(offset) => offset,
    Err(_) => UtcOffset::UTC,
};

/// A period of whole days, as Unix seconds `[from_s, to_s)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from_s: i64,
    pub to_s: i64,
}

/// `list-files`' parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListFiles {
    pub filter: FileFilter,
}

/// `list-file-versions`' parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListVersions {
    pub url: String,
    pub period: Period,
}

/// `get-file`'s parameters: the version current at the end of the minute `time`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetFile {
    pub url: String,
    pub before_s: i64,
}

fn pairs(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.as_bytes())
        .take(crate::action::PARAMS_MAX)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn value<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// A day as `YYYYMMDD`.
pub fn day(text: &str) -> Result<Date, String> {
    let format = time::macros::format_description!("[year][month][day]");
    if text.len() != 8 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err("Must be a date as YYYYMMDD".into());
    }
    Date::parse(text, format).map_err(|_| "Must be a date as YYYYMMDD".into())
}

/// A minute as `YYYYMMDD-HHMM`, Hong Kong time, to Unix seconds.
pub fn minute(text: &str) -> Result<i64, String> {
    let bad = || "Must be a time as YYYYMMDD-HHMM".to_owned();
    let (date, hhmm) = text.split_once('-').ok_or_else(bad)?;
    let date = day(date).map_err(|_| bad())?;
    if hhmm.len() != 4 || !hhmm.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let hour: u8 = hhmm.get(..2).and_then(|h| h.parse().ok()).ok_or_else(bad)?;
    let min: u8 = hhmm.get(2..).and_then(|m| m.parse().ok()).ok_or_else(bad)?;
    let time = Time::from_hms(hour, min, 0).map_err(|_| bad())?;
    Ok(PrimitiveDateTime::new(date, time)
        .assume_offset(HONG_KONG)
        .unix_timestamp())
}

/// A Unix time as `YYYYMMDD-HHMM`, Hong Kong time.
pub fn timestamp(unix_s: i64) -> String {
    let format = time::macros::format_description!("[year][month][day]-[hour][minute]");
    time::OffsetDateTime::from_unix_timestamp(unix_s)
        .map(|t| t.to_offset(HONG_KONG))
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_default()
}

fn start_of(date: Date) -> i64 {
    PrimitiveDateTime::new(date, Time::MIDNIGHT)
        .assume_offset(HONG_KONG)
        .unix_timestamp()
}

fn period(pairs: &[(String, String)], faults: &mut Vec<FieldError>) -> Option<Period> {
    let mut one = |key: &str| match value(pairs, key).map(day) {
        None => {
            faults.push(FieldError::new(format!("/{key}"), "Missing value"));
            None
        }
        Some(Err(e)) => {
            faults.push(FieldError::new(format!("/{key}"), e));
            None
        }
        Some(Ok(d)) => Some(d),
    };
    let start = one("start");
    let end = one("end");
    let (start, end) = (start?, end?);
    if end < start {
        faults.push(FieldError::new("/end", "Must not be before start"));
        return None;
    }
    if (end - start).whole_days() > PERIOD_DAYS_MAX {
        faults.push(FieldError::new(
            "/end",
            format!("The period is at most {PERIOD_DAYS_MAX} days"),
        ));
        return None;
    }
    Some(Period {
        from_s: start_of(start),
        to_s: start_of(end) + 86_400,
    })
}

fn count(
    pairs: &[(String, String)],
    key: &str,
    default: u32,
    max: u32,
    faults: &mut Vec<FieldError>,
) -> u32 {
    match value(pairs, key).map(str::parse::<u32>) {
        None => default,
        Some(Ok(n)) if n <= max => n,
        Some(_) => {
            faults.push(FieldError::new(
                format!("/{key}"),
                format!("Must be a whole number from 0 to {max}"),
            ));
            default
        }
    }
}

fn url(pairs: &[(String, String)], faults: &mut Vec<FieldError>) -> String {
    match value(pairs, "url") {
        Some(u) if u.len() <= crate::domain::URL_LENGTH_MAX => u.to_owned(),
        Some(_) => {
            faults.push(FieldError::new("/url", "Must be at most 2048 bytes long"));
            String::new()
        }
        None => {
            faults.push(FieldError::new("/url", "Missing value"));
            String::new()
        }
    }
}

impl ListFiles {
    pub fn parse(query: &str) -> Result<ListFiles, Vec<FieldError>> {
        let pairs = pairs(query);
        let mut faults = Vec::new();
        let period = period(&pairs, &mut faults);
        let category = value(&pairs, "category").map(str::to_owned);
        if let Some(c) = &category {
            if category::find(c).is_none() {
                faults.push(FieldError::new("/category", "Not one of the 19 categories"));
            }
        }
        let provider = value(&pairs, "provider").map(str::to_owned);
        if let Some(p) = &provider {
            if let Err(e) = crate::domain::Name::parse(p) {
                faults.push(FieldError::new("/provider", e));
            }
        }
        let format = value(&pairs, "format").map(str::to_owned);
        let max = count(
            &pairs,
            "max",
            LIST_FILES_DEFAULT,
            LIST_FILES_MAX,
            &mut faults,
        );
        let skip = count(&pairs, "skip", 0, u32::MAX, &mut faults);
        match period {
            Some(p) if faults.is_empty() => Ok(ListFiles {
                filter: FileFilter {
                    from_s: p.from_s,
                    to_s: p.to_s,
                    category,
                    provider,
                    format,
                    max,
                    skip,
                },
            }),
            _ => Err(faults),
        }
    }
}

impl ListVersions {
    pub fn parse(query: &str) -> Result<ListVersions, Vec<FieldError>> {
        let pairs = pairs(query);
        let mut faults = Vec::new();
        let url = url(&pairs, &mut faults);
        let period = period(&pairs, &mut faults);
        match period {
            Some(period) if faults.is_empty() => Ok(ListVersions { url, period }),
            _ => Err(faults),
        }
    }
}

impl GetFile {
    pub fn parse(query: &str) -> Result<GetFile, Vec<FieldError>> {
        let pairs = pairs(query);
        let mut faults = Vec::new();
        let url = url(&pairs, &mut faults);
        let before_s = match value(&pairs, "time").map(minute) {
            None => {
                faults.push(FieldError::new("/time", "Missing value"));
                None
            }
            Some(Err(e)) => {
                faults.push(FieldError::new("/time", e));
                None
            }
            Some(Ok(t)) => Some(t + 60),
        };
        match before_s {
            Some(before_s) if faults.is_empty() => Ok(GetFile { url, before_s }),
            _ => Err(faults),
        }
    }
}

pub fn router(open: Arc<OpenData>) -> Router {
    Router::new()
        .route("/v1/historical-archive/list-files", get(list_files))
        .route(
            "/v1/historical-archive/list-file-versions",
            get(list_file_versions),
        )
        .route("/v1/historical-archive/get-file", get(get_file))
        .with_state(open)
}

fn invalid(faults: Vec<FieldError>) -> Response {
    Problem::new(ErrorCode::OpendataArchiveParameterInvalid)
        .errors(faults)
        .into_response()
}

fn failed(e: &dyn std::fmt::Display) -> Response {
    Problem::internal(e).into_response()
}

async fn list_files(State(open): State<Arc<OpenData>>, RawQuery(query): RawQuery) -> Response {
    let args = match ListFiles::parse(query.as_deref().unwrap_or_default()) {
        Ok(args) => args,
        Err(faults) => return invalid(faults),
    };
    let (files, total) = match open.store().archived_files(&args.filter).await {
        Ok(found) => found,
        Err(e) => return failed(&e),
    };
    let mut out = Vec::with_capacity(files.len());
    for f in files {
        let dataset = match open.store().dataset(&f.dataset).await {
            Ok(d) => d,
            Err(e) => return failed(&e),
        };
        let mut entry = json!({
            "url": f.url,
            "format": f.format,
            "num-of-versions": f.versions,
            "last-updated": timestamp(f.last_uploaded_at_s),
            "dataset-id": f.dataset,
            "resource-id": f.resource,
        });
        if let (Some(d), Value::Object(map)) = (dataset, &mut entry) {
            map.insert("dataset-name".into(), json!(d.name.as_str()));
            map.insert("dataset-name-en".into(), json!(d.title.en));
            map.insert("dataset-name-tc".into(), json!(d.title.zh_hant));
            map.insert("dataset-name-sc".into(), json!(d.title.zh_hans));
            map.insert("provider".into(), json!(d.organization.as_str()));
            let categories: Vec<&str> = d.groups.iter().map(|g| g.as_str()).collect();
            map.insert("category".into(), json!(categories));
            if let Some(r) = d.resources.iter().find(|r| r.id == f.resource) {
                map.insert("resource-name-en".into(), json!(r.name.en));
                map.insert("resource-name-tc".into(), json!(r.name.zh_hant));
                map.insert("resource-name-sc".into(), json!(r.name.zh_hans));
            }
        }
        out.push(entry);
    }
    Json(json!({ "files": out, "total": total })).into_response()
}

async fn list_file_versions(
    State(open): State<Arc<OpenData>>,
    RawQuery(query): RawQuery,
) -> Response {
    let args = match ListVersions::parse(query.as_deref().unwrap_or_default()) {
        Ok(args) => args,
        Err(faults) => return invalid(faults),
    };
    let versions = match open
        .store()
        .file_versions(&args.url, args.period.from_s, args.period.to_s)
        .await
    {
        Ok(v) => v,
        Err(e) => return failed(&e),
    };
    let mut visible = Vec::with_capacity(versions.len());
    for v in versions {
        match public(&open, &v.dataset).await {
            Ok(true) => visible.push(timestamp(v.uploaded_at_s)),
            Ok(false) => {}
            Err(e) => return failed(&e),
        }
    }
    Json(json!({ "version-count": visible.len(), "timestamps": visible })).into_response()
}

async fn public(open: &OpenData, dataset: &str) -> Result<bool, bauhinia_store::StoreError> {
    Ok(open
        .store()
        .dataset(dataset)
        .await?
        .is_some_and(|d| d.is_public()))
}

async fn get_file(
    State(open): State<Arc<OpenData>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let args = match GetFile::parse(query.as_deref().unwrap_or_default()) {
        Ok(args) => args,
        Err(faults) => return invalid(faults),
    };
    let version = match open.store().file_version_at(&args.url, args.before_s).await {
        Ok(Some(v)) => v,
        Ok(None) => return Problem::new(ErrorCode::OpendataArchiveFileNotFound).into_response(),
        Err(e) => return failed(&e),
    };
    match public(&open, &version.dataset).await {
        Ok(true) => {}
        Ok(false) => return Problem::new(ErrorCode::OpendataArchiveFileNotFound).into_response(),
        Err(e) => return failed(&e),
    }
    match crate::http_write::file_response(&open, &version, &headers).await {
        Ok(response) => response,
        Err(e) => failed(&e),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn days_and_minutes() {
        assert_eq!(minute("20240101-0000").unwrap(), 1_704_038_400);
        assert_eq!(timestamp(1_704_038_400), "20240101-0000");
        for bad in ["2024-01-01", "20241301", "2024010", "+2024011", "20240230"] {
            assert!(day(bad).is_err(), "{bad}");
        }
        for bad in [
            "20240101",
            "20240101-2400",
            "20240101-12",
            "20240101-1a00",
            "x-1200",
        ] {
            assert!(minute(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn list_files_parameters() {
        let args =
            ListFiles::parse("start=20240101&end=20240102&category=transport&max=5").unwrap();
        assert_eq!(args.filter.to_s - args.filter.from_s, 2 * 86_400);
        assert_eq!(args.filter.max, 5);
        assert_eq!(args.filter.category.as_deref(), Some("transport"));
        let faults = ListFiles::parse("start=2024&category=x&max=5000").unwrap_err();
        let pointers: Vec<&str> = faults.iter().map(|f| f.pointer.as_str()).collect();
        assert_eq!(pointers, ["/start", "/end", "/category", "/max"]);
        let faults = ListFiles::parse("start=20240102&end=20240101").unwrap_err();
        assert_eq!(faults.first().unwrap().pointer, "/end");
        assert!(GetFile::parse("url=x").is_err());
        assert_eq!(
            GetFile::parse("url=x&time=20240101-0000").unwrap().before_s,
            1_704_038_460
        );
    }
}
