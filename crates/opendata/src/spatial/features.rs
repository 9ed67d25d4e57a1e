//! A GeoJSON upload, checked and made ready to serve: every feature parsed by the `geojson`
//! crate, every position converted to WGS84 and checked to be a longitude/latitude, ids made
//! unique, bounding boxes and times worked out, and each feature serialised once — the OGC API
//! then serves those bytes as they are, without parsing them again.
//!
//! Nothing here stores anything: a file with one bad feature is refused whole, with every fault
//! named by a JSON Pointer into the upload (`/features/3/geometry/coordinates`).

use std::collections::HashMap;

use bauhinia_core::FieldError;
use geojson::{Feature, GeometryValue, Position};
use serde_json::{Map, Value};

use super::crs::{Crs, ToWgs84};
use super::query::{parse_time, Bbox};

/// At most this many features in one collection.
pub const FEATURES_MAX: usize = 200_000;
/// At most this many properties are offered as filters (`?district=…`).
pub const QUERYABLES_MAX: usize = 32;
/// A property with more distinct values than this (a name, an address) is not offered as a
/// filter: filters are for categories, and their values are kept in memory once each.
pub const QUERYABLE_DISTINCT_MAX: usize = 1_024;
/// At most this many faults are reported for one upload; the first ones say enough.
pub const FAULTS_MAX: usize = 20;
/// A feature id is at most this long.
pub const FEATURE_ID_MAX_CHARS: usize = 256;
/// The property whose value is a feature's time, for the `datetime` filter.
pub const TEMPORAL_PROPERTY: &str = "datetime";
/// Query parameters of the items request: a property of these names cannot be a filter.
pub const RESERVED_PARAMETERS: [&str; 6] = ["f", "bbox", "bbox-crs", "limit", "offset", "datetime"];

/// A feature ready to store and serve.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedFeature {
    pub id: String,
    /// `None` for a feature without geometry (RFC 7946 allows it); no bbox query finds it.
    pub bbox: Option<Bbox>,
    /// The feature's `datetime` property, as Unix seconds.
    pub datetime_s: Option<i64>,
    /// The feature as served: GeoJSON in WGS84.
    pub geojson: String,
    /// Its value of each of the collection's queryables (in `Prepared::queryables` order).
    pub filters: Vec<Option<Scalar>>,
}

/// A checked upload: its features, its extent, its time span and the properties it can be
/// filtered by.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    pub features: Vec<PreparedFeature>,
    pub source_crs: Crs,
    pub extent: Option<Bbox>,
    pub interval: Option<(i64, i64)>,
    pub queryables: Vec<String>,
}

struct Faults(Vec<FieldError>);

impl Faults {
    fn add(&mut self, pointer: impl Into<String>, detail: impl Into<String>) {
        if self.0.len() < FAULTS_MAX {
            self.0.push(FieldError::new(pointer, detail));
        }
    }
    fn full(&self) -> bool {
        self.0.len() >= FAULTS_MAX
    }
}

/// Reads a GeoJSON FeatureCollection in `declared` CRS (or the one its legacy `crs` member
/// names, or CRS84 when neither says), converting it to WGS84.
pub fn prepare(bytes: &[u8], declared: Option<Crs>) -> Result<Prepared, Vec<FieldError>> {
    let top: Map<String, Value> = serde_json::from_slice(bytes)
        .map_err(|e| vec![FieldError::new("", format!("not a GeoJSON object: {e}"))])?;
    prepare_object(top, declared)
}

/// `prepare`, of a JSON object already parsed.
pub fn prepare_object(
    mut top: Map<String, Value>,
    declared: Option<Crs>,
) -> Result<Prepared, Vec<FieldError>> {
    match top.get("type").and_then(Value::as_str) {
        Some("FeatureCollection") => {}
        Some(other) => {
            return Err(vec![FieldError::new(
                "/type",
                format!("expected a FeatureCollection, found {other}"),
            )])
        }
        None => {
            return Err(vec![FieldError::new(
                "/type",
                "a GeoJSON FeatureCollection needs \"type\": \"FeatureCollection\"",
            )])
        }
    }
    let crs = source_crs(top.get("crs"), declared)?;
    let Some(Value::Array(features)) = top.remove("features") else {
        return Err(vec![FieldError::new(
            "/features",
            "a FeatureCollection needs a \"features\" array",
        )]);
    };
    if features.len() > FEATURES_MAX {
        return Err(vec![FieldError::new(
            "/features",
            format!("at most {FEATURES_MAX} features in one collection"),
        )]);
    }
    let convert = ToWgs84::new(crs).map_err(|e| vec![FieldError::new("/crs", e.to_string())])?;
    prepare_features(features, &convert)
}

