//! Synthetic datasets for benchmarks: `count` plausible datasets, every one labelled synthetic
//! in its titles and descriptions ("[Synthetic]", 「合成」), spread over the demo providers
//! and DATA.GOV.HK's 19 categories, in three languages, with tags and one to three resources.
//! Deterministic for a seed, so runs compare. Written to the store in large transactions and
//! indexed in bulk (one index commit per batch), as a harvest would load them.

use crate::demo::PROVIDERS;
use crate::domain::category::CATEGORIES;
use crate::domain::{DatasetDraft, ResourceDraft, TextDraft};
use crate::error::OpendataError;
use crate::search::catalogue::Owners;
use crate::service::{OpenData, Package};

/// Datasets per transaction and per index commit.
pub const GENERATE_BATCH: usize = 5_000;
const ACTOR: &str = "system:generate";
/// Datasets' dates spread over this many seconds before now (five years).
const SPREAD_S: u64 = 5 * 365 * 86_400;

/// Subjects: English, 繁體, 简体, and the category they belong in.
const TOPICS: [(&str, &str, &str, &str); 24] = [
    ("Traffic speed", "交通速度", "交通速度", "transport"),
    ("Road works", "道路工程", "道路工程", "transport"),
    (
        "Public transport interchanges",
        "公共運輸交匯處",
        "公共运输交汇处",
        "transport",
    ),
    (
        "Car park vacancies",
        "停車場空位",
        "停车场空位",
        "transport",
    ),
    (
        "Air quality readings",
        "空氣質素讀數",
        "空气质素读数",
        "environment",
    ),
    (
        "Recycling collection points",
        "回收點",
        "回收点",
        "environment",
    ),
    ("Rainfall", "雨量", "雨量", "climate-and-weather"),
    (
        "Temperature records",
        "溫度記錄",
        "温度记录",
        "climate-and-weather",
    ),
    (
        "Hospital waiting times",
        "醫院輪候時間",
        "医院轮候时间",
        "health",
    ),
    ("Clinic locations", "診所位置", "诊所位置", "health"),
    ("School places", "學額", "学额", "education"),
    ("Library usage", "圖書館使用量", "图书馆使用量", "education"),
    (
        "Public housing applications",
        "公屋申請",
        "公屋申请",
        "housing",
    ),
    ("Building permits", "建築許可", "建筑许可", "housing"),
    ("Population estimates", "人口估計", "人口估计", "population"),
    ("Household income", "住戶收入", "住户收入", "population"),
    ("Restaurant licences", "食肆牌照", "食肆牌照", "food"),
    (
        "Market prices of vegetables",
        "蔬菜市價",
        "蔬菜市价",
        "food",
    ),
    ("Government expenditure", "政府開支", "政府开支", "finance"),
    (
        "Social security payments",
        "社會保障金",
        "社会保障金",
        "social-welfare",
    ),
    ("Elderly centres", "長者中心", "长者中心", "social-welfare"),
    ("Street lighting", "街燈", "街灯", "city-management"),
    ("Land sales", "土地出售", "土地出售", "development"),
    (
        "Council meeting records",
        "會議記錄",
        "会议记录",
        "legislature",
    ),
];

const DISTRICTS: [(&str, &str, &str); 18] = [
    ("Central and Western", "中西區", "中西区"),
    ("Wan Chai", "灣仔", "湾仔"),
    ("Eastern", "東區", "东区"),
    ("Southern", "南區", "南区"),
    ("Yau Tsim Mong", "油尖旺", "油尖旺"),
    ("Sham Shui Po", "深水埗", "深水埗"),
    ("Kowloon City", "九龍城", "九龙城"),
    ("Wong Tai Sin", "黃大仙", "黄大仙"),
    ("Kwun Tong", "觀塘", "观塘"),
    ("Kwai Tsing", "葵青", "葵青"),
    ("Tsuen Wan", "荃灣", "荃湾"),
    ("Tuen Mun", "屯門", "屯门"),
    ("Yuen Long", "元朗", "元朗"),
    ("North", "北區", "北区"),
    ("Tai Po", "大埔", "大埔"),
    ("Sha Tin", "沙田", "沙田"),
    ("Sai Kung", "西貢", "西贡"),
    ("Islands", "離島", "离岛"),
];

const TAGS: [&str; 16] = [
    "statistics",
    "real-time",
    "map",
    "annual",
    "monthly",
    "district",
    "交通",
    "環境",
    "健康",
    "教育",
    "房屋",
    "人口",
    "open data",
    "timeseries",
    "locations",
    "budget",
];
const FORMATS: [&str; 5] = ["CSV", "JSON", "XML", "GeoJSON", "API"];
const FREQUENCIES: [&str; 6] = [
    "daily",
    "weekly",
    "monthly",
    "quarterly",
    "yearly",
    "irregular",
];
const LICENCES: [&str; 3] = ["data-gov-hk-terms", "cc-by", "other-open"];

