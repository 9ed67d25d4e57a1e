//! The demo's synthetic spatial layers, labelled synthetic in every title and description:
//! 42,000 Wi-Fi.HK hotspots and 950 smart lampposts, the counts the Innovation and Technology
//! fact sheet (February 2026) gives, placed on land (`land`) by a seeded generator — the same
//! points on every installation. The lampposts are made in the HK1980 Grid, as the Highways
//! Department publishes street furniture, so the demo goes through the grid's conversion.

use bauhinia_core::FieldError;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

use super::crs::{wgs84_to_hk1980, Crs};
use super::features::{prepare_object, Prepared};
use super::land::{self, LandArea, LAND};
use crate::domain::{DatasetDraft, OrgKind, Organization, ResourceDraft, TextDraft};
use crate::error::OpendataError;
use crate::service::OpenData;

const ACTOR: &str = "system:demo";

/// The fact sheet's count of Wi-Fi.HK hotspots.
pub const HOTSPOTS: usize = 42_000;
/// Smart lampposts: the fact sheet says "over 900".
pub const LAMPPOSTS: usize = 950;
const HOTSPOTS_SEED: u64 = 0x5769_4669_2e48_4b00;
const LAMPPOSTS_SEED: u64 = 0x4c61_6d70_706f_7374;

/// The fact sheet's sentences, verbatim (bold marks left out).
pub const HOTSPOTS_SOURCE: &str = "Wi-Fi 连通城市计划推广「Wi-Fi. HK」通用品牌。现时全港共有约 42,000 个由公私营机构提供的「Wi-Fi. HK」热点。";
pub const LAMPPOSTS_SOURCE: &str = "已安装超过 900 支智慧灯柱，并为政府部门提供新一代政府云端基础设施、大数据分析平台和共享区块链平台，以加强公共服务。";

pub const HOTSPOTS_DATASET: &str = "hk-ogcio-wifi-hk-hotspots-synthetic";
pub const LAMPPOSTS_DATASET: &str = "hk-ogcio-smart-lampposts-synthetic";

/// A venue type: English, 繁體, 简体, and how often it hosts a hotspot.
type Venue = (&'static str, &'static str, &'static str, u32);

const VENUES: [Venue; 12] = [
    ("Public library", "公共圖書館", "公共图书馆", 6),
    ("Park", "公園", "公园", 10),
    ("Sports centre", "體育館", "体育馆", 6),
    ("Community hall", "社區會堂", "社区会堂", 6),
    ("Government office", "政府辦公大樓", "政府办公大楼", 5),
    ("Cooked food market", "街市熟食中心", "街市熟食中心", 5),
    (
        "Public transport interchange",
        "公共運輸交匯處",
        "公共运输交汇处",
        8,
    ),
    ("Shopping mall", "商場", "商场", 18),
    ("Restaurant and café", "餐廳及咖啡店", "餐厅及咖啡店", 16),
    ("Public housing estate", "公共屋邨", "公共屋邨", 10),
    ("Hospital and clinic", "醫院及診所", "医院及诊所", 4),
    (
        "Museum and cultural venue",
        "博物館及文化場地",
        "博物馆及文化场地",
        6,
    ),
];

/// Who runs the hotspot: English, 繁體, 简体, weight.
const OPERATORS: [(&str, &str, &str, u32); 3] = [
    ("Government", "政府", "政府", 30),
    ("Public organisation", "公營機構", "公营机构", 15),
    ("Private organisation", "私營機構", "私营机构", 55),
];

const SENSORS: [&str; 6] = [
    "camera",
    "weather",
    "air-quality",
    "bluetooth-beacon",
    "radio-frequency-identification",
    "wi-fi",
];

fn pick<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T], weight: impl Fn(&T) -> u32) -> Option<&'a T> {
    let total: u32 = items.iter().map(&weight).sum();
    let mut n = rng.next_u32() % total.max(1);
    for item in items {
        let w = weight(item);
        if n < w {
            return Some(item);
        }
        n -= w;
    }
    items.last()
}

fn unit(rng: &mut ChaCha8Rng) -> f64 {
    f64::from(rng.next_u32()) / f64::from(u32::MAX)
}

/// Margin kept from the land polygons' edges (degrees, about 20 m), so conversions and
/// rounding never move a point into the sea.
const EDGE_MARGIN_DEG: f64 = 0.0002;