fn source_crs(member: Option<&Value>, declared: Option<Crs>) -> Result<Crs, Vec<FieldError>> {
    let named = match member {
        None | Some(Value::Null) => None,
        Some(value) => {
            let name = value
                .get("properties")
                .and_then(|p| p.get("name"))
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    vec![FieldError::new(
                        "/crs/properties/name",
                        "a crs member names its CRS in properties.name",
                    )]
                })?;
            Some(Crs::parse(name).ok_or_else(|| {
                vec![FieldError::new(
                    "/crs/properties/name",
                    format!("{name} is not a CRS this server reads (CRS84, EPSG:4326, EPSG:2326)"),
                )]
            })?)
        }
    };
    match (named, declared) {
        (Some(named), Some(declared)) if named != declared => Err(vec![FieldError::new(
            "/crs",
            format!(
                "the file says {} but the upload says {}",
                named.as_str(),
                declared.as_str()
            ),
        )]),
        (Some(crs), _) | (None, Some(crs)) => Ok(crs),
        (None, None) => Ok(Crs::Crs84),
    }
}

fn prepare_features(features: Vec<Value>, convert: &ToWgs84) -> Result<Prepared, Vec<FieldError>> {
    let mut faults = Faults(Vec::new());
    let mut out = Vec::with_capacity(features.len());
    let mut seen: HashMap<String, usize> = HashMap::with_capacity(features.len());
    let mut scalar: HashMap<String, bool> = HashMap::new();
    let mut all_properties = Vec::with_capacity(features.len());
    for (i, value) in features.into_iter().enumerate() {
        if faults.full() {
            break;
        }
        let at = format!("/features/{i}");
        let mut feature: Feature = match serde_json::from_value(value) {
            Ok(feature) => feature,
            Err(e) => {
                faults.add(at, format!("not a GeoJSON Feature: {e}"));
                continue;
            }
        };
        let id = feature_id(&feature, i);
        if id.is_empty() || id.chars().count() > FEATURE_ID_MAX_CHARS {
            faults.add(
                format!("{at}/id"),
                format!("a feature id has 1 to {FEATURE_ID_MAX_CHARS} characters"),
            );
        } else if let Some(first) = seen.insert(id.clone(), i) {
            faults.add(
                format!("{at}/id"),
                format!("the id {id:?} is also feature {first}'s"),
            );
        }
        let bbox = match feature.geometry.as_mut() {
            Some(geometry) => {
                geometry.bbox = None;
                let mut bounds = Bounds::default();
                walk(
                    &mut geometry.value,
                    convert,
                    &mut bounds,
                    &mut faults,
                    &format!("{at}/geometry"),
                );
                bounds.bbox()
            }
            None => None,
        };
        let properties = feature.properties.get_or_insert_with(Map::new);
        note_scalars(properties, &mut scalar);
        let datetime_s = match properties.get(TEMPORAL_PROPERTY) {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) => match parse_time(text) {
                Some((start, _)) => Some(start),
                None => {
                    faults.add(
                        format!("{at}/properties/{TEMPORAL_PROPERTY}"),
                        "a datetime is an RFC 3339 date-time or a date (YYYY-MM-DD)",
                    );
                    None
                }
            },
            Some(_) => {
                faults.add(
                    format!("{at}/properties/{TEMPORAL_PROPERTY}"),
                    "a datetime is a string",
                );
                None
            }
        };
        feature.bbox = None;
        if feature.id.is_none() {
            feature.id = Some(geojson::feature::Id::Number((i + 1).into()));
        }
        let geojson = serde_json::to_string(&feature).unwrap_or_default();
        all_properties.push(feature.properties.take().unwrap_or_default());
        out.push(PreparedFeature {
            id,
            bbox,
            datetime_s,
            geojson,
            filters: Vec::new(),
        });
    }
    if !faults.0.is_empty() {
        return Err(faults.0);
    }
    Ok(summarise(out, &all_properties, convert.from(), &scalar))
}

