//! The catalogue an embedded demo installation starts with: DATA.GOV.HK's 19 categories, real
//! providers named in three languages, and datasets made of the Innovation and Technology fact
//! sheet's own figures (February 2026): rankings, infrastructure, licences, stakeholders,
//! programme results and, handed in by the caller, the Funding Easy scheme catalogue.
//!
//! Each dataset's resource is a real table: a CSV file under `data/` (compiled in), one row per
//! figure, every row quoting in its `source` column the fact sheet's sentence (简体, as
//! published) that states it. Its URL is this server's own dump of the resource's datastore
//! table, and its rows are ingested into the datastore when the demo loads. [`figures`] reads
//! the numbers a sentence states, so a test can check that every number of every table is one
//! of its sentence's — nothing is made up.
//!
//! Loading is idempotent: what exists already is left as it is, and a demo table whose rows
//! are missing from the datastore (a start interrupted between the two writes) is ingested.

use std::collections::BTreeSet;

use crate::domain::{DatasetDraft, Format, OrgKind, Organization, ResourceDraft, TextDraft};
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

pub const PROVIDERS: [Provider; 17] = [
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
    (
        "hk-itc",
        OrgKind::Department,
        "Innovation and Technology Commission",
        "創新科技署",
        "创新科技署",
        "https://www.itc.gov.hk",
    ),
    (
        "hk-ofca",
        OrgKind::Department,
        "Office of the Communications Authority",
        "通訊事務管理局辦公室",
        "通讯事务管理局办公室",
        "https://www.ofca.gov.hk",
    ),
    (
        "hk-fstb",
        OrgKind::Bureau,
        "Financial Services and the Treasury Bureau",
        "財經事務及庫務局",
        "财经事务及库务局",
        "https://www.fstb.gov.hk",
    ),
    (
        "hk-investhk",
        OrgKind::Department,
        "Invest Hong Kong",
        "投資推廣署",
        "投资推广署",
        "https://www.investhk.gov.hk",
    ),
];

