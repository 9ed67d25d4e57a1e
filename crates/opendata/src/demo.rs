//! The catalogue an embedded demo installation starts with: DATA.GOV.HK's 19 categories, a
//! dozen real providers named in three languages, and datasets made of the Innovation and
//! Technology fact sheet's own figures (February 2026), each quoting its source sentence as
//! published (简体) in its description.
//!
//! Files are not stored yet, so each demo dataset's one resource is an API link to its own
//! CKAN record on this server — a link that works — rather than a made-up file address.
//! Loading is idempotent: what exists already is left as it is.

use crate::domain::{DatasetDraft, OrgKind, Organization, ResourceDraft, TextDraft};
use crate::error::OpendataError;
use crate::service::OpenData;

const ACTOR: &str = "system:demo";

/// A provider: name, kind, English, 繁體, 简体, site.
type Provider = (
    &'static str,
    OrgKind,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

pub const PROVIDERS: [Provider; 13] = [
    (
        "hk-td",
        OrgKind::Department,
        "Transport Department",
        "運輸署",
        "运输署",
        "https://www.td.gov.hk",
    ),
    (
        "hk-landsd",
        OrgKind::Department,
        "Lands Department",
        "地政總署",
        "地政总署",
        "https://www.landsd.gov.hk",
    ),
    (
        "hk-hko",
        OrgKind::Department,
        "Hong Kong Observatory",
        "香港天文台",
        "香港天文台",
        "https://www.hko.gov.hk",
    ),
    (
        "hk-censtatd",
        OrgKind::Department,
        "Census and Statistics Department",
        "政府統計處",
        "政府统计处",
        "https://www.censtatd.gov.hk",
    ),
    (
        "hk-itib",
        OrgKind::Bureau,
        "Innovation, Technology and Industry Bureau",
        "創新科技及工業局",
        "创新科技及工业局",
        "https://www.itib.gov.hk",
    ),
    (
        "hk-dpo",
        OrgKind::Department,
        "Digital Policy Office",
        "數字政策辦公室",
        "数字政策办公室",
        "https://www.digitalpolicy.gov.hk",
    ),
    (
        "hk-epd",
        OrgKind::Department,
        "Environmental Protection Department",
        "環境保護署",
        "环境保护署",
        "https://www.epd.gov.hk",
    ),
    (
        "hk-fehd",
        OrgKind::Department,
        "Food and Environmental Hygiene Department",
        "食物環境衞生署",
        "食物环境卫生署",
        "https://www.fehd.gov.hk",
    ),
    (
        "hk-lcsd",
        OrgKind::Department,
        "Leisure and Cultural Services Department",
        "康樂及文化事務署",
        "康乐及文化事务署",
        "https://www.lcsd.gov.hk",
    ),
    (
        "hk-hyd",
        OrgKind::Department,
        "Highways Department",
        "路政署",
        "路政署",
        "https://www.hyd.gov.hk",
    ),
    (
        "hk-cedd",
        OrgKind::Department,
        "Civil Engineering and Development Department",
        "土木工程拓展署",
        "土木工程拓展署",
        "https://www.cedd.gov.hk",
    ),
    (
        "hk-hkma",
        OrgKind::Other,
        "Hong Kong Monetary Authority",
        "香港金融管理局",
        "香港金融管理局",
        "https://www.hkma.gov.hk",
    ),
    (
        "hk-hkpc",
        OrgKind::Other,
        "Hong Kong Productivity Council",
        "香港生產力促進局",
        "香港生产力促进局",
        "https://www.hkpc.org",
    ),
];

/// A dataset of the fact sheet: its fields, and the sentence it comes from.
#[derive(Debug, Clone, Copy)]
pub struct FactDataset {
    pub name: &'static str,
    pub organization: &'static str,
    pub groups: &'static [&'static str],
    pub tags: &'static [&'static str],
    pub title: [&'static str; 3],
    pub summary: [&'static str; 3],
    /// The fact sheet's sentence, verbatim (its bold marks left out).
    pub source: &'static str,
    pub frequency: &'static str,
    pub coverage: (&'static str, &'static str),
}

pub const FACT_DATASETS: [FactDataset; 5] = [
    FactDataset {
        name: "hk-dpo-opendata-datasets-opened",
        organization: "hk-dpo",
        groups: &["information-technology-and-broadcasting", "city-management"],
        tags: &["open data", "CSDI", "smart city"],
        title: [
            "Datasets opened through the open data platforms",
            "經開放數據平台開放的數據集",
            "经开放数据平台开放的数据集",
        ],
        summary: [
            "The number of datasets the Government has opened to the public through the open data platform (DATA.GOV.HK) and the spatial data sharing platform (CSDI): over 5,700.",
            "政府透過開放數據平台（DATA.GOV.HK）及空間數據共享平台開放供公眾使用的數據集數目：超過 5,700 個。",
            "政府透过开放数据平台（DATA.GOV.HK）及空间数据共享平台开放供公众使用的数据集数目：超过 5,700 个。",
        ],
        source: "提倡开放数据政策，透过「开放数据平台」及「空间数据共享平台」开放超过 5,700 个数据集供公众使用。",
        frequency: "irregular",
        coverage: ("2026-02-01", ""),
    },
    FactDataset {
        name: "hk-dpo-smart-lampposts-installed",
        organization: "hk-dpo",
        groups: &["city-management", "information-technology-and-broadcasting"],
        tags: &["smart lamppost", "smart city"],
        title: [
            "Smart lampposts installed",
            "已安裝的智慧燈柱",
            "已安装的智慧灯柱",
        ],
        summary: [
            "The number of smart lampposts installed in Hong Kong: over 900.",
            "香港已安裝的智慧燈柱數目：超過 900 支。",
            "香港已安装的智慧灯柱数目：超过 900 支。",
        ],
        source: "已安装超过 900 支智慧灯柱，并为政府部门提供新一代政府云端基础设施、大数据分析平台和共享区块链平台，以加强公共服务。",
        frequency: "irregular",
        coverage: ("2026-02-01", ""),
    },
    FactDataset {
        name: "hk-dpo-digital-government-initiatives",
        organization: "hk-dpo",
        groups: &["information-technology-and-broadcasting"],
        tags: &["digital government", "artificial intelligence", "smart city"],
        title: [
            "Digital government and smart city initiatives launched, 2024–2025",
            "2024 至 2025 年推出的數字政府及智能城市方案",
            "2024 至 2025 年推出的数字政府及智能城市方案",
        ],
        summary: [
            "Digital government and smart city initiatives launched in 2024 and 2025: 110, nearly half of them involving artificial intelligence and big data analytics.",
            "2024 至 2025 年期間推出的數字政府及智能城市方案：共 110 項，當中接近一半涉及人工智能及大數據分析。",
            "2024 至 2025 年期间推出的数字政府及智能城市方案：共 110 项，当中接近一半涉及人工智能及大数据分析。",
        ],
        source: "2024 至 2025 年期间共推出 110 项数字政府及智能城市方案，当中接近一半涉及人工智能及大数据分析。",
        frequency: "yearly",
        coverage: ("2024-01-01", "2025-12-31"),
    },
    FactDataset {
        name: "hk-hkma-cdi-loan-applications",
        organization: "hk-hkma",
        groups: &["finance", "commerce-and-industry"],
        tags: &["Commercial Data Interchange", "SME", "loans"],
        title: [
            "Commercial Data Interchange: loan applications and credit approved",
            "商業數據通：貸款申請及批核信貸",
            "商业数据通：贷款申请及批核信贷",
        ],
        summary: [
            "Loan applications and reviews the Commercial Data Interchange (CDI) has facilitated since its launch, to the end of December 2025: over 82,000, with an estimated total of over HK$66.4 billion of credit approved.",
            "商業數據通自推出至 2025 年 12 月底促成的貸款申請和審查：超過 82,000 宗，估計涉及的信貸批核總額逾 664 億港元。",
            "商业数据通自推出至 2025 年 12 月底促成的贷款申请和审查：超过 82,000 宗，估计涉及的信贷批核总额逾 664 亿港元。",
        ],
        source: "自商业数据通正式推出至 2025 年 12 月底，已促成了超过 82,000 宗贷款申请和审查，估计涉及的信贷批核总额逾 664 亿港元。",
        frequency: "irregular",
        coverage: ("2022-10-01", "2025-12-31"),
    },
    FactDataset {
        name: "hk-hkpc-funding-easy-platform",
        organization: "hk-hkpc",
        groups: &["commerce-and-industry"],
        tags: &["Funding Easy", "SME", "funding schemes"],
        title: [
            "Funding Easy: the one-stop platform of government funding schemes",
            "資助易：政府資助計劃一站式平台",
            "资助易：政府资助计划一站式平台",
        ],
        summary: [
            "Funding Easy, launched by the Hong Kong Productivity Council in September 2022, brings together the data of government funding schemes so enterprises can find those that fit. Its catalogue is served by this installation's Funding Easy module.",
            "香港生產力促進局於 2022 年 9 月推出的一站式「資助易」平台，整合政府資助計劃的數據，方便企業尋找合適的資助計劃。其目錄由本系統的資助易模組提供。",
            "香港生产力促进局于 2022 年 9 月推出的一站式「资助易」平台，整合政府资助计划的数据，方便企业寻找合适的资助计划。其目录由本系统的资助易模块提供。",
        ],
        source: "为协助企业更好发展数码配套和升级转型，香港生产力促进局于 2022 年 9 月推出一站式「资助易」网上平台，通过整合相关政府资助计划的数据，方便企业寻找合适资助计划以支持其业务发展。",
        frequency: "monthly",
        coverage: ("2022-09-01", ""),
    },
];

fn provider(p: &Provider, now_s: i64) -> Option<Organization> {
    let (name, kind, en, zh_hant, zh_hans, url) = *p;
    Some(Organization {
        id: uuid::Uuid::new_v4().to_string(),
        name: crate::domain::stored_name(name)?,
        kind,
        title: bauhinia_core::Localized {
            en: en.to_owned(),
            zh_hant: zh_hant.to_owned(),
            zh_hans: zh_hans.to_owned(),
        },
        description: bauhinia_core::Localized {
            en: format!("Datasets published by the {en}."),
            zh_hant: format!("{zh_hant}發布的數據集。"),
            zh_hans: format!("{zh_hans}发布的数据集。"),
        },
        url: Some(url.to_owned()),
        created_s: now_s,
    })
}

/// A fact-sheet dataset as a draft: its summary, then its source quoted.
pub fn draft(f: &FactDataset) -> DatasetDraft {
    let [title_en, title_tc, title_sc] = f.title;
    let [en, tc, sc] = f.summary;
    let source = f.source;
    DatasetDraft {
        name: f.name.to_owned(),
        title: TextDraft::new(title_en, title_tc, title_sc),
        notes: TextDraft {
            en: format!("{en}\n\nSource: the Innovation and Technology fact sheet (February 2026), as published: 「{source}」"),
            zh_hant: format!("{tc}\n\n資料來源：《創新及科技》概況資料（2026 年 2 月）原文：「{source}」"),
            zh_hans: format!("{sc}\n\n资料来源：《创新及科技》概况资料（2026 年 2 月）原文：「{source}」"),
        },
        organization: f.organization.to_owned(),
        groups: f.groups.iter().map(|g| (*g).to_owned()).collect(),
        tags: f.tags.iter().map(|t| (*t).to_owned()).collect(),
        licence: "data-gov-hk-terms".to_owned(),
        frequency: f.frequency.to_owned(),
        coverage_from: f.coverage.0.to_owned(),
        coverage_to: f.coverage.1.to_owned(),
        spatial: "Hong Kong".to_owned(),
        private: false,
    }
}

/// The dataset's one resource: its own record through the Action API.
pub fn record_link(site_url: &str, name: &str) -> ResourceDraft {
    ResourceDraft {
        name: TextDraft::new(
            "Dataset record (CKAN API)",
            "數據集記錄（CKAN API）",
            "数据集记录（CKAN API）",
        ),
        description: TextDraft::new(
            "This dataset's metadata as CKAN's package_show answers it.",
            "以 CKAN package_show 格式提供的本數據集元數據。",
            "以 CKAN package_show 格式提供的本数据集元数据。",
        ),
        format: "API".to_owned(),
        url: format!("{site_url}/api/3/action/package_show?id={name}"),
        size_bytes: None,
        hash: String::new(),
    }
}

pub(crate) fn ignore_exists(result: Result<(), OpendataError>) -> Result<bool, OpendataError> {
    match result {
        Ok(()) => Ok(true),
        Err(OpendataError::Exists(_)) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Stores the demo providers not stored yet.
pub async fn load_providers(open: &OpenData, now_s: i64) -> Result<(), OpendataError> {
    for p in &PROVIDERS {
        if let Some(org) = provider(p, now_s) {
            ignore_exists(open.store().insert_organization(&org, ACTOR).await)?;
        }
    }
    Ok(())
}

/// Stores the categories, providers and fact-sheet datasets not stored yet; returns how many
/// datasets were added.
pub async fn load(open: &OpenData, now_s: i64) -> Result<usize, OpendataError> {
    let store = open.store();
    load_providers(open, now_s).await?;
    let mut added = 0;
    for f in &FACT_DATASETS {
        let resources = [record_link(open.site_url(), f.name)];
        let dataset = draft(f)
            .validate(&resources, || uuid::Uuid::new_v4().to_string(), now_s)
            .map_err(OpendataError::Invalid)?;
        if ignore_exists(store.insert_dataset(&dataset, ACTOR).await)? {
            open.index_dataset(&dataset.id).await?;
            added += 1;
        }
    }
    Ok(added)
}