fn summarise(
    mut features: Vec<PreparedFeature>,
    properties: &[Map<String, Value>],
    crs: Crs,
    scalar: &HashMap<String, bool>,
) -> Prepared {
    let extent = features
        .iter()
        .filter_map(|f| f.bbox)
        .reduce(|a, b| a.union(&b));
    let times = features.iter().filter_map(|f| f.datetime_s);
    let interval = times.clone().min().zip(times.max());
    let mut queryables: Vec<String> = scalar
        .iter()
        .filter(|(name, only_scalars)| {
            **only_scalars && !RESERVED_PARAMETERS.contains(&name.as_str())
        })
        .map(|(name, _)| name.clone())
        .collect();
    queryables.retain(|name| {
        let mut distinct = std::collections::HashSet::new();
        for value in properties
            .iter()
            .filter_map(|p| p.get(name).and_then(Scalar::of))
        {
            distinct.insert(value.key());
            if distinct.len() > QUERYABLE_DISTINCT_MAX {
                return false;
            }
        }
        true
    });
    queryables.sort();
    queryables.truncate(QUERYABLES_MAX);
    if !queryables.is_empty() {
        for (f, p) in features.iter_mut().zip(properties) {
            f.filters = values_of(p, &queryables);
        }
    }
    Prepared {
        features,
        source_crs: crs,
        extent,
        interval,
        queryables,
    }
}

/// Remembers, for each property name, whether every value seen is a string, number or boolean.
fn note_scalars(properties: &Map<String, Value>, scalar: &mut HashMap<String, bool>) {
    for (name, value) in properties {
        let is_scalar = matches!(
            value,
            Value::String(_) | Value::Number(_) | Value::Bool(_) | Value::Null
        );
        scalar
            .entry(name.clone())
            .and_modify(|s| *s &= is_scalar)
            .or_insert(is_scalar);
    }
}

/// The feature's id as served in URLs: its `id` member, or its position from 1.
pub fn feature_id(feature: &Feature, index: usize) -> String {
    match &feature.id {
        Some(geojson::feature::Id::String(s)) => s.clone(),
        Some(geojson::feature::Id::Number(n)) => n.to_string(),
        None => (index + 1).to_string(),
    }
}

#[derive(Debug, Default)]
struct Bounds(Option<Bbox>);

impl Bounds {
    fn add(&mut self, lon: f64, lat: f64) {
        let point = Bbox {
            min_x: lon,
            min_y: lat,
            max_x: lon,
            max_y: lat,
        };
        self.0 = Some(match self.0 {
            Some(b) => b.union(&point),
            None => point,
        });
    }
    fn bbox(&self) -> Option<Bbox> {
        self.0
    }
}

/// Converts a geometry's positions in place, checking each and each shape's rules.
fn walk(
    value: &mut GeometryValue,
    convert: &ToWgs84,
    bounds: &mut Bounds,
    faults: &mut Faults,
    at: &str,
) {
    let coordinates = format!("{at}/coordinates");
    match value {
        GeometryValue::Point { coordinates: p } => {
            position(p, convert, bounds, faults, &coordinates)
        }
        GeometryValue::MultiPoint { coordinates: ps } => {
            line(ps, 1, convert, bounds, faults, &coordinates);
        }
        GeometryValue::LineString { coordinates: ps } => {
            line(ps, 2, convert, bounds, faults, &coordinates);
        }
        GeometryValue::MultiLineString { coordinates: lines } => {
            for (i, ps) in lines.iter_mut().enumerate() {
                line(
                    ps,
                    2,
                    convert,
                    bounds,
                    faults,
                    &format!("{coordinates}/{i}"),
                );
            }
        }
        GeometryValue::Polygon { coordinates: rings } => {
            polygon(rings, convert, bounds, faults, &coordinates);
        }
        GeometryValue::MultiPolygon {
            coordinates: polygons,
        } => {
            for (i, rings) in polygons.iter_mut().enumerate() {
                polygon(
                    rings,
                    convert,
                    bounds,
                    faults,
                    &format!("{coordinates}/{i}"),
                );
            }
        }
        GeometryValue::GeometryCollection { geometries } => {
            for (i, g) in geometries.iter_mut().enumerate() {
                g.bbox = None;
                walk(
                    &mut g.value,
                    convert,
                    bounds,
                    faults,
                    &format!("{at}/geometries/{i}"),
                );
            }
        }
    }
}

