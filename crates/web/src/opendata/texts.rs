//! The strings of the open data pages, one struct per language (a missing translation does not
//! compile), and the vocabularies' names.

use bauhinia_core::Lang;
use bauhinia_opendata::domain::quality::Criterion;
use bauhinia_opendata::domain::{Frequency, Licence};

#[derive(Debug)]
pub struct OpenDataTexts {
    pub title: &'static str,
    pub intro: &'static str,
    pub search_label: &'static str,
    pub search_placeholder: &'static str,
    pub search_button: &'static str,
    pub results_heading: &'static str,
    pub no_results: &'static str,
    pub filters_heading: &'static str,
    pub facet_organization: &'static str,
    pub facet_groups: &'static str,
    pub facet_res_format: &'static str,
    pub facet_tags: &'static str,
    pub facet_license: &'static str,
    pub remove_filter: &'static str,
    pub clear_filters: &'static str,
    pub previous: &'static str,
    pub next: &'static str,
    pub provider: &'static str,
    pub categories: &'static str,
    pub tags: &'static str,
    pub licence: &'static str,
    pub frequency: &'static str,
    pub temporal: &'static str,
    pub to_date: &'static str,
    pub spatial: &'static str,
    pub modified: &'static str,
    pub about: &'static str,
    pub resources: &'static str,
    pub format: &'static str,
    pub size: &'static str,
    pub download: &'static str,
    pub preview: &'static str,
    pub preview_note: &'static str,
    pub no_preview: &'static str,
    pub features: &'static str,
    pub data_api: &'static str,
    pub dump_csv: &'static str,
    pub dump_json: &'static str,
    pub api_heading: &'static str,
    pub api_intro: &'static str,
    pub quality: &'static str,
    pub met: &'static str,
    pub not_met: &'static str,
    pub not_found_title: &'static str,
    pub not_found_body: &'static str,
    pub back_to_search: &'static str,
}

impl OpenDataTexts {
    pub fn get(lang: Lang) -> &'static OpenDataTexts {
        match lang {
            Lang::ZhHant => &ZH_HANT,
            Lang::ZhHans => &ZH_HANS,
            Lang::En => &EN,
        }
    }

    /// "12 datasets", "12 個數據集".
    pub fn count(&self, n: usize, lang: Lang) -> String {
        match lang {
            Lang::ZhHant => format!("{n} 個數據集"),
            Lang::ZhHans => format!("{n} 个数据集"),
            Lang::En if n == 1 => "1 dataset".to_owned(),
            Lang::En => format!("{n} datasets"),
        }
    }

    /// "The first 20 of 42,000 features".
    pub fn features_shown(&self, shown: usize, total: usize, lang: Lang) -> String {
        match lang {
            Lang::ZhHant => format!("顯示首 {shown} 個地理要素，共 {total} 個"),
            Lang::ZhHans => format!("显示首 {shown} 个地理要素，共 {total} 个"),
            Lang::En => format!("The first {shown} of {total} features"),
        }
    }

    /// "Rows 1–20 of 4,000".
    pub fn rows_shown(&self, shown: usize, total: i64, lang: Lang) -> String {
        match lang {
            Lang::ZhHant => format!("顯示首 {shown} 行，共 {total} 行"),
            Lang::ZhHans => format!("显示首 {shown} 行，共 {total} 行"),
            Lang::En => format!("The first {shown} of {total} rows"),
        }
    }
}

pub fn frequency(frequency: Frequency, lang: Lang) -> &'static str {
    let [tc, sc, en] = match frequency {
        Frequency::Realtime => ["實時", "实时", "Real time"],
        Frequency::Hourly => ["每小時", "每小时", "Hourly"],
        Frequency::Daily => ["每日", "每日", "Daily"],
        Frequency::Weekly => ["每週", "每周", "Weekly"],
        Frequency::Monthly => ["每月", "每月", "Monthly"],
        Frequency::Quarterly => ["每季", "每季", "Quarterly"],
        Frequency::HalfYearly => ["每半年", "每半年", "Half-yearly"],
        Frequency::Yearly => ["每年", "每年", "Yearly"],
        Frequency::Irregular => ["不定期", "不定期", "Irregular"],
        Frequency::NotUpdated => ["不再更新", "不再更新", "Not updated"],
    };
    pick(lang, tc, sc, en)
}

