//! Names of the vocabulary in the three portal languages, for reasons and questionnaires.

use bauhinia_core::Lang;

use super::profile::{Location, University};
use super::scheme::{ApplicantType, Purpose, Sector, Status};

macro_rules! labels {
    ($ty:ident { $( $variant:ident => ($hant:literal, $hans:literal, $en:literal), )* }) => {
        impl $ty {
            /// This value's name in `lang`.
            pub const fn label(self, lang: Lang) -> &'static str {
                match (self, lang) {
                    $(
                        ($ty::$variant, Lang::ZhHant) => $hant,
                        ($ty::$variant, Lang::ZhHans) => $hans,
                        ($ty::$variant, Lang::En) => $en,
                    )*
                }
            }
        }
    };
}

labels!(ApplicantType {
    Company => ("公司", "公司", "Company"),
    Sme => ("中小企", "中小企", "SME"),
    Manufacturer => ("製造商", "制造商", "Manufacturer"),
    Startup => ("初創企業", "初创企业", "Start-up"),
    UniversityTeam => ("大學研發團隊", "大学研发团队", "University research team"),
    University => ("大學", "大学", "University"),
    ResearchInstitution => ("研發機構", "研发机构", "Research institution"),
    School => ("學校", "学校", "School"),
    Student => ("學生", "学生", "Student"),
    Scholar => ("學者", "学者", "Scholar"),
    VentureCapitalFund => ("風險投資基金", "风险投资基金", "Venture capital fund"),
    StartupServiceProvider => ("初創企業服務機構", "初创企业服务机构", "Start-up service provider"),
    Organisation => ("機構", "机构", "Organisation"),
    Talent => ("科技人才", "科技人才", "Technology professional"),
});

labels!(Sector {
    Manufacturing => ("製造業", "制造业", "Manufacturing"),
    LifeHealthTechnology => ("生命健康科技", "生命健康科技", "Life and health technology"),
    AiDataScience => ("人工智能與數據科學", "人工智能与数据科学", "AI and data science"),
    AdvancedManufacturing => ("先進製造", "先进制造", "Advanced manufacturing"),
    NewEnergy => ("新能源科技", "新能源科技", "New energy technology"),
    Semiconductors => ("半導體", "半导体", "Semiconductors"),
    Retail => ("零售", "零售", "Retail"),
    FoodBeverage => ("餐飲", "餐饮", "Food and beverage"),
    Tourism => ("旅遊", "旅游", "Tourism"),
    PersonalServices => ("個人服務", "个人服务", "Personal services"),
    Transport => ("運輸", "运输", "Transport"),
    Logistics => ("物流", "物流", "Logistics"),
    FinancialServices => ("金融服務", "金融服务", "Financial services"),
    Ict => ("資訊及通訊科技", "信息及通讯科技", "Information and communications technology"),
    Aerospace => ("航天科技", "航天科技", "Aerospace"),
    Education => ("教育", "教育", "Education"),
    Other => ("其他", "其他", "Other"),
});

labels!(Purpose {
    SmartProductionLine => ("設立智能生產線", "设立智能生产线", "Set up a smart production line"),
    ProductionLineUpgrade => ("升級現有生產線", "升级现有生产线", "Upgrade an existing production line"),
    DigitalAdoption => ("採用數碼科技方案", "采用数码科技方案", "Adopt digital technology solutions"),
    ResearchDevelopment => ("研究及發展", "研究及发展", "Research and development"),
    Commercialisation => ("研發成果商品化", "研发成果商品化", "Commercialise research results"),
    HireResearchTalent => ("聘用研究人才", "聘用研究人才", "Hire research talent"),
    StaffTraining => ("員工科技培訓", "员工科技培训", "Train staff in technology"),
    StartupInvestment => ("初創企業投資", "初创企业投资", "Investment in a start-up"),
    Incubation => ("培育計劃", "培育计划", "Incubation"),
    Acceleration => ("設立加速器", "设立加速器", "Run an accelerator"),
    AiComputing => ("使用人工智能算力", "使用人工智能算力", "Use AI computing power"),
    TransportInnovation => ("交通創新科技", "交通创新科技", "Transport innovation"),
    FrontierResearch => ("前沿科技研究", "前沿科技研究", "Frontier research"),
    TechnologyTrial => ("公營機構試用", "公营机构试用", "Trial in the public sector"),
    Internship => ("創科實習", "创科实习", "I&T internship"),
    Scholarship => ("獎學金", "奖学金", "Scholarship"),
    TalentAdmission => ("人才入境", "人才入境", "Talent admission"),
    ItActivities => ("學校資訊科技活動", "学校信息科技活动", "School IT activities"),
    MainlandCollaboration => ("內地科研合作", "内地科研合作", "Research with the Mainland"),
    TechnologyTransfer => ("技術轉移", "技术转移", "Technology transfer"),
});

labels!(Status {
    Open => ("接受申請中", "接受申请中", "Open"),
    Closed => ("已截止", "已截止", "Closed"),
    Planned => ("即將推出", "即将推出", "Coming"),
    Ongoing => ("持續推行", "持续推行", "Ongoing"),
    NotStated => ("未有說明", "未有说明", "Not stated"),
});

labels!(Location {
    HongKong => ("香港", "香港", "Hong Kong"),
    GreaterBayArea => ("大灣區內地城市", "大湾区内地城市", "Greater Bay Area (Mainland cities)"),
    Mainland => ("內地其他地方", "内地其他地方", "Elsewhere in the Mainland"),
    Overseas => ("海外", "海外", "Overseas"),
});

labels!(University {
    None => ("沒有", "没有", "None"),
    Hku => ("香港大學", "香港大学", "The University of Hong Kong"),
    Cuhk => ("香港中文大學", "香港中文大学", "The Chinese University of Hong Kong"),
    Hkust => ("香港科技大學", "香港科技大学", "The Hong Kong University of Science and Technology"),
    Polyu => ("香港理工大學", "香港理工大学", "The Hong Kong Polytechnic University"),
    Cityu => ("香港城市大學", "香港城市大学", "City University of Hong Kong"),
    Hkbu => ("香港浸會大學", "香港浸会大学", "Hong Kong Baptist University"),
    Lingnan => ("嶺南大學", "岭南大学", "Lingnan University"),
    Eduhk => ("香港教育大學", "香港教育大学", "The Education University of Hong Kong"),
    Other => ("其他大學", "其他大学", "Another university"),
});
