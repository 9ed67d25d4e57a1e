//! DATA.GOV.HK's 19 categories, fixed in code: the catalogue's CKAN groups. Their names are
//! DATA.GOV.HK's own; the store holds a row for each so datasets can refer to them.

use bauhinia_core::Localized;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Category {
    pub name: &'static str,
    pub en: &'static str,
    pub zh_hant: &'static str,
    pub zh_hans: &'static str,
}

impl Category {
    pub fn title(&self) -> Localized {
        Localized {
            en: self.en.to_owned(),
            zh_hant: self.zh_hant.to_owned(),
            zh_hans: self.zh_hans.to_owned(),
        }
    }
}

const fn c(
    name: &'static str,
    en: &'static str,
    zh_hant: &'static str,
    zh_hans: &'static str,
) -> Category {
    Category {
        name,
        en,
        zh_hant,
        zh_hans,
    }
}

pub const CATEGORIES: [Category; 19] = [
    c("city-management", "City Management", "城市管理", "城市管理"),
    c(
        "climate-and-weather",
        "Climate and Weather",
        "氣候及天氣",
        "气候及天气",
    ),
    c(
        "commerce-and-industry",
        "Commerce and Industry",
        "工商業",
        "工商业",
    ),
    c("development", "Development", "發展", "发展"),
    c("education", "Education", "教育", "教育"),
    c(
        "employment-and-labour",
        "Employment and Labour",
        "就業及勞工",
        "就业及劳工",
    ),
    c("environment", "Environment", "環境", "环境"),
    c("finance", "Finance", "財經", "财经"),
    c("food", "Food", "食物", "食物"),
    c("health", "Health", "衞生", "卫生"),
    c("housing", "Housing", "房屋", "房屋"),
    c(
        "information-technology-and-broadcasting",
        "Information Technology and Broadcasting",
        "資訊科技及廣播",
        "资讯科技及广播",
    ),
    c(
        "law-and-security",
        "Law and Security",
        "法律及保安",
        "法律及保安",
    ),
    c("legislature", "Legislature", "立法", "立法"),
    c("miscellaneous", "Miscellaneous", "其他", "其他"),
    c("population", "Population", "人口", "人口"),
    c(
        "recreation-and-culture",
        "Recreation and Culture",
        "康樂及文化",
        "康乐及文化",
    ),
    c("social-welfare", "Social Welfare", "社會福利", "社会福利"),
    c("transport", "Transport", "運輸", "运输"),
];

/// The category with this name.
pub fn find(name: &str) -> Option<&'static Category> {
    CATEGORIES.iter().find(|c| c.name == name)
}
