//! The query parameters of OGC API – Features items requests, read from the raw query string:
//! `bbox` (four numbers, or six with heights that are ignored), `bbox-crs` (CRS84 only),
//! `limit` (1 to 10,000, default 10; larger values are served as 10,000), `offset`, `datetime`
//! (an instant or an interval, open ends as `..`), `f`, and one `name=value` filter per
//! queryable property of the collection. Any other parameter is refused, as Part 1 requires.
//!
//! Every fault names its parameter as a JSON Pointer (`/bbox`), and parsing never panics
//! whatever the input (proptests and the `opendata_ogc_params` fuzz target).

use bauhinia_core::FieldError;
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};

use super::crs::{Crs, CRS84};

pub const LIMIT_DEFAULT: u32 = 10;
pub const LIMIT_MAX: u32 = 10_000;
/// At most this many query parameters in one request.
pub const PARAMETERS_MAX: usize = 64;

/// A WGS84 bounding box, in degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bbox {
    pub min_x: f64,
    pub min_y: f64,
    pub max_x: f64,
    pub max_y: f64,
}

impl Bbox {
    pub fn union(&self, other: &Bbox) -> Bbox {
        Bbox {
            min_x: self.min_x.min(other.min_x),
            min_y: self.min_y.min(other.min_y),
            max_x: self.max_x.max(other.max_x),
            max_y: self.max_y.max(other.max_y),
        }
    }

    pub fn intersects(&self, other: &Bbox) -> bool {
        self.min_x <= other.max_x
            && other.min_x <= self.max_x
            && self.min_y <= other.max_y
            && other.min_y <= self.max_y
    }

    pub fn as_array(&self) -> [f64; 4] {
        [self.min_x, self.min_y, self.max_x, self.max_y]
    }
}

/// A time interval in Unix seconds, both ends included; `None` is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interval {
    pub start: Option<i64>,
    pub end: Option<i64>,
}

impl Interval {
    pub fn contains(&self, t: i64) -> bool {
        self.start.is_none_or(|s| s <= t) && self.end.is_none_or(|e| t <= e)
    }
}

/// The answer's format (`f`): only JSON (GeoJSON for features) is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Json,
}

/// A parsed items request.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemsQuery {
    pub bbox: Option<Bbox>,
    pub limit: u32,
    pub offset: u32,
    pub datetime: Option<Interval>,
    /// `(index into the collection's queryables, value)`.
    pub filters: Vec<(usize, String)>,
    /// The request's parameters other than `offset`, for the next and previous links.
    pub kept: Vec<(String, String)>,
}

/// The pairs of a query string, decoded.
pub fn pairs(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.as_bytes())
        .take(PARAMETERS_MAX + 1)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// Reads `f`: absent, `json` or `geojson` (case-insensitive).
pub fn output_format(value: Option<&str>) -> Result<OutputFormat, FieldError> {
    match value.map(str::to_ascii_lowercase).as_deref() {
        None | Some("json" | "geojson" | "application/json" | "application/geo+json") => {
            Ok(OutputFormat::Json)
        }
        Some(_) => Err(FieldError::new(
            "/f",
            "the formats served are json and geojson",
        )),
    }
}

/// Parameters of requests other than items: only `f` (`None` when it is not given).
pub fn parse_plain(query: &str) -> Result<Option<OutputFormat>, Vec<FieldError>> {
    let mut format = None;
    let mut faults = Vec::new();
    for (name, value) in pairs(query) {
        if name == "f" {
            if format.is_some() {
                faults.push(FieldError::new("/f", "given more than once"));
            }
            format = Some(value);
        } else {
            faults.push(FieldError::new(
                format!("/{name}"),
                "not a parameter of this request",
            ));
        }
    }
    let given = format.is_some();
    match output_format(format.as_deref()) {
        Ok(f) if faults.is_empty() => Ok(given.then_some(f)),
        Ok(_) => Err(faults),
        Err(e) => {
            faults.push(e);
            Err(faults)
        }
    }
}

/// Reads an items request's query string against the collection's queryable properties.
pub fn parse_items(query: &str, queryables: &[String]) -> Result<ItemsQuery, Vec<FieldError>> {
    let pairs = pairs(query);
    if pairs.len() > PARAMETERS_MAX {
        return Err(vec![FieldError::new(
            "",
            format!("at most {PARAMETERS_MAX} query parameters"),
        )]);
    }
    let mut faults = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    let mut out = ItemsQuery {
        bbox: None,
        limit: LIMIT_DEFAULT,
        offset: 0,
        datetime: None,
        filters: Vec::new(),
        kept: Vec::new(),
    };
    let mut bbox_crs = None;
    for (name, value) in &pairs {
        let at = format!("/{name}");
        if seen.contains(&name.as_str()) {
            faults.push(FieldError::new(at, "given more than once"));
            continue;
        }
        seen.push(name);
        if name != "offset" {
            out.kept.push((name.clone(), value.clone()));
        }
        let parsed = match name.as_str() {
            "f" => output_format(Some(value)).map(|_| ()),
            "bbox" => parse_bbox(value).map(|b| out.bbox = Some(b)),
            "bbox-crs" => parse_bbox_crs(value).map(|c| bbox_crs = Some(c)),
            "limit" => parse_limit(value).map(|l| out.limit = l),
            "offset" => parse_offset(value).map(|o| out.offset = o),
            "datetime" => parse_datetime(value).map(|d| out.datetime = Some(d)),
            _ => match queryables.iter().position(|q| q == name) {
                Some(i) => {
                    out.filters.push((i, value.clone()));
                    Ok(())
                }
                None => Err(FieldError::new(
                    &at,
                    format!(
                        "not a parameter of this collection's items; its queryable properties are: {}",
                        queryables.join(", ")
                    ),
                )),
            },
        };
        if let Err(fault) = parsed {
            faults.push(fault);
        }
    }
    if bbox_crs.is_some() && out.bbox.is_none() && faults.is_empty() {
        faults.push(FieldError::new(
            "/bbox-crs",
            "bbox-crs is given with a bbox",
        ));
    }
    if faults.is_empty() {
        Ok(out)
    } else {
        Err(faults)
    }
}

