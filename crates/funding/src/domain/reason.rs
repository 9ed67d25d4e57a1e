//! Why a scheme fits or does not: one structured [`Reason`] per rule checked, with a stable
//! machine code and a plain-language sentence in each portal language.

use bauhinia_core::{Lang, Localized, Money};

use super::profile::University;
use super::scheme::{
    ApplicantType, MatchingRatio, PartialDate, Purpose, SchemeId, SchemeKind, Sector,
};

#[derive(Debug, Clone, PartialEq)]
pub enum Reason {
    // Rules met.
    ApplicantTypeAccepted(ApplicantType),
    AnySector,
    SectorCovered(Vec<Sector>),
    SmeConfirmed {
        employees: u32,
        limit: u32,
    },
    PurposeMatches(Vec<Purpose>),
    OperatesInHongKong,
    ProductionLineInHongKong,
    UgcUniversity(University),
    ProjectCostMeetsMinimum {
        cost: Money,
        minimum: Money,
    },
    RequiredSchemeHeld(SchemeId, Localized),
    ProjectsBelowLimit {
        current: u32,
        max: u32,
    },
    // The grant.
    GrantByRatio {
        cost: Money,
        ratio: MatchingRatio,
        share: Money,
    },
    GrantCapped {
        cap: Money,
        per_project: bool,
    },
    GrantRatioNotStated,
    GrantNotStated,
    GrantNeedsProjectCost,
    NotAGrant(SchemeKind),
    // Status caveats.
    Planned {
        opens: Option<PartialDate>,
    },
    StatusNotStated,
    // Rules not met.
    Closed {
        closes: Option<PartialDate>,
    },
    ApplicantTypeNotAccepted {
        given: ApplicantType,
        accepted: Vec<ApplicantType>,
    },
    SectorNotCovered(Vec<Sector>),
    NotSme {
        employees: u32,
        limit: u32,
    },
    EmployeesNeeded {
        limit: u32,
    },
    PurposeMismatch(Vec<Purpose>),
    NotInHongKong,
    NoProductionLineInHongKong,
    NotUgcUniversity,
    ProjectCostBelowMinimum {
        cost: Money,
        minimum: Money,
    },
    ProjectCostNeeded {
        minimum: Money,
    },
    RequiredSchemeMissing(SchemeId, Localized),
    ConcurrentLimitReached {
        current: u32,
        max: u32,
    },
}

fn join<T: Copy>(items: &[T], lang: Lang, label: impl Fn(T, Lang) -> &'static str) -> String {
    let separator = if lang == Lang::En { ", " } else { "、" };
    items
        .iter()
        .map(|i| label(*i, lang))
        .collect::<Vec<_>>()
        .join(separator)
}

fn date(d: Option<PartialDate>, lang: Lang) -> String {
    match (d, lang) {
        (Some(d), _) => d.to_string(),
        (None, Lang::En) => "date not stated".into(),
        (None, Lang::ZhHant) => "日期未有說明".into(),
        (None, Lang::ZhHans) => "日期未有说明".into(),
    }
}