/// A point on land, drawn area by area in proportion to their weights.
pub fn land_point(rng: &mut ChaCha8Rng) -> Option<(f64, f64)> {
    let area: &LandArea = pick(rng, &LAND, |a| a.weight)?;
    let [w, s, e, n] = land::ring_bbox(area.ring);
    for _ in 0..10_000 {
        let lon = w + (e - w) * unit(rng);
        let lat = s + (n - s) * unit(rng);
        let m = EDGE_MARGIN_DEG;
        let clear = [(0.0, 0.0), (m, 0.0), (-m, 0.0), (0.0, m), (0.0, -m)]
            .iter()
            .all(|(dx, dy)| land::in_ring(area.ring, lon + dx, lat + dy));
        if clear {
            return Some((round(lon, 1e6), round(lat, 1e6)));
        }
    }
    None
}

fn round(x: f64, scale: f64) -> f64 {
    (x * scale).round() / scale
}

/// The hotspots, as a GeoJSON FeatureCollection in CRS84.
pub fn hotspots(count: usize) -> Value {
    let mut rng = ChaCha8Rng::seed_from_u64(HOTSPOTS_SEED);
    let features: Vec<Value> = (1..=count)
        .filter_map(|n| {
            let (lon, lat) = land_point(&mut rng)?;
            let (d_en, d_tc, d_sc, _) = land::district_of(lon, lat)?;
            let (v_en, v_tc, v_sc, _) = pick(&mut rng, &VENUES, |v| v.3)?;
            let (o_en, o_tc, o_sc, _) = pick(&mut rng, &OPERATORS, |o| o.3)?;
            let number = rng.next_u32() % 40 + 1;
            Some(json!({
                "type": "Feature",
                "id": format!("WIFIHK-{n:05}"),
                "geometry": { "type": "Point", "coordinates": [lon, lat] },
                "properties": {
                    "name_en": format!("{d_en} {v_en} {number} (synthetic)"),
                    "name_zh_hant": format!("{d_tc}{v_tc} {number}（合成）"),
                    "name_zh_hans": format!("{d_sc}{v_sc} {number}（合成）"),
                    "venue_type_en": v_en,
                    "venue_type_zh_hant": v_tc,
                    "venue_type_zh_hans": v_sc,
                    "district_en": d_en,
                    "district_zh_hant": d_tc,
                    "district_zh_hans": d_sc,
                    "operator_type_en": o_en,
                    "operator_type_zh_hant": o_tc,
                    "operator_type_zh_hans": o_sc,
                    "ssid": "Wi-Fi.HK",
                    "synthetic": true,
                },
            }))
        })
        .collect();
    json!({ "type": "FeatureCollection", "features": features })
}

/// The lampposts, as a GeoJSON FeatureCollection in the HK1980 Grid (its legacy `crs` member
/// says so).
pub fn lampposts(count: usize) -> Value {
    let mut rng = ChaCha8Rng::seed_from_u64(LAMPPOSTS_SEED);
    // Smart lampposts were installed from mid-2019 (the first batch in Kwun Tong) on.
    let first_s = 1_559_347_200_i64; // 2019-06-01
    let span_s = 1_767_139_200_i64 - first_s; // to 2025-12-31
    let features: Vec<Value> = (1..=count)
        .filter_map(|n| {
            let (lon, lat) = land_point(&mut rng)?;
            let (d_en, d_tc, d_sc, _) = land::district_of(lon, lat)?;
            let (e, north) = wgs84_to_hk1980(lon, lat).ok()?;
            let sensors: Vec<&str> = SENSORS
                .iter()
                .filter(|_| rng.next_u32() % 2 == 0)
                .copied()
                .collect();
            let installed_s = first_s + i64::from(rng.next_u32()) % span_s;
            let installed = time::OffsetDateTime::from_unix_timestamp(installed_s)
                .ok()?
                .date()
                .to_string();
            Some(json!({
                "type": "Feature",
                "id": format!("SLP-{n:04}"),
                "geometry": { "type": "Point", "coordinates": [round(e, 1e3), round(north, 1e3)] },
                "properties": {
                    "lamppost_id": format!("SLP-{n:04}"),
                    "district_en": d_en,
                    "district_zh_hant": d_tc,
                    "district_zh_hans": d_sc,
                    "sensors": sensors,
                    "sensor_count": sensors.len(),
                    "datetime": installed,
                    "synthetic": true,
                },
            }))
        })
        .collect();
    json!({
        "type": "FeatureCollection",
        "crs": { "type": "name", "properties": { "name": "urn:ogc:def:crs:EPSG::2326" } },
        "features": features,
    })
}