/// A small deterministic generator (SplitMix64): synthetic data needs spread, not secrecy.
#[derive(Debug, Clone)]
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % u64::try_from(n.max(1)).unwrap_or(1)).unwrap_or(0)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        let at = self.below(items.len());
        items.get(at)
    }
}

/// The `i`th synthetic dataset of a seed: its draft, resources and modification time.
pub fn synthetic(seed: u64, i: u64, now_s: i64) -> (DatasetDraft, Vec<ResourceDraft>, i64) {
    let mut mix = Mix(seed ^ i.wrapping_mul(0x2545_F491_4F6C_DD1D));
    let (t_en, t_tc, t_sc, category) = *mix.pick(&TOPICS).unwrap_or(&TOPICS[0]);
    let (d_en, d_tc, d_sc) = *mix.pick(&DISTRICTS).unwrap_or(&DISTRICTS[0]);
    let provider = mix.pick(&PROVIDERS).map_or("hk-td", |p| p.0);
    let year = 2015 + mix.below(11);
    let mut groups = vec![category.to_owned()];
    if let Some(extra) = mix.pick(&CATEGORIES) {
        if extra.name != category {
            groups.push(extra.name.to_owned());
        }
    }
    let mut tags: Vec<String> = (0..1 + mix.below(4))
        .filter_map(|_| mix.pick(&TAGS).map(|t| (*t).to_owned()))
        .collect();
    tags.sort();
    tags.dedup();
    let name = format!("synthetic-{seed}-{i:07}");
    let resources = (0..1 + mix.below(3))
        .map(|k| {
            let format = mix.pick(&FORMATS).copied().unwrap_or("CSV");
            ResourceDraft {
                name: TextDraft::new(
                    &format!("{t_en}, {d_en} ({format})"),
                    &format!("{d_tc}{t_tc}（{format}）"),
                    &format!("{d_sc}{t_sc}（{format}）"),
                ),
                description: TextDraft::new("Synthetic file.", "合成檔案。", "合成文件。"),
                format: format.to_owned(),
                url: format!("https://example.invalid/synthetic/{name}/{k}"),
                size_bytes: None,
                hash: String::new(),
            }
        })
        .collect();
    let draft = DatasetDraft {
        title: TextDraft::new(
            &format!("[Synthetic] {t_en} in {d_en}, {year} #{i}"),
            &format!("【合成】{d_tc}{t_tc}（{year}年）#{i}"),
            &format!("【合成】{d_sc}{t_sc}（{year}年）#{i}"),
        ),
        notes: TextDraft::new(
            &format!(
                "Synthetic dataset for benchmarks, not real data: {} for {d_en} district in {year}.",
                t_en.to_lowercase()
            ),
            &format!("基準測試用的合成數據集，並非真實數據：{year}年{d_tc}區的{t_tc}。"),
            &format!("基准测试用的合成数据集，并非真实数据：{year}年{d_sc}区的{t_sc}。"),
        ),
        organization: provider.to_owned(),
        groups,
        tags,
        licence: mix.pick(&LICENCES).copied().unwrap_or("cc-by").to_owned(),
        frequency: mix.pick(&FREQUENCIES).copied().unwrap_or("yearly").to_owned(),
        spatial: d_en.to_owned(),
        private: mix.below(50) == 0,
        name,
        ..DatasetDraft::default()
    };
    let age = i64::try_from(mix.next() % SPREAD_S).unwrap_or(0);
    (draft, resources, now_s - age)
}

/// Adds `count` synthetic datasets (numbered from `first`), in batches; the number added.
pub async fn generate(
    open: &OpenData,
    seed: u64,
    first: u64,
    count: u64,
    now_s: i64,
) -> Result<u64, OpendataError> {
    crate::demo::load_providers(open, now_s).await?;
    let owners = Owners::load(open).await?;
    let mut added = 0;
    let mut batch = Vec::with_capacity(GENERATE_BATCH);
    for i in first..first.saturating_add(count) {
        let (draft, resources, at_s) = synthetic(seed, i, now_s);
        let dataset = draft
            .validate(&resources, || uuid::Uuid::new_v4().to_string(), at_s)
            .map_err(OpendataError::Invalid)?;
        batch.push(dataset);
        if batch.len() == GENERATE_BATCH {
            added += store_batch(open, &owners, std::mem::take(&mut batch)).await?;
        }
    }
    added += store_batch(open, &owners, batch).await?;
    Ok(added)
}

async fn store_batch(
    open: &OpenData,
    owners: &Owners,
    batch: Vec<crate::domain::Dataset>,
) -> Result<u64, OpendataError> {
    if batch.is_empty() {
        return Ok(0);
    }
    open.store().insert_datasets(&batch, ACTOR).await?;
    let mut packages: Vec<Package> = Vec::with_capacity(batch.len());
    for dataset in batch {
        let tags = open.store().tags_of(&dataset.id).await?;
        if let Some(p) = owners.package(dataset, tags) {
            packages.push(p);
        }
    }
    let added = u64::try_from(packages.len()).unwrap_or(0);
    open.index_packages(&packages).await?;
    Ok(added)
}