impl Reason {
    /// A stable snake_case code for machine clients.
    pub fn code(&self) -> &'static str {
        use Reason::*;
        match self {
            ApplicantTypeAccepted(_) => "applicant_type_accepted",
            AnySector => "any_sector",
            SectorCovered(_) => "sector_covered",
            SmeConfirmed { .. } => "sme_confirmed",
            PurposeMatches(_) => "purpose_matches",
            OperatesInHongKong => "operates_in_hong_kong",
            ProductionLineInHongKong => "production_line_in_hong_kong",
            UgcUniversity(_) => "ugc_university",
            ProjectCostMeetsMinimum { .. } => "project_cost_meets_minimum",
            RequiredSchemeHeld(..) => "required_scheme_held",
            ProjectsBelowLimit { .. } => "projects_below_limit",
            GrantByRatio { .. } => "grant_by_ratio",
            GrantCapped { .. } => "grant_capped",
            GrantRatioNotStated => "grant_ratio_not_stated",
            GrantNotStated => "grant_not_stated",
            GrantNeedsProjectCost => "grant_needs_project_cost",
            NotAGrant(_) => "not_a_grant",
            Planned { .. } => "planned",
            StatusNotStated => "status_not_stated",
            Closed { .. } => "closed",
            ApplicantTypeNotAccepted { .. } => "applicant_type_not_accepted",
            SectorNotCovered(_) => "sector_not_covered",
            NotSme { .. } => "not_sme",
            EmployeesNeeded { .. } => "employees_needed",
            PurposeMismatch(_) => "purpose_mismatch",
            NotInHongKong => "not_in_hong_kong",
            NoProductionLineInHongKong => "no_production_line_in_hong_kong",
            NotUgcUniversity => "not_ugc_university",
            ProjectCostBelowMinimum { .. } => "project_cost_below_minimum",
            ProjectCostNeeded { .. } => "project_cost_needed",
            RequiredSchemeMissing(..) => "required_scheme_missing",
            ConcurrentLimitReached { .. } => "concurrent_limit_reached",
        }
    }

    /// The reason as one plain-language sentence.
    pub fn text(&self, lang: Lang) -> String {
        use Reason::*;
        let l = lang;
        let pick = |hant: String, hans: String, en: String| l.pick(hant, hans, en);
        match self {
            ApplicantTypeAccepted(t) => pick(
                format!("接受{}申請。", t.label(l)),
                format!("接受{}申请。", t.label(l)),
                format!("{} applicants are accepted.", t.label(l)),
            ),
            AnySector => pick("不限行業。".into(), "不限行业。".into(), "Open to every sector.".into()),
            SectorCovered(s) => pick(
                format!("涵蓋你的行業：{}。", join(s, l, Sector::label)),
                format!("涵盖你的行业：{}。", join(s, l, Sector::label)),
                format!("Covers your sector: {}.", join(s, l, Sector::label)),
            ),
            SmeConfirmed { employees, limit } => pick(
                format!("{employees} 名僱員，符合中小企定義（少於 {limit} 人）。"),
                format!("{employees} 名雇员，符合中小企定义（少于 {limit} 人）。"),
                format!("{employees} employees: an SME under Hong Kong's definition (fewer than {limit})."),
            ),
            PurposeMatches(p) => pick(
                format!("資助用途相符：{}。", join(p, l, Purpose::label)),
                format!("资助用途相符：{}。", join(p, l, Purpose::label)),
                format!("Funds what you need: {}.", join(p, l, Purpose::label)),
            ),
            OperatesInHongKong => pick("你在香港營運。".into(), "你在香港营运。".into(), "You operate in Hong Kong.".into()),
            ProductionLineInHongKong => pick(
                "你在香港營運生產線。".into(),
                "你在香港营运生产线。".into(),
                "You run a production line in Hong Kong.".into(),
            ),
            UgcUniversity(u) => pick(
                format!("{}是教資會資助大學。", u.label(l)),
                format!("{}是教资会资助大学。", u.label(l)),
                format!("{} is a UGC-funded university.", u.label(l)),
            ),
            ProjectCostMeetsMinimum { cost, minimum } => pick(
                format!("項目成本 {} 達到最低要求 {}。", cost.display_grouped(), minimum.display_grouped()),
                format!("项目成本 {} 达到最低要求 {}。", cost.display_grouped(), minimum.display_grouped()),
                format!("Project cost {} meets the minimum of {}.", cost.display_grouped(), minimum.display_grouped()),
            ),
            RequiredSchemeHeld(_, name) => pick(
                format!("你已獲「{}」資助。", name.zh_hant),
                format!("你已获「{}」资助。", name.zh_hans),
                format!("You are already funded under the {}.", name.en),
            ),
            ProjectsBelowLimit { current, max } => pick(
                format!("你現有 {current} 個項目，上限為同時 {max} 個。"),
                format!("你现有 {current} 个项目，上限为同时 {max} 个。"),
                format!("You run {current} project(s); up to {max} may run at once."),
            ),
            GrantByRatio { cost, ratio, share } => pick(
                format!(
                    "按 {}（政府）：{}（申請者）配對，{} 的政府份額為 {}。",
                    ratio.government, ratio.applicant, cost.display_grouped(), share.display_grouped()
                ),
                format!(
                    "按 {}（政府）：{}（申请者）配对，{} 的政府份额为 {}。",
                    ratio.government, ratio.applicant, cost.display_grouped(), share.display_grouped()
                ),
                format!(
                    "Matched {} (government) : {} (you): the government's share of {} is {}.",
                    ratio.government, ratio.applicant, cost.display_grouped(), share.display_grouped()
                ),
            ),
            GrantCapped { cap, per_project: true } => pick(
                format!("每個項目上限 {}。", cap.display_grouped()),
                format!("每个项目上限 {}。", cap.display_grouped()),
                format!("Capped at {} per project.", cap.display_grouped()),
            ),
            GrantCapped { cap, per_project: false } => pick(
                format!("每名申請者上限 {}。", cap.display_grouped()),
                format!("每名申请者上限 {}。", cap.display_grouped()),
                format!("Capped at {} per applicant.", cap.display_grouped()),
            ),
            GrantRatioNotStated => pick(
                "資料未有說明配對比例，最高資助按上限計算。".into(),
                "资料未有说明配对比例，最高资助按上限计算。".into(),
                "The fact sheet gives no matching ratio, so the maximum is the cap.".into(),
            ),
            GrantNotStated => pick(
                "資料未有說明資助上限或配對比例。".into(),
                "资料未有说明资助上限或配对比例。".into(),
                "The fact sheet states no cap or matching ratio for this scheme.".into(),
            ),
            GrantNeedsProjectCost => pick(
                "請提供項目成本以計算配對資助。".into(),
                "请提供项目成本以计算配对资助。".into(),
                "Give the project cost to compute the matched grant.".into(),
            ),
            NotAGrant(kind) => {
                let (hant, hans, en) = match kind {
                    SchemeKind::Investment => ("此計劃以投資形式支持，並非資助。", "此计划以投资形式支持，并非资助。", "This scheme invests; it does not give grants."),
                    SchemeKind::Incubation => ("此計劃提供培育支援，資助金額未有說明。", "此计划提供培育支援，资助金额未有说明。", "This scheme offers incubation support; no grant amount applies."),
                    _ => ("此計劃不涉及資助金額。", "此计划不涉及资助金额。", "This scheme does not pay a grant."),
                };
                pick(hant.into(), hans.into(), en.into())
            }
            Planned { opens } => pick(
                format!("計劃已公布但尚未接受申請（{}）。", date(*opens, l)),
                format!("计划已公布但尚未接受申请（{}）。", date(*opens, l)),
                format!("Announced but not yet accepting applications ({}).", date(*opens, l)),
            ),
            StatusNotStated => pick(
                "資料未有說明申請期。".into(),
                "资料未有说明申请期。".into(),
                "The fact sheet does not say when applications are accepted.".into(),
            ),
            Closed { closes } => pick(
                format!("已截止申請（{}）。", date(*closes, l)),
                format!("已截止申请（{}）。", date(*closes, l)),
                format!("Closed to applications ({}).", date(*closes, l)),
            ),
            ApplicantTypeNotAccepted { given, accepted } => pick(
                format!("只接受{}申請，不接受{}。", join(accepted, l, ApplicantType::label), given.label(l)),
                format!("只接受{}申请，不接受{}。", join(accepted, l, ApplicantType::label), given.label(l)),
                format!("Only for: {}; not for {}.", join(accepted, l, ApplicantType::label), given.label(l).to_lowercase()),
            ),
            SectorNotCovered(s) => pick(
                format!("只涵蓋以下行業：{}。", join(s, l, Sector::label)),
                format!("只涵盖以下行业：{}。", join(s, l, Sector::label)),
                format!("Only for these sectors: {}.", join(s, l, Sector::label)),
            ),
            NotSme { employees, limit } => pick(
                format!("只限中小企：{employees} 名僱員超出上限（少於 {limit} 人）。"),
                format!("只限中小企：{employees} 名雇员超出上限（少于 {limit} 人）。"),
                format!("Only for SMEs: {employees} employees is not fewer than {limit}."),
            ),
            EmployeesNeeded { limit } => pick(
                format!("只限中小企（少於 {limit} 名僱員）：請提供僱員人數。"),
                format!("只限中小企（少于 {limit} 名雇员）：请提供雇员人数。"),
                format!("Only for SMEs (fewer than {limit} employees): give your number of employees."),
            ),
            PurposeMismatch(p) => pick(
                format!("資助用途不符：此計劃資助{}。", join(p, l, Purpose::label)),
                format!("资助用途不符：此计划资助{}。", join(p, l, Purpose::label)),
                format!("Funds something else: {}.", join(p, l, Purpose::label)),
            ),
            NotInHongKong => pick("只限在香港營運的申請者。".into(), "只限在香港营运的申请者。".into(), "Only for applicants operating in Hong Kong.".into()),
            NoProductionLineInHongKong => pick(
                "只限在香港營運生產線的企業。".into(),
                "只限在香港营运生产线的企业。".into(),
                "Only for enterprises running a production line in Hong Kong.".into(),
            ),
            NotUgcUniversity => pick(
                "只限八所教資會資助大學或其團隊。".into(),
                "只限八所教资会资助大学或其团队。".into(),
                "Only for the eight UGC-funded universities or their teams.".into(),
            ),
            ProjectCostBelowMinimum { cost, minimum } => pick(
                format!("項目成本 {} 低於最低要求 {}。", cost.display_grouped(), minimum.display_grouped()),
                format!("项目成本 {} 低于最低要求 {}。", cost.display_grouped(), minimum.display_grouped()),
                format!("Project cost {} is below the minimum of {}.", cost.display_grouped(), minimum.display_grouped()),
            ),
            ProjectCostNeeded { minimum } => pick(
                format!("項目成本最少 {}：請提供項目成本。", minimum.display_grouped()),
                format!("项目成本最少 {}：请提供项目成本。", minimum.display_grouped()),
                format!("Needs a project cost of at least {}: give your project cost.", minimum.display_grouped()),
            ),
            RequiredSchemeMissing(_, name) => pick(
                format!("只限已獲「{}」資助的公司。", name.zh_hant),
                format!("只限已获「{}」资助的公司。", name.zh_hans),
                format!("Only for companies already funded under the {}.", name.en),
            ),
            ConcurrentLimitReached { current, max } => pick(
                format!("你已有 {current} 個項目，已達同時進行上限 {max} 個。"),
                format!("你已有 {current} 个项目，已达同时进行上限 {max} 个。"),
                format!("You already run {current} project(s), the limit of {max} at once."),
            ),
        }
    }
}