fn ogcio() -> Option<Organization> {
    Some(Organization {
        id: uuid::Uuid::new_v4().to_string(),
        name: crate::domain::stored_name("hk-ogcio")?,
        kind: OrgKind::Department,
        title: bauhinia_core::Localized {
            en: "Office of the Government Chief Information Officer".into(),
            zh_hant: "政府資訊科技總監辦公室".into(),
            zh_hans: "政府资讯科技总监办公室".into(),
        },
        description: bauhinia_core::Localized {
            en: "Datasets published by the Office of the Government Chief Information Officer (Wi-Fi.HK, smart lampposts).".into(),
            zh_hant: "政府資訊科技總監辦公室發布的數據集（Wi-Fi.HK、智慧燈柱）。".into(),
            zh_hans: "政府资讯科技总监办公室发布的数据集（Wi-Fi.HK、智慧灯柱）。".into(),
        },
        url: Some("https://www.ogcio.gov.hk".into()),
        created_s: 0,
    })
}

/// A synthetic layer's dataset: its draft and the GeoJSON resource it publishes.
struct Layer {
    draft: DatasetDraft,
    resource: ResourceDraft,
    geojson: fn(usize) -> Value,
    count: usize,
    crs: Crs,
}

impl Layer {
    /// The layer as `publish_prepared` takes it, made through the same checks as an upload, on
    /// a blocking thread (it is a second of CPU for the hotspots). Nothing is kept once it is
    /// published: a process holds the generated GeoJSON only while it publishes it.
    async fn prepared(&self) -> Result<Prepared, OpendataError> {
        let (geojson, count, crs) = (self.geojson, self.count, self.crs);
        let prepared = tokio::task::spawn_blocking(move || match geojson(count) {
            Value::Object(top) => prepare_object(top, Some(crs)),
            _ => Err(vec![FieldError::new("", "not a GeoJSON object")]),
        })
        .await
        .map_err(|e| OpendataError::Io(format!("preparing a synthetic layer: {e}")))?;
        prepared.map_err(OpendataError::Invalid)
    }
}