/// A table of the fact sheet: a CSV file under `data/` and its resource's name and description.
#[derive(Debug, Clone, Copy)]
pub struct DemoTable {
    /// Its file under `data/`.
    pub file: &'static str,
    pub csv: &'static str,
    /// The resource's name: English, 繁體, 简体.
    pub name: [&'static str; 3],
    pub description: [&'static str; 3],
}

/// How the figure tables (one row per figure) are described.
const FIGURES_DESCRIPTION: [&str; 3] = [
    "One row per figure: what it counts (in English, Traditional and Simplified Chinese), its value, unit and qualifier (over, about, nearly or empty for an exact figure), the years and month it covers where the fact sheet says, and the fact sheet's sentence it comes from, as published.",
    "每列一項數字：所計算的項目（英文、繁體及簡體中文）、數值、單位及修飾詞（over 超過、about 約、nearly 接近，確數則留空）、概況資料所述涵蓋的年份及月份，以及其出處的概況資料原句（按發布原文）。",
    "每行一项数字：所计算的项目（英文、繁体及简体中文）、数值、单位及修饰词（over 超过、about 约、nearly 接近，确数则留空）、概况资料所述涵盖的年份及月份，以及其出处的概况资料原句（按发布原文）。",
];

const fn figures_table(
    file: &'static str,
    csv: &'static str,
    name: [&'static str; 3],
) -> DemoTable {
    DemoTable {
        file,
        csv,
        name,
        description: FIGURES_DESCRIPTION,
    }
}

/// The Funding Easy catalogue's table, which the caller hands to [`load_with`] (this crate does
/// not depend on the funding module): its resource's name and description.
pub const FUNDING_TABLE_NAME: [&str; 3] = [
    "Funding schemes (table)",
    "資助計劃（表格）",
    "资助计划（表格）",
];
const FUNDING_TABLE_DESCRIPTION: [&str; 3] = [
    "The Funding Easy catalogue as this installation's Funding Easy module exports it: one row per scheme, values the fact sheet does not state written \"not stated\", and in the source column the fact sheet's sentences every value comes from.",
    "本系統資助易模組匯出的資助計劃目錄：每列一項計劃，概況資料未有列明的數值寫作「not stated」，source 欄為各數值出處的概況資料原句。",
    "本系统资助易模块导出的资助计划目录：每行一项计划，概况资料未有列明的数值写作「not stated」，source 栏为各数值出处的概况资料原句。",
];

/// The dataset the Funding Easy table belongs to.
pub const FUNDING_DATASET: &str = "hk-hkpc-funding-easy-platform";

/// A dataset of the fact sheet: its fields, the sentence it is about, and its table.
#[derive(Debug, Clone, Copy)]
pub struct FactDataset {
    pub name: &'static str,
    pub organization: &'static str,
    pub groups: &'static [&'static str],
    pub tags: &'static [&'static str],
    pub title: [&'static str; 3],
    pub summary: [&'static str; 3],
    /// The fact sheet's sentence the dataset is about, verbatim (its bold marks left out).
    pub source: &'static str,
    pub frequency: &'static str,
    pub coverage: (&'static str, &'static str),
    /// Its table; `None` for the Funding Easy dataset, whose table the caller supplies.
    pub table: Option<DemoTable>,
}

pub const FACT_DATASETS: [FactDataset; 14] = [
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
        table: Some(figures_table(
            "opendata-datasets-opened.csv",
            include_str!("../data/opendata-datasets-opened.csv"),
            ["Datasets opened (table)", "已開放的數據集（表格）", "已开放的数据集（表格）"],
        )),
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
        table: Some(figures_table(
            "smart-lampposts-installed.csv",
            include_str!("../data/smart-lampposts-installed.csv"),
            ["Smart lampposts (table)", "智慧燈柱（表格）", "智慧灯柱（表格）"],
        )),
    },
    FactDataset {
        name: "hk-td-smart-traffic-fund",
        organization: "hk-td",
        groups: &["transport"],
        tags: &["smart mobility", "交通"],
        title: ["Smart Traffic Fund", "智慧交通基金", "智慧交通基金"],
        summary: [
            "The HK$1 billion Smart Traffic Fund finances local organisations' and companies' research into and application of innovation and technology that make travel easier, use roads more efficiently and make driving safer.",
            "10 億元的「智慧交通基金」資助本地機構或企業進行創新科技研究和應用，以便利出行，提升道路網絡或路面使用效率和改善駕駛安全。",
            "10 亿元的「智慧交通基金」资助本地机构或企业进行创新科技研究和应用，以便利出行，提升道路网络或路面使用效率和改善驾驶安全。",
        ],
        source: "透过 10 亿元「智慧交通基金」，资助本地机构或企业进行创新科技研究和应用，以便利出行，提升道路网络或路面使用效率和改善驾驶安全。",
        frequency: "irregular",
        coverage: ("2026-02-01", ""),
        table: Some(figures_table(
            "smart-traffic-fund.csv",
            include_str!("../data/smart-traffic-fund.csv"),
            ["Smart Traffic Fund (table)", "智慧交通基金（表格）", "智慧交通基金（表格）"],
        )),
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
        table: Some(figures_table(
            "digital-government-initiatives.csv",
            include_str!("../data/digital-government-initiatives.csv"),
            ["Initiatives launched (table)", "推出的方案（表格）", "推出的方案（表格）"],
        )),
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
        coverage: ("", ""),
        table: Some(figures_table(
            "cdi-loan-applications.csv",
            include_str!("../data/cdi-loan-applications.csv"),
            ["Loan applications and credit approved (table)", "貸款申請及批核信貸（表格）", "贷款申请及批核信贷（表格）"],
        )),
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
        table: None,
    },
    FactDataset {
        name: "hk-itib-international-rankings",
        organization: "hk-itib",
        groups: &["information-technology-and-broadcasting", "commerce-and-industry"],
        tags: &["rankings", "innovation", "smart city"],
        title: [
            "Hong Kong in international rankings of innovation, digital competitiveness and smart cities",
            "香港在創新、數碼競爭力及智慧城市國際排名中的位置",
            "香港在创新、数码竞争力及智慧城市国际排名中的位置",
        ],
        summary: [
            "Hong Kong's place in eight international rankings the fact sheet cites: the ranking, its publisher and edition, the region and Hong Kong's place in it, and its place worldwide.",
            "概況資料引述的八項國際排名中香港的位置：排名名稱、發布機構及年份、所屬區域及香港在區內的名次，以及全球名次。",
            "概况资料引述的八项国际排名中香港的位置：排名名称、发布机构及年份、所属区域及香港在区内的名次，以及全球名次。",
        ],
        source: "香港是领先数字经济体系，在数码化准备程度和互联网接达能力的世界排名榜上均一直位列前茅。",
        frequency: "yearly",
        coverage: ("2020-01-01", "2025-12-31"),
        table: Some(DemoTable {
            file: "international-rankings.csv",
            csv: include_str!("../data/international-rankings.csv"),
            name: ["International rankings (table)", "國際排名（表格）", "国际排名（表格）"],
            description: [
                "One row per ranking: its name (in English, Traditional and Simplified Chinese), publisher, edition year, the region and Hong Kong's place in it, Hong Kong's place worldwide, a note where the place is a band, and the fact sheet's sentence, as published.",
                "每列一項排名：名稱（英文、繁體及簡體中文）、發布機構、年份、區域及香港在區內的名次、全球名次、名次為一個範圍時的附註，以及概況資料原句（按發布原文）。",
                "每行一项排名：名称（英文、繁体及简体中文）、发布机构、年份、区域及香港在区内的名次、全球名次、名次为一个范围时的附注，以及概况资料原句（按发布原文）。",
            ],
        }),
    },
    FactDataset {
        name: "hk-dpo-digital-government-figures",
        organization: "hk-dpo",
        groups: &["information-technology-and-broadcasting", "city-management"],
        tags: &["digital government", "iAM Smart", "Wi-Fi.HK", "smart city"],
        title: [
            "Digital government and smart city figures",
            "數字政府及智慧城市數字",
            "数字政府及智慧城市数字",
        ],
        summary: [
            "Figures of digital government and the smart city: online services reachable with iAM Smart, Smart City Blueprint 2.0 measures, the data policy statement's action items, Wi-Fi.HK hotspots and SMEs approved under the Digital Transformation Support Pilot Programme.",
            "數字政府及智慧城市的數字：可透過「智方便」接達的網上服務、《香港智慧城市藍圖 2.0》措施、數據政策宣言的行動措施、「Wi-Fi.HK」熱點，以及獲「數碼轉型支援先導計劃」資助的中小企。",
            "数字政府及智慧城市的数字：可透过「智方便」接达的网上服务、《香港智慧城市蓝图 2.0》措施、数据政策宣言的行动措施、「Wi-Fi.HK」热点，以及获「数码转型支持先导计划」资助的中小企。",
        ],
        source: "推出「智方便」一站式服务平台，提供单一数码身份，并接达超过 1,300 项常用政府及公私营机构网上服务。",
        frequency: "irregular",
        coverage: ("2020-01-01", ""),
        table: Some(figures_table(
            "digital-government-figures.csv",
            include_str!("../data/digital-government-figures.csv"),
            ["Digital government figures (table)", "數字政府數字（表格）", "数字政府数字（表格）"],
        )),
    },
    FactDataset {
        name: "hk-ofca-telecommunications-infrastructure",
        organization: "hk-ofca",
        groups: &["information-technology-and-broadcasting"],
        tags: &["5G", "submarine cables", "satellites", "telecommunications"],
        title: [
            "Telecommunications infrastructure: submarine cables, satellites and 5G coverage",
            "電訊基建：海底電纜、通訊衞星及 5G 覆蓋",
            "电讯基建：海底电缆、通讯卫星及 5G 覆盖",
        ],
        summary: [
            "Hong Kong's submarine cable systems and the communications satellites providing its external communications, and the share of the population the 5G service network covers.",
            "香港的海底電纜系統及提供對外通訊服務的通訊衞星數目，以及 5G 服務網絡覆蓋的人口比例。",
            "香港的海底电缆系统及提供对外通讯服务的通讯卫星数目，以及 5G 服务网络覆盖的人口比例。",
        ],
        source: "香港设有 12 个海底电缆系统，并透过 10 枚通讯卫星提供对外通讯服务。",
        frequency: "irregular",
        coverage: ("", ""),
        table: Some(figures_table(
            "telecommunications-infrastructure.csv",
            include_str!("../data/telecommunications-infrastructure.csv"),
            ["Telecommunications infrastructure (table)", "電訊基建（表格）", "电讯基建（表格）"],
        )),
    },
    FactDataset {
        name: "hk-fstb-fintech-licences-issued",
        organization: "hk-fstb",
        groups: &["finance"],
        tags: &["fintech", "licences", "virtual banks", "virtual assets", "stored value facilities"],
        title: [
            "Fintech licences issued: digital banks, virtual insurers, virtual asset trading platforms and stored value facilities",
            "已發出的金融科技牌照：數字銀行、虛擬保險公司、虛擬資產交易平台及儲值支付工具",
            "已发出的金融科技牌照：数字银行、虚拟保险公司、虚拟资产交易平台及储值支付工具",
        ],
        summary: [
            "The number of licences issued of each kind the fact sheet lists: digital banks, virtual insurers, virtual asset trading platforms and stored value facilities.",
            "概況資料所列各類已發出牌照的數目：數字銀行、虛擬保險公司、虛擬資產交易平台及儲值支付工具。",
            "概况资料所列各类已发出牌照的数目：数字银行、虚拟保险公司、虚拟资产交易平台及储值支付工具。",
        ],
        source: "已发出八个数字银行牌照、四个虚拟保险公司牌照、11 个虚拟资产交易平台牌照，以及15 个储值支付工具牌照。",
        frequency: "irregular",
        coverage: ("", ""),
        table: Some(DemoTable {
            file: "fintech-licences.csv",
            csv: include_str!("../data/fintech-licences.csv"),
            name: ["Licences issued (table)", "已發出的牌照（表格）", "已发出的牌照（表格）"],
            description: [
                "One row per kind of licence: its name (in English, Traditional and Simplified Chinese), the number issued, and the fact sheet's sentence, as published.",
                "每列一類牌照：名稱（英文、繁體及簡體中文）、已發出的數目，以及概況資料原句（按發布原文）。",
                "每行一类牌照：名称（英文、繁体及简体中文）、已发出的数目，以及概况资料原句（按发布原文）。",
            ],
        }),
    },
    FactDataset {
        name: "hk-hkma-faster-payment-system",
        organization: "hk-hkma",
        groups: &["finance"],
        tags: &["FPS", "payments", "fintech"],
        title: [
            "Faster Payment System (FPS): registrations and daily transactions",
            "轉數快：登記數目及每日交易量",
            "转数快：注册量及每日交易量",
        ],
        summary: [
            "Registrations of the Faster Payment System and its average daily real-time transactions at the end of January 2026, and the number of fintech companies in Hong Kong.",
            "截至 2026 年 1 月底「轉數快」的登記數目及日均實時交易量，以及香港的金融科技公司數目。",
            "截至 2026 年 1 月底「转数快」的注册量及日均实时交易量，以及香港的金融科技公司数目。",
        ],
        source: "截至 2026 年 1 月底，「转数快」注册量达 1,925 万；日均实时交易量达 229 万笔。",
        frequency: "irregular",
        coverage: ("2026-01-31", "2026-01-31"),
        table: Some(figures_table(
            "faster-payment-system.csv",
            include_str!("../data/faster-payment-system.csv"),
            ["FPS and fintech figures (table)", "轉數快及金融科技數字（表格）", "转数快及金融科技数字（表格）"],
        )),
    },
    FactDataset {
        name: "hk-itib-innovation-stakeholders",
        organization: "hk-itib",
        groups: &["commerce-and-industry", "information-technology-and-broadcasting"],
        tags: &["Science Park", "Cyberport", "InnoHK", "research and development", "innovation"],
        title: [
            "Innovation and technology stakeholders and research infrastructure in figures",
            "創科界持份者及科研基建數字",
            "创科界持份者及科研基建数字",
        ],
        summary: [
            "Figures of the innovation and technology community and its research infrastructure: companies at the Science Park and Cyberport, the Hetao Hong Kong Park, the Government's R&D centres, State Key Laboratories, the Cyberport AI Supercomputing Centre, the new Science Park building, InnoCell and the users of a generative AI app.",
            "創科界及其科研基建的數字：科學園及數碼港的企業、河套香港園區、政府成立的研發中心、全國重點實驗室、數碼港人工智能超算中心、科學園新大樓、創新斗室，以及一個生成式人工智能應用程式的用戶。",
            "创科界及其科研基建的数字：科学园及数码港的企业、河套香港园区、政府成立的研发中心、全国重点实验室、数码港人工智能超算中心、科学园新大楼、创新斗室，以及一个生成式人工智能应用程序的用户。",
        ],
        source: "数码港为香港数码科技旗舰及创业培育基地，汇聚超过 2,300 间信息及通讯科技企业，包括九家独角兽公司。",
        frequency: "irregular",
        coverage: ("", ""),
        table: Some(figures_table(
            "innovation-stakeholders.csv",
            include_str!("../data/innovation-stakeholders.csv"),
            ["Stakeholders and infrastructure (table)", "持份者及基建（表格）", "持份者及基建（表格）"],
        )),
    },
    FactDataset {
        name: "hk-investhk-startup-survey",
        organization: "hk-investhk",
        groups: &["commerce-and-industry", "employment-and-labour"],
        tags: &["start-ups", "jobs", "innovation"],
        title: [
            "Start-ups in Hong Kong and the jobs they provide (start-up survey 2025)",
            "香港的初創企業及其提供的職位（2025 年初創企業調查）",
            "香港的初创企业及其提供的职位（2025 年初创企业调查）",
        ],
        summary: [
            "From Invest Hong Kong's 2025 start-up survey: the number of start-ups in Hong Kong and the jobs they provide, each with its increase over 2024.",
            "根據投資推廣署 2025 年的初創企業調查：香港初創企業的數目及其提供的職位，以及兩者較 2024 年的增幅。",
            "根据投资推广署 2025 年的初创企业调查：香港初创企业的数目及其提供的职位，以及两者较 2024 年的增幅。",
        ],
        source: "根据投资推广署于 2025 年进行的初创企业调查，香港共有逾 5,200 间初创企业（较 2024 年增加 11%），提供约19,750 个职位（较 2024 年增加 12%）。",
        frequency: "yearly",
        coverage: ("2025-01-01", "2025-12-31"),
        table: Some(figures_table(
            "startup-survey.csv",
            include_str!("../data/startup-survey.csv"),
            ["Start-up survey figures (table)", "初創企業調查數字（表格）", "初创企业调查数字（表格）"],
        )),
    },
    FactDataset {
        name: "hk-itc-funding-programme-results",
        organization: "hk-itc",
        groups: &["commerce-and-industry", "finance"],
        tags: &["venture funds", "new industrialisation", "innovation", "funding schemes"],
        title: [
            "Innovation and technology funds and programmes: results to date",
            "創科基金及計劃：至今成果",
            "创科基金及计划：至今成果",
        ],
        summary: [
            "What innovation and technology funds and programmes have achieved by the dates the fact sheet gives: start-ups and companies invested in, amounts invested and private investment attracted, projects and production lines supported, enterprises attracted, and Mainland funding approved for Hong Kong's universities.",
            "創科基金及計劃截至概況資料所述日期的成果：投資的初創企業及公司、投資額及吸引的私人投資、支持的項目及生產線、吸引的企業，以及內地批予香港大學的科技資助。",
            "创科基金及计划截至概况资料所述日期的成果：投资的初创企业及公司、投资额及吸引的私人投资、支持的项目及生产线、吸引的企业，以及内地批予香港大学的科技资助。",
        ],
        source: "截至 2025 年 12 月底，「一般支持计划」共支持 537 个项目，拨款总额约 10.5 亿元。",
        frequency: "irregular",
        coverage: ("", ""),
        table: Some(figures_table(
            "funding-programme-results.csv",
            include_str!("../data/funding-programme-results.csv"),
            ["Programme results (table)", "計劃成果（表格）", "计划成果（表格）"],
        )),
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
            en: format!("{en}\n\nSource: the Innovation and Technology fact sheet (February 2026), as published: 「{source}」\n\nEach row of the table quotes the sentence of the fact sheet its figures come from."),
            zh_hant: format!("{tc}\n\n資料來源：《創新及科技》概況資料（2026 年 2 月）原文：「{source}」\n\n表格每列均引述其數字出處的概況資料原句。"),
            zh_hans: format!("{sc}\n\n资料来源：《创新及科技》概况资料（2026 年 2 月）原文：「{source}」\n\n表格每行均引述其数字出处的概况资料原句。"),
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

/// Where this server dumps a resource's datastore table as CSV.
pub fn dump_url(site_url: &str, resource_id: &str) -> String {
    format!("{site_url}/datastore/dump/{resource_id}?format=csv")
}

/// A table as the loader uses it: its resource's texts and its file.
#[derive(Debug, Clone, Copy)]
struct TableFile<'a> {
    name: [&'static str; 3],
    description: [&'static str; 3],
    bytes: &'a [u8],
}

impl TableFile<'_> {
    fn resource(&self, site_url: &str, resource_id: &str) -> ResourceDraft {
        let [name_en, name_tc, name_sc] = self.name;
        let [en, tc, sc] = self.description;
        ResourceDraft {
            name: TextDraft::new(name_en, name_tc, name_sc),
            description: TextDraft::new(en, tc, sc),
            format: "CSV".to_owned(),
            url: dump_url(site_url, resource_id),
            size_bytes: i64::try_from(self.bytes.len()).ok(),
            hash: String::new(),
        }
    }
}

fn table_of<'a>(f: &FactDataset, funding_csv: Option<&'a [u8]>) -> Option<TableFile<'a>> {
    match (f.table, funding_csv) {
        (Some(t), _) => Some(TableFile {
            name: t.name,
            description: t.description,
            bytes: t.csv.as_bytes(),
        }),
        (None, Some(bytes)) if f.name == FUNDING_DATASET => Some(TableFile {
            name: FUNDING_TABLE_NAME,
            description: FUNDING_TABLE_DESCRIPTION,
            bytes,
        }),
        (None, _) => None,
    }
}

/// Stores the providers and fact-sheet datasets not stored yet, without the Funding Easy
/// table; returns how many datasets were added.
pub async fn load(open: &OpenData, now_s: i64) -> Result<usize, OpendataError> {
    load_with(open, now_s, None).await
}

/// Stores the providers and fact-sheet datasets not stored yet and ingests their tables into
/// the datastore; returns how many datasets were added. `funding_csv` is the Funding Easy
/// catalogue as CSV, the table of [`FUNDING_DATASET`]; without it that dataset's resource is
/// a link to its own record. A stored demo table whose rows are missing is ingested again.
pub async fn load_with(
    open: &OpenData,
    now_s: i64,
    funding_csv: Option<&[u8]>,
) -> Result<usize, OpendataError> {
    let store = open.store();
    load_providers(open, now_s).await?;
    let site = open.site_url();
    let mut added = 0;
    for f in &FACT_DATASETS {
        let table = table_of(f, funding_csv);
        if store.dataset(f.name).await?.is_none() {
            let dataset_id = uuid::Uuid::new_v4().to_string();
            let resource_id = uuid::Uuid::new_v4().to_string();
            let resources = [match &table {
                Some(t) => t.resource(site, &resource_id),
                None => record_link(site, f.name),
            }];
            let mut ids = [dataset_id, resource_id].into_iter();
            let dataset = draft(f)
                .validate(
                    &resources,
                    || {
                        ids.next()
                            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
                    },
                    now_s,
                )
                .map_err(OpendataError::Invalid)?;
            if ignore_exists(store.insert_dataset(&dataset, ACTOR).await)? {
                open.index_dataset(&dataset.id).await?;
                added += 1;
            }
        }
        let (Some(table), Some(stored)) = (table, store.dataset(f.name).await?) else {
            continue;
        };
        for resource in &stored.resources {
            let ours =
                resource.url == dump_url(site, &resource.id) && resource.name.en == table.name[0];
            if ours && open.datastore().store().info(&resource.id).await?.is_none() {
                open.datastore()
                    .ingest(&resource.id, Format::Csv, table.bytes, ACTOR, now_s)
                    .await?;
            }
        }
    }
    Ok(added)
}

/// The figures a sentence states, each as a decimal in its normal form (no grouping commas, no
/// leading or trailing zeros): every number as written (`1,925`, `5.1`, `12`) and in Chinese
/// numerals (`八`, `二十`, `两`), and, when 万 or 亿 follows, also the number it makes
/// (`1,925 万` → `19250000`, `5.1 亿` → `510000000`, `两亿` → `200000000`).
pub fn figures(sentence: &str) -> BTreeSet<String> {
    let chars: Vec<char> = sentence.chars().collect();
    let mut out = BTreeSet::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        let (digits, next) = if c.is_ascii_digit() {
            arabic(&chars, i)
        } else if chinese_digit(c).is_some() || matches!(c, '十' | '百' | '千') {
            chinese(&chars, i)
        } else {
            i += 1;
            continue;
        };
        i = next;
        let Some(value) = canonical_shifted(&digits, 0) else {
            continue;
        };
        out.insert(value);
        let mut unit_at = next;
        while chars.get(unit_at).is_some_and(|c| *c == ' ') {
            unit_at += 1;
        }
        let shift = match chars.get(unit_at) {
            Some('万') => 4,
            Some('亿') => 8,
            _ => 0,
        };
        if let Some(scaled) = canonical_shifted(&digits, shift).filter(|_| shift > 0) {
            out.insert(scaled);
        }
    }
    out
}

/// A cell's text as a decimal in normal form, when it is a plain decimal number.
pub fn canonical(cell: &str) -> Option<String> {
    let cell = cell.trim();
    let plain = !cell.is_empty()
        && cell.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && cell.bytes().filter(|b| *b == b'.').count() <= 1;
    plain.then(|| canonical_shifted(cell, 0)).flatten()
}

/// `digits` (ASCII digits with at most one point) times 10^`shift`, in normal form.
fn canonical_shifted(digits: &str, shift: usize) -> Option<String> {
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    let mut fraction: String = fraction.to_owned();
    while fraction.len() < shift {
        fraction.push('0');
    }
    let (moved, rest) = fraction.split_at(shift);
    let whole = format!("{whole}{moved}");
    let whole = whole.trim_start_matches('0');
    let whole = if whole.is_empty() { "0" } else { whole };
    let rest = rest.trim_end_matches('0');
    Some(if rest.is_empty() {
        whole.to_owned()
    } else {
        format!("{whole}.{rest}")
    })
}

/// An Arabic number from `start`: digits, grouping commas and one decimal point, each comma
/// or point followed by a digit.
fn arabic(chars: &[char], start: usize) -> (String, usize) {
    let mut digits = String::new();
    let mut i = start;
    while let Some(&c) = chars.get(i) {
        let digit_follows = chars.get(i + 1).is_some_and(char::is_ascii_digit);
        match c {
            d if d.is_ascii_digit() => digits.push(d),
            ',' if digit_follows => {}
            '.' if digit_follows && !digits.contains('.') => digits.push('.'),
            _ => break,
        }
        i += 1;
    }
    (digits, i)
}

fn chinese_digit(c: char) -> Option<u64> {
    "零一二三四五六七八九"
        .chars()
        .position(|d| d == c)
        .and_then(|p| u64::try_from(p).ok())
        .or((c == '两').then_some(2))
}

/// A number in Chinese numerals below ten thousand from `start` (`八`, `十五`, `二十`,
/// `三百零五`).
fn chinese(chars: &[char], start: usize) -> (String, usize) {
    let mut total: u64 = 0;
    let mut digit: Option<u64> = None;
    let mut i = start;
    while let Some(&c) = chars.get(i) {
        if let Some(d) = chinese_digit(c) {
            digit = Some(d);
        } else if let Some(scale) = match c {
            '十' => Some(10),
            '百' => Some(100),
            '千' => Some(1000),
            _ => None,
        } {
            total = total.saturating_add(digit.take().unwrap_or(1).saturating_mul(scale));
        } else {
            break;
        }
        i += 1;
    }
    total = total.saturating_add(digit.unwrap_or(0));
    (total.to_string(), i)
}
