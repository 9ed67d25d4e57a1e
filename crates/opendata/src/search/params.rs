//! `package_search`'s parameters, as CKAN's `default_package_search_schema` validates them:
//! `q`, `fq`, `fq_list`, `rows` (default 10, silently at most 1,000), `start`, `sort`, `facet`,
//! `facet.field` (a JSON list, or its text), `facet.limit` (default 50; negative: all),
//! `facet.mincount`, `include_private`. Others (`include_drafts`, `fl`, `defType`, …) are
//! tolerated and ignored. A bad value is CKAN's Validation Error naming the parameter; a bad
//! `sort` its Search Query Error; an unknown facet field its Search Error.

use serde_json::Value;

use super::facets::FacetField;
use super::query::{self, SortKey, FILTERS_MAX};
use crate::action::{boolean, natural, string, Faults, Params};
use crate::error::OpendataError;

/// CKAN's `ckan.search.rows_max`.
pub const ROWS_MAX: u32 = 1_000;
pub const ROWS_DEFAULT: u32 = 10;
/// CKAN's `search.facets.limit`.
pub const FACET_LIMIT_DEFAULT: u32 = 50;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageSearchArgs {
    pub q: String,
    /// `fq`, then each of `fq_list`: all must match.
    pub fq: Vec<String>,
    pub rows: u32,
    pub start: u32,
    pub sort: Vec<SortKey>,
    /// The sort as given (or CKAN's default), which the answer repeats.
    pub sort_text: String,
    pub facet: bool,
    /// None unless asked for, as CKAN.
    pub facet_fields: Vec<FacetField>,
    /// `None`: every value.
    pub facet_limit: Option<u32>,
    pub facet_mincount: u64,
    pub include_private: bool,
}

impl Default for PackageSearchArgs {
    fn default() -> PackageSearchArgs {
        PackageSearchArgs {
            q: String::new(),
            fq: Vec::new(),
            rows: ROWS_DEFAULT,
            start: 0,
            sort: query::default_sort().to_vec(),
            sort_text: query::DEFAULT_SORT.to_owned(),
            facet: true,
            facet_fields: Vec::new(),
            facet_limit: Some(FACET_LIMIT_DEFAULT),
            facet_mincount: 1,
            include_private: false,
        }
    }
}

/// An integer, negative too (`facet.limit`).
fn integer(value: Option<&Value>) -> Result<Option<i64>, &'static str> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_i64().map(Some).ok_or("Invalid integer"),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| "Invalid integer"),
        Some(_) => Err("Invalid integer"),
    }
}

/// A list of texts: a JSON list, or a text holding one (CKAN's `convert_to_json_if_string`).
fn text_list(value: Option<&Value>) -> Result<Option<Vec<String>>, &'static str> {
    let parsed;
    let list = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => {
            parsed =
                serde_json::from_str::<Value>(s).map_err(|_| "Could not parse as valid JSON")?;
            &parsed
        }
        Some(other) => other,
    };
    let Value::Array(items) = list else {
        return Err("Not a list");
    };
    items
        .iter()
        .map(|i| i.as_str().map(str::to_owned).ok_or("Not a string"))
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

impl PackageSearchArgs {
    pub fn parse(params: &Params) -> Result<PackageSearchArgs, OpendataError> {
        let mut faults = Faults::default();
        let q = faults.take("q", string(params.get("q"))).flatten();
        let fq = faults.take("fq", string(params.get("fq"))).flatten();
        let fq_list = faults
            .take("fq_list", text_list(params.get("fq_list")))
            .flatten();
        let rows = faults.take("rows", natural(params.get("rows"))).flatten();
        let start = faults.take("start", natural(params.get("start"))).flatten();
        let sort = faults.take("sort", string(params.get("sort"))).flatten();
        let facet = faults.take("facet", boolean(params.get("facet"))).flatten();
        let fields = faults.take("facet.field", text_list(params.get("facet.field")));
        let limit = faults.take("facet.limit", integer(params.get("facet.limit")));
        let mincount = faults.take("facet.mincount", natural(params.get("facet.mincount")));
        let private = faults.take("include_private", boolean(params.get("include_private")));
        for tolerated in ["include_drafts", "include_deleted", "use_default_schema"] {
            faults.take(tolerated, boolean(params.get(tolerated)));
        }
        let mut args = faults
            .finish(PackageSearchArgs::default())
            .map_err(OpendataError::Invalid)?;
        args.q = q.unwrap_or_default();
        args.fq = fq.into_iter().chain(fq_list.unwrap_or_default()).collect();
        if args.fq.len() > FILTERS_MAX {
            return Err(OpendataError::Search(format!(
                "at most {FILTERS_MAX} filter queries"
            )));
        }
        args.rows = rows.map_or(ROWS_DEFAULT, |r| r.min(ROWS_MAX));
        args.start = start.unwrap_or(0);
        if let Some(sort) = sort.filter(|s| !s.trim().is_empty()) {
            args.sort = query::parse_sort(&sort)
                .ok_or_else(|| OpendataError::SearchQuery("Invalid \"sort\" parameter".into()))?;
            args.sort_text = sort;
        }
        args.facet = facet.unwrap_or(true);
        if let Some(names) = fields.flatten() {
            args.facet_fields = names
                .iter()
                .map(|n| {
                    FacetField::parse(n)
                        .ok_or_else(|| OpendataError::Search(format!("undefined facet field {n}")))
                })
                .collect::<Result<_, _>>()?;
        }
        args.facet_limit = match limit.flatten() {
            None => Some(FACET_LIMIT_DEFAULT),
            Some(l) if l < 0 => None,
            Some(l) => Some(u32::try_from(l).unwrap_or(u32::MAX)),
        };
        args.facet_mincount = mincount.flatten().map_or(1, u64::from);
        args.include_private = private.flatten().unwrap_or(false);
        Ok(args)
    }
}