fn polygon(
    rings: &mut [Vec<Position>],
    convert: &ToWgs84,
    bounds: &mut Bounds,
    faults: &mut Faults,
    at: &str,
) {
    if rings.is_empty() {
        faults.add(at, "a polygon has at least one ring");
    }
    for (i, ring) in rings.iter_mut().enumerate() {
        let at = format!("{at}/{i}");
        if ring.len() < 4 {
            faults.add(&at, "a polygon's ring has at least 4 positions");
            continue;
        }
        if ring.first().map(Position::as_slice) != ring.last().map(Position::as_slice) {
            faults.add(&at, "a polygon's ring ends where it starts");
            continue;
        }
        line(ring, 4, convert, bounds, faults, &at);
    }
}

fn line(
    positions: &mut [Position],
    at_least: usize,
    convert: &ToWgs84,
    bounds: &mut Bounds,
    faults: &mut Faults,
    at: &str,
) {
    if positions.len() < at_least {
        faults.add(at, format!("at least {at_least} positions"));
        return;
    }
    for (i, p) in positions.iter_mut().enumerate() {
        position(p, convert, bounds, faults, &format!("{at}/{i}"));
    }
}

/// Decimal places kept of a converted longitude/latitude: 1e-7° is about a centimetre.
const CONVERTED_SCALE: f64 = 1e7;

fn position(
    p: &mut Position,
    convert: &ToWgs84,
    bounds: &mut Bounds,
    faults: &mut Faults,
    at: &str,
) {
    let converted = matches!(convert.from(), Crs::Hk1980Grid);
    let xy = match p.as_slice_mut() {
        [x, y] | [x, y, _] => Some((x, y)),
        _ => None,
    };
    let Some((x, y)) = xy else {
        faults.add(at, "a position has 2 or 3 numbers");
        return;
    };
    match convert.convert(*x, *y) {
        Ok((lon, lat)) if (-180.0..=180.0).contains(&lon) && (-90.0..=90.0).contains(&lat) => {
            let (lon, lat) = if converted {
                (
                    (lon * CONVERTED_SCALE).round() / CONVERTED_SCALE,
                    (lat * CONVERTED_SCALE).round() / CONVERTED_SCALE,
                )
            } else {
                (lon, lat)
            };
            *x = lon;
            *y = lat;
            bounds.add(lon, lat);
        }
        Ok((lon, lat)) => faults.add(
            at,
            format!("({lon}, {lat}) is not a longitude and latitude in WGS84"),
        ),
        Err(e) => faults.add(at, e.to_string()),
    }
}

/// The property names and values an items request may filter on, of one feature.
pub fn filter_values(geojson: &str, queryables: &[String]) -> Vec<Option<Scalar>> {
    let parsed: Option<Map<String, Value>> = serde_json::from_str::<Value>(geojson)
        .ok()
        .and_then(|mut v| v.get_mut("properties").map(Value::take))
        .and_then(|p| match p {
            Value::Object(map) => Some(map),
            _ => None,
        });
    match parsed {
        Some(properties) => values_of(&properties, queryables),
        None => vec![None; queryables.len()],
    }
}

fn values_of(properties: &Map<String, Value>, queryables: &[String]) -> Vec<Option<Scalar>> {
    queryables
        .iter()
        .map(|name| properties.get(name).and_then(Scalar::of))
        .collect()
}

/// A property value a filter compares with.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    Text(Box<str>),
    Number(f64),
    Bool(bool),
}

impl Scalar {
    fn of(value: &Value) -> Option<Scalar> {
        match value {
            Value::String(s) => Some(Scalar::Text(s.as_str().into())),
            Value::Number(n) => n.as_f64().map(Scalar::Number),
            Value::Bool(b) => Some(Scalar::Bool(*b)),
            _ => None,
        }
    }

    /// The value as a key: equal keys, equal values.
    pub fn key(&self) -> String {
        match self {
            Scalar::Text(s) => format!("t{s}"),
            Scalar::Number(n) => format!("n{}", n.to_bits()),
            Scalar::Bool(b) => format!("b{b}"),
        }
    }

    /// Whether a query's text value `?name=text` equals this value.
    pub fn matches(&self, text: &str) -> bool {
        match self {
            Scalar::Text(s) => &**s == text,
            Scalar::Number(n) => text.parse::<f64>().is_ok_and(|t| t == *n),
            Scalar::Bool(b) => text.parse::<bool>().is_ok_and(|t| t == *b),
        }
    }
}