/// `minLon,minLat,maxLon,maxLat` (or with heights: `minLon,minLat,minH,maxLon,maxLat,maxH`).
pub fn parse_bbox(text: &str) -> Result<Bbox, FieldError> {
    let fault = |detail: &str| FieldError::new("/bbox", detail);
    let numbers: Vec<f64> = text
        .split(',')
        .map(|n| n.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| fault("a bbox is 4 (or 6) numbers separated by commas"))?;
    let [min_x, min_y, max_x, max_y] = match numbers.as_slice() {
        [a, b, c, d] | [a, b, _, c, d, _] => [*a, *b, *c, *d],
        _ => return Err(fault("a bbox is 4 (or 6) numbers separated by commas")),
    };
    if ![min_x, min_y, max_x, max_y].iter().all(|n| n.is_finite()) {
        return Err(fault("a bbox's numbers are finite"));
    }
    let lon = -180.0..=180.0;
    let lat = -90.0..=90.0;
    if !(lon.contains(&min_x)
        && lon.contains(&max_x)
        && lat.contains(&min_y)
        && lat.contains(&max_y))
    {
        return Err(fault(
            "a bbox is in longitude (-180 to 180) and latitude (-90 to 90)",
        ));
    }
    if min_y > max_y {
        return Err(fault(
            "a bbox's southern edge is not north of its northern edge",
        ));
    }
    if min_x > max_x {
        return Err(fault("a bbox crossing the antimeridian is not supported"));
    }
    Ok(Bbox {
        min_x,
        min_y,
        max_x,
        max_y,
    })
}

fn parse_bbox_crs(text: &str) -> Result<Crs, FieldError> {
    match Crs::parse(text) {
        Some(Crs::Crs84) if !text.contains("4326") => Ok(Crs::Crs84),
        _ => Err(FieldError::new(
            "/bbox-crs",
            format!("the bbox CRS served is {CRS84}"),
        )),
    }
}

fn parse_limit(text: &str) -> Result<u32, FieldError> {
    match text.trim().parse::<u64>() {
        Ok(0) | Err(_) => Err(FieldError::new(
            "/limit",
            format!("a limit is a whole number from 1 to {LIMIT_MAX}"),
        )),
        Ok(n) => Ok(u32::try_from(n).unwrap_or(LIMIT_MAX).min(LIMIT_MAX)),
    }
}

fn parse_offset(text: &str) -> Result<u32, FieldError> {
    text.trim()
        .parse::<u32>()
        .map_err(|_| FieldError::new("/offset", "an offset is a whole number from 0"))
}

/// An instant (`2024-05-01T08:00:00Z`, or a date, meaning that whole day) or an interval of
/// two, either end open as `..` or empty.
pub fn parse_datetime(text: &str) -> Result<Interval, FieldError> {
    let fault = || {
        FieldError::new(
            "/datetime",
            "a datetime is an RFC 3339 date-time or date, or an interval start/end with `..` \
             for an open end",
        )
    };
    match text.split_once('/') {
        None => {
            let (start, end) = parse_time(text).ok_or_else(fault)?;
            Ok(Interval {
                start: Some(start),
                end: Some(end),
            })
        }
        Some((from, to)) => {
            let end_of = |t: &str| -> Result<Option<(i64, i64)>, FieldError> {
                match t.trim() {
                    "" | ".." => Ok(None),
                    t => parse_time(t).map(Some).ok_or_else(fault),
                }
            };
            let start = end_of(from)?.map(|(s, _)| s);
            let end = end_of(to)?.map(|(_, e)| e);
            if let (Some(s), Some(e)) = (start, end) {
                if s > e {
                    return Err(FieldError::new(
                        "/datetime",
                        "an interval's start is not after its end",
                    ));
                }
            }
            Ok(Interval { start, end })
        }
    }
}

/// An RFC 3339 date-time (the instant twice) or a date (its first and last second), as Unix
/// seconds.
pub fn parse_time(text: &str) -> Option<(i64, i64)> {
    let text = text.trim();
    if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
        let s = t.unix_timestamp();
        return Some((s, s));
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = Date::parse(text, &format).ok()?;
    let start = date.midnight().assume_utc().unix_timestamp();
    Some((start, start + 86_399))
}
