//! Coordinate reference systems a GeoJSON upload may be in, and the one everything is served
//! in. RFC 7946 GeoJSON is always WGS84 longitude/latitude (OGC's CRS84); Hong Kong's
//! departments still publish many files in the HK1980 Grid (EPSG:2326), announced by the legacy
//! (2008) `crs` member. Those are converted on the way in, so the store and the OGC API only
//! ever hold CRS84.
//!
//! The conversion is proj4rs (a pure-Rust port of PROJ's transverse Mercator and its Helmert
//! datum shift) with EPSG:2326's definition: the HK1980 Grid's false origin and projection
//! (Survey and Mapping Office, *Explanatory Notes on Geodetic Datums in Hong Kong*) and the
//! seven-parameter shift from the Hong Kong 1980 datum to WGS84.

use proj4rs::proj::Proj;

/// OGC's name for WGS84 longitude/latitude, the only CRS the API serves.
pub const CRS84: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";

/// EPSG:2326 as PROJ defines it: the HK1980 Grid on the International 1924 ellipsoid, with
/// the seven-parameter (position vector) shift of the Hong Kong 1980 datum to WGS84.
const HK1980_GRID: &str = "+proj=tmerc +lat_0=22.31213333333334 +lon_0=114.1785555555556 \
     +k=1 +x_0=836694.05 +y_0=819069.8 +ellps=intl \
     +towgs84=-162.619,-276.959,-161.764,0.067753,-2.243648,-1.158828,-1.094246 \
     +units=m +no_defs";

const WGS84: &str = "+proj=longlat +datum=WGS84 +no_defs";

/// A coordinate reference system coordinates may arrive in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crs {
    /// WGS84 longitude, latitude (degrees): RFC 7946's and OGC's CRS84.
    Crs84,
    /// The HK1980 Grid, EPSG:2326: easting, northing (metres).
    Hk1980Grid,
}

impl Crs {
    /// Reads a CRS name as GeoJSON's legacy `crs` member, OGC's URIs and EPSG codes spell it:
    /// `urn:ogc:def:crs:EPSG::2326`, `EPSG:2326`, `http://www.opengis.net/def/crs/EPSG/0/2326`,
    /// `urn:ogc:def:crs:OGC:1.3:CRS84`, `EPSG:4326` (taken as longitude/latitude, the order
    /// GeoJSON always uses). `None` for anything else.
    pub fn parse(name: &str) -> Option<Crs> {
        let name = name.trim();
        let lower = name.to_ascii_lowercase();
        let crs84 = [
            "urn:ogc:def:crs:ogc:1.3:crs84",
            "urn:ogc:def:crs:ogc::crs84",
            "http://www.opengis.net/def/crs/ogc/1.3/crs84",
            "https://www.opengis.net/def/crs/ogc/1.3/crs84",
            "crs84",
        ];
        if crs84.contains(&lower.as_str()) {
            return Some(Crs::Crs84);
        }
        let code = lower
            .strip_prefix("urn:ogc:def:crs:epsg::")
            .or_else(|| lower.strip_prefix("urn:ogc:def:crs:epsg:6.18.3:"))
            .or_else(|| lower.strip_prefix("http://www.opengis.net/def/crs/epsg/0/"))
            .or_else(|| lower.strip_prefix("https://www.opengis.net/def/crs/epsg/0/"))
            .or_else(|| lower.strip_prefix("epsg:"))?;
        match code {
            "4326" => Some(Crs::Crs84),
            "2326" => Some(Crs::Hk1980Grid),
            _ => None,
        }
    }

    /// The name stored and shown for this CRS.
    pub fn as_str(self) -> &'static str {
        match self {
            Crs::Crs84 => CRS84,
            Crs::Hk1980Grid => "http://www.opengis.net/def/crs/EPSG/0/2326",
        }
    }
}

/// Converts positions of one CRS to WGS84 longitude/latitude in degrees.
#[derive(Debug)]
pub struct ToWgs84 {
    from: Crs,
    projections: Option<(Proj, Proj)>,
}

/// A position could not be converted (outside the projection's domain).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the position cannot be converted to WGS84: {0}")]
pub struct ConvertError(pub String);

impl ToWgs84 {
    pub fn new(from: Crs) -> Result<ToWgs84, ConvertError> {
        let projections = match from {
            Crs::Crs84 => None,
            Crs::Hk1980Grid => Some((
                Proj::from_proj_string(HK1980_GRID).map_err(|e| ConvertError(e.to_string()))?,
                Proj::from_proj_string(WGS84).map_err(|e| ConvertError(e.to_string()))?,
            )),
        };
        Ok(ToWgs84 { from, projections })
    }

    pub fn from(&self) -> Crs {
        self.from
    }

    /// `(x, y)` in the source CRS (easting, northing for the grid) to `(longitude, latitude)`.
    pub fn convert(&self, x: f64, y: f64) -> Result<(f64, f64), ConvertError> {
        let Some((grid, wgs84)) = &self.projections else {
            return Ok((x, y));
        };
        let mut point = (x, y, 0.0);
        proj4rs::transform::transform(grid, wgs84, &mut point)
            .map_err(|e| ConvertError(e.to_string()))?;
        let (lon, lat) = (point.0.to_degrees(), point.1.to_degrees());
        if lon.is_finite() && lat.is_finite() {
            Ok((lon, lat))
        } else {
            Err(ConvertError(format!("({x}, {y}) is outside the grid")))
        }
    }
}

/// WGS84 longitude/latitude back to the HK1980 Grid: the inverse, for tests and for
/// callers that must show grid coordinates.
pub fn wgs84_to_hk1980(lon: f64, lat: f64) -> Result<(f64, f64), ConvertError> {
    let grid = Proj::from_proj_string(HK1980_GRID).map_err(|e| ConvertError(e.to_string()))?;
    let wgs84 = Proj::from_proj_string(WGS84).map_err(|e| ConvertError(e.to_string()))?;
    let mut point = (lon.to_radians(), lat.to_radians(), 0.0);
    proj4rs::transform::transform(&wgs84, &grid, &mut point)
        .map_err(|e| ConvertError(e.to_string()))?;
    Ok((point.0, point.1))
}