fn layers(site_url: &str) -> [Layer; 2] {
    let items = |name: &str| format!("{site_url}/ogc/collections/{name}/items?f=json&limit=100");
    let draft = |name: &str, title: TextDraft, notes: TextDraft, tags: &[&str], frequency: &str| {
        DatasetDraft {
            name: name.to_owned(),
            title,
            notes,
            organization: "hk-ogcio".into(),
            groups: vec![
                "information-technology-and-broadcasting".into(),
                "city-management".into(),
            ],
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            licence: "data-gov-hk-terms".into(),
            frequency: frequency.into(),
            coverage_from: "2026-02-01".into(),
            coverage_to: String::new(),
            spatial: "Hong Kong".into(),
            private: false,
        }
    };
    let resource = |name: &str, en: &str, tc: &str, sc: &str| ResourceDraft {
        name: TextDraft::new(en, tc, sc),
        description: TextDraft::new(
            "SYNTHETIC features, served through OGC API – Features (GeoJSON, WGS84).",
            "合成的地理要素，經 OGC API – Features 提供（GeoJSON，WGS84）。",
            "合成的地理要素，经 OGC API – Features 提供（GeoJSON，WGS84）。",
        ),
        format: "GeoJSON".into(),
        url: items(name),
        size_bytes: None,
        hash: String::new(),
    };
    [
        Layer {
            draft: draft(
                HOTSPOTS_DATASET,
                TextDraft::new(
                    "Wi-Fi.HK hotspots (SYNTHETIC)",
                    "Wi-Fi.HK 熱點（合成數據）",
                    "Wi-Fi.HK 热点（合成数据）",
                ),
                TextDraft {
                    en: format!("SYNTHETIC DATA, NOT REAL LOCATIONS: {HOTSPOTS} made-up Wi-Fi.HK hotspots placed at random (seeded) on Hong Kong's land, with plausible venue types and districts — the count the fact sheet gives, for trying the OGC API. Source: the Innovation and Technology fact sheet (February 2026), as published: 「{HOTSPOTS_SOURCE}」"),
                    zh_hant: format!("合成數據，並非真實位置：{HOTSPOTS} 個虛構的 Wi-Fi.HK 熱點，以固定種子隨機置於香港陸地上，附合理的場地類別及地區，數目依照概況資料，供試用 OGC API。資料來源：《創新及科技》概況資料（2026 年 2 月）原文：「{HOTSPOTS_SOURCE}」"),
                    zh_hans: format!("合成数据，并非真实位置：{HOTSPOTS} 个虚构的 Wi-Fi.HK 热点，以固定种子随机置于香港陆地上，附合理的场地类别及地区，数目依照概况资料，供试用 OGC API。资料来源：《创新及科技》概况资料（2026 年 2 月）原文：「{HOTSPOTS_SOURCE}」"),
                },
                &["Wi-Fi.HK", "synthetic", "CSDI", "smart city"],
                "irregular",
            ),
            resource: resource(
                HOTSPOTS_DATASET,
                "Wi-Fi.HK hotspots (synthetic, GeoJSON)",
                "Wi-Fi.HK 熱點（合成，GeoJSON）",
                "Wi-Fi.HK 热点（合成，GeoJSON）",
            ),
            geojson: hotspots,
            count: HOTSPOTS,
            crs: Crs::Crs84,
        },
        Layer {
            draft: draft(
                LAMPPOSTS_DATASET,
                TextDraft::new(
                    "Smart lampposts (SYNTHETIC)",
                    "智慧燈柱（合成數據）",
                    "智慧灯柱（合成数据）",
                ),
                TextDraft {
                    en: format!("SYNTHETIC DATA, NOT REAL LOCATIONS: {LAMPPOSTS} made-up smart lampposts placed at random (seeded) on Hong Kong's land, with their district, sensors and installation date; published in the HK1980 Grid and served in WGS84. Source: the Innovation and Technology fact sheet (February 2026), as published: 「{LAMPPOSTS_SOURCE}」"),
                    zh_hant: format!("合成數據，並非真實位置：{LAMPPOSTS} 支虛構的智慧燈柱，以固定種子隨機置於香港陸地上，附地區、感應器及安裝日期；以香港 1980 方格網發布，以 WGS84 提供。資料來源：《創新及科技》概況資料（2026 年 2 月）原文：「{LAMPPOSTS_SOURCE}」"),
                    zh_hans: format!("合成数据，并非真实位置：{LAMPPOSTS} 支虚构的智慧灯柱，以固定种子随机置于香港陆地上，附地区、感应器及安装日期；以香港 1980 方格网发布，以 WGS84 提供。资料来源：《创新及科技》概况资料（2026 年 2 月）原文：「{LAMPPOSTS_SOURCE}」"),
                },
                &["smart lamppost", "synthetic", "CSDI", "smart city"],
                "irregular",
            ),
            resource: resource(
                LAMPPOSTS_DATASET,
                "Smart lampposts (synthetic, GeoJSON, HK1980 Grid)",
                "智慧燈柱（合成，GeoJSON，香港 1980 方格網）",
                "智慧灯柱（合成，GeoJSON，香港 1980 方格网）",
            ),
            geojson: lampposts,
            count: LAMPPOSTS,
            crs: Crs::Hk1980Grid,
        },
    ]
}

/// Stores the synthetic layers' provider and datasets, and publishes the collections not
/// published yet; returns how many collections were published.
pub async fn load(open: &OpenData, now_s: i64) -> Result<usize, OpendataError> {
    load_only(open, &[HOTSPOTS_DATASET, LAMPPOSTS_DATASET], now_s).await
}

/// `load`, of the named layers only.
pub async fn load_only(
    open: &OpenData,
    names: &[&str],
    now_s: i64,
) -> Result<usize, OpendataError> {
    if let Some(org) = ogcio() {
        crate::demo::ignore_exists(open.store().insert_organization(&org, ACTOR).await)?;
    }
    let mut published = 0;
    for layer in layers(open.site_url()) {
        if !names.contains(&layer.draft.name.as_str()) {
            continue;
        }
        let dataset = layer
            .draft
            .validate(
                std::slice::from_ref(&layer.resource),
                || uuid::Uuid::new_v4().to_string(),
                now_s,
            )
            .map_err(OpendataError::Invalid)?;
        if crate::demo::ignore_exists(open.store().insert_dataset(&dataset, ACTOR).await)? {
            open.index_dataset(&dataset.id).await?;
        }
        let Some(stored) = open.store().dataset(dataset.name.as_str()).await? else {
            continue;
        };
        let Some(resource) = stored.resources.first() else {
            continue;
        };
        if super::store::collection_of_resource(open.store().db(), &resource.id)
            .await?
            .is_some()
        {
            continue;
        }
        let prepared = layer.prepared().await?;
        open.publish_prepared(&stored.id, &resource.id, prepared, ACTOR, now_s)
            .await?;
        published += 1;
    }
    Ok(published)
}