pub fn criterion(criterion: Criterion, lang: Lang) -> &'static str {
    let [tc, sc, en] = match criterion {
        Criterion::Description => [
            "三種語言都有足夠的說明",
            "三种语言都有足够的说明",
            "Described well, in all three languages",
        ],
        Criterion::Tags => ["有標籤", "有标签", "Has tags"],
        Criterion::HasResources => ["有數據資源", "有数据资源", "Has resources"],
        Criterion::OpenFormat => [
            "以開放及機器可讀格式提供",
            "以开放及机器可读格式提供",
            "In an open, machine-readable format",
        ],
        Criterion::ResourcesDocumented => [
            "每項資源都有說明",
            "每项资源都有说明",
            "Every resource is documented",
        ],
        Criterion::Licence => [
            "註明開放使用條款",
            "注明开放使用条款",
            "States an open licence",
        ],
        Criterion::TemporalCoverage => [
            "註明數據涵蓋期間",
            "注明数据涵盖期间",
            "States the period covered",
        ],
        Criterion::SpatialCoverage => [
            "註明地理涵蓋範圍",
            "注明地理涵盖范围",
            "States the area covered",
        ],
        Criterion::UpdatedOnTime => [
            "按所述頻率更新",
            "按所述频率更新",
            "Updated as often as it says",
        ],
    };
    pick(lang, tc, sc, en)
}

pub fn licence(licence: Licence, lang: Lang) -> &'static str {
    let [tc, sc, en] = match licence {
        Licence::DataGovHkTerms => [
            "資料一線通使用條款",
            "资料一线通使用条款",
            "DATA.GOV.HK Terms and Conditions of Use",
        ],
        Licence::CcBy => [
            "創用 CC 姓名標示",
            "知识共享署名",
            "Creative Commons Attribution",
        ],
        Licence::CcZero => [
            "CC0 公眾領域貢獻",
            "CC0 公共领域贡献",
            "Creative Commons CCZero",
        ],
        Licence::OtherOpen => ["其他（開放）", "其他（开放）", "Other (Open)"],
    };
    pick(lang, tc, sc, en)
}

fn pick(lang: Lang, tc: &'static str, sc: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::ZhHant => tc,
        Lang::ZhHans => sc,
        Lang::En => en,
    }
}

static ZH_HANT: OpenDataTexts = OpenDataTexts {
    title: "開放數據",
    intro: "政府部門、公營機構及其他機構開放的數據集，可免費下載及經 API 使用。",
    search_label: "搜尋數據集",
    search_placeholder: "例如：交通、空氣質素",
    search_button: "搜尋",
    results_heading: "搜尋結果",
    no_results: "找不到相符的數據集。請嘗試其他字詞或移除篩選條件。",
    filters_heading: "篩選",
    facet_organization: "數據提供者",
    facet_groups: "類別",
    facet_res_format: "格式",
    facet_tags: "標籤",
    facet_license: "使用條款",
    remove_filter: "移除篩選",
    clear_filters: "清除所有篩選",
    previous: "上一頁",
    next: "下一頁",
    provider: "數據提供者",
    categories: "類別",
    tags: "標籤",
    licence: "使用條款",
    frequency: "更新頻率",
    temporal: "數據涵蓋期間",
    to_date: "至今",
    spatial: "地理涵蓋範圍",
    modified: "最後更新",
    about: "關於此數據集",
    resources: "數據資源",
    format: "格式",
    size: "大小",
    download: "下載",
    preview: "預覽",
    preview_note: "預覽只顯示首數行；完整數據請下載或使用數據 API。",
    no_preview: "此資源沒有可預覽的表格或地理要素。",
    features: "地理要素",
    data_api: "數據 API",
    dump_csv: "下載全部（CSV）",
    dump_json: "下載全部（JSON）",
    api_heading: "以 API 使用",
    api_intro: "此目錄提供與 CKAN 相容的 API，ckanapi 等工具可直接使用。",
    quality: "數據質素",
    met: "符合",
    not_met: "未符合",
    not_found_title: "找不到數據集",
    not_found_body: "此數據集不存在，或未有公開。",
    back_to_search: "返回搜尋",
};

static ZH_HANS: OpenDataTexts = OpenDataTexts {
    title: "开放数据",
    intro: "政府部门、公营机构及其他机构开放的数据集，可免费下载及经 API 使用。",
    search_label: "搜索数据集",
    search_placeholder: "例如：交通、空气质素",
    search_button: "搜索",
    results_heading: "搜索结果",
    no_results: "找不到相符的数据集。请尝试其他字词或移除筛选条件。",
    filters_heading: "筛选",
    facet_organization: "数据提供者",
    facet_groups: "类别",
    facet_res_format: "格式",
    facet_tags: "标签",
    facet_license: "使用条款",
    remove_filter: "移除筛选",
    clear_filters: "清除所有筛选",
    previous: "上一页",
    next: "下一页",
    provider: "数据提供者",
    categories: "类别",
    tags: "标签",
    licence: "使用条款",
    frequency: "更新频率",
    temporal: "数据涵盖期间",
    to_date: "至今",
    spatial: "地理涵盖范围",
    modified: "最后更新",
    about: "关于此数据集",
    resources: "数据资源",
    format: "格式",
    size: "大小",
    download: "下载",
    preview: "预览",
    preview_note: "预览只显示首数行；完整数据请下载或使用数据 API。",
    no_preview: "此资源没有可预览的表格或地理要素。",
    features: "地理要素",
    data_api: "数据 API",
    dump_csv: "下载全部（CSV）",
    dump_json: "下载全部（JSON）",
    api_heading: "以 API 使用",
    api_intro: "此目录提供与 CKAN 兼容的 API，ckanapi 等工具可直接使用。",
    quality: "数据质素",
    met: "符合",
    not_met: "未符合",
    not_found_title: "找不到数据集",
    not_found_body: "此数据集不存在，或未有公开。",
    back_to_search: "返回搜索",
};

static EN: OpenDataTexts = OpenDataTexts {
    title: "Open data",
    intro: "Datasets opened by government departments, public bodies and other organisations, free to download and to use through APIs.",
    search_label: "Search datasets",
    search_placeholder: "For example: transport, air quality",
    search_button: "Search",
    results_heading: "Results",
    no_results: "No dataset matches. Try other words or remove a filter.",
    filters_heading: "Filters",
    facet_organization: "Providers",
    facet_groups: "Categories",
    facet_res_format: "Formats",
    facet_tags: "Tags",
    facet_license: "Licences",
    remove_filter: "Remove filter",
    clear_filters: "Clear all filters",
    previous: "Previous",
    next: "Next",
    provider: "Provider",
    categories: "Categories",
    tags: "Tags",
    licence: "Licence",
    frequency: "Update frequency",
    temporal: "Period covered",
    to_date: "to date",
    spatial: "Area covered",
    modified: "Last updated",
    about: "About this dataset",
    resources: "Resources",
    format: "Format",
    size: "Size",
    download: "Download",
    preview: "Preview",
    preview_note: "The preview shows the first rows only; download the data or use the data API for all of it.",
    no_preview: "This resource has no table or features to preview.",
    features: "Features",
    data_api: "Data API",
    dump_csv: "Download all (CSV)",
    dump_json: "Download all (JSON)",
    api_heading: "Use it through the API",
    api_intro: "This catalogue has a CKAN-compatible API: tools such as ckanapi work with it unchanged.",
    quality: "Data quality",
    met: "met",
    not_met: "not met",
    not_found_title: "Dataset not found",
    not_found_body: "This dataset does not exist, or is not published.",
    back_to_search: "Back to search",
};
