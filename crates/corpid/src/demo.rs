//! The demo directory of a new embedded installation: seven synthetic businesses — made-up
//! BRNs (all starting 9), names, addresses, directors and licences, each English name ending
//! in "(SYNTHETIC)" — represented by the identity module's demo residents:
//!
//! - CHAN, Tai Man administers Harbour Lights Trading (X) and signs for Chan Kee Cha Chaan
//!   Teng (Y), so he chooses at login;
//! - WONG, Siu Ling is a user of X and runs her own florist;
//! - LEE, Ka Chun administers Lee & Partners Company Secretarial (Z), which holds a delegation
//!   in force to sign for Y and one for X that has ended;
//! - Y needs two signatories.
//!
//! Idempotent: a business whose BRN is registered already is left as it is.

use bauhinia_identity::domain::Hkid;
use bauhinia_identity::IdentityService;

use crate::domain::{
    Brn, BusinessDraft, DelegationTerms, DirectorDraft, LicenceDraft, Role, SignatoriesRequired,
};
use crate::error::CorpIdError;
use crate::service::CorpIdService;
use crate::store::Caller;

const ACTOR: &str = "system:demo";
const DAY_S: i64 = 86_400;

/// The demo residents by their HKIDs (see `bauhinia_identity::demo`).
type DemoHkid = (&'static str, [u8; 6]);
const CHAN: DemoHkid = ("A", [1, 2, 3, 4, 5, 6]);
const WONG: DemoHkid = ("Y", [5, 2, 3, 1, 8, 7]);
const LEE: DemoHkid = ("K", [7, 0, 4, 2, 9, 1]);
const CHEUNG: DemoHkid = ("R", [3, 3, 8, 1, 0, 5]);
const SMITH: DemoHkid = ("XA", [0, 1, 2, 7, 7, 3]);

pub const X_BRN: &str = "91000001";
pub const Y_BRN: &str = "91000002";
pub const Z_BRN: &str = "91000003";

struct Demo {
    brn: &'static str,
    form: &'static str,
    name_en: &'static str,
    name_zh: Option<&'static str>,
    address: &'static [&'static str],
    registered_on: &'static str,
    /// (English name, Chinese name, appointed on, the director's HKID when a demo resident)
    directors: &'static [(
        &'static str,
        Option<&'static str>,
        &'static str,
        Option<DemoHkid>,
    )],
    /// (HKID, role): the first is the administrator the business is registered with.
    representatives: &'static [(DemoHkid, Role)],
    signatories_required: i64,
    /// (type, number, issuer, valid from, valid until)
    licences: &'static [(
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        Option<&'static str>,
    )],
}

const BUSINESSES: &[Demo] = &[
    Demo {
        brn: X_BRN,
        form: "private_limited_by_shares",
        name_en: "Harbour Lights Trading Limited (SYNTHETIC)",
        name_zh: Some("港灣燈火貿易有限公司"),
        address: &[
            "Unit 1203, 12/F, Harbour Commercial Building",
            "25 Harbour Road",
            "Wan Chai, Hong Kong",
        ],
        registered_on: "2015-03-02",
        directors: &[
            ("CHAN, Tai Man", Some("陳大文"), "2015-03-02", Some(CHAN)),
            ("HO, Wing Yee", Some("何詠儀"), "2018-07-01", None),
        ],
        representatives: &[(CHAN, Role::Administrator), (WONG, Role::User)],
        signatories_required: 1,
        licences: &[(
            "Dutiable Commodities Licence (import and export)",
            "DCL-2025-004512",
            "Customs and Excise Department",
            "2025-06-01",
            Some("2026-05-31"),
        )],
    },
    Demo {
        brn: Y_BRN,
        form: "partnership",
        name_en: "Chan Kee Cha Chaan Teng (SYNTHETIC)",
        name_zh: Some("陳記茶餐廳"),
        address: &["G/F, 38 Fuk Wing Street", "Sham Shui Po, Kowloon"],
        registered_on: "2009-10-15",
        directors: &[],
        representatives: &[
            (CHEUNG, Role::Administrator),
            (CHAN, Role::AuthorisedSignatory),
        ],
        signatories_required: 2,
        licences: &[(
            "General Restaurant Licence",
            "2123456789",
            "Food and Environmental Hygiene Department",
            "2025-04-01",
            Some("2026-03-31"),
        )],
    },
    Demo {
        brn: Z_BRN,
        form: "private_limited_by_shares",
        name_en: "Lee & Partners Company Secretarial Services Limited (SYNTHETIC)",
        name_zh: Some("李氏公司秘書服務有限公司"),
        address: &[
            "Room 808, 8/F, Tai Po Commercial Centre",
            "152 Kwong Fuk Road",
            "Tai Po, New Territories",
        ],
        registered_on: "2001-05-21",
        directors: &[("LEE, Ka Chun", Some("李家俊"), "2001-05-21", Some(LEE))],
        representatives: &[(LEE, Role::Administrator)],
        signatories_required: 1,
        licences: &[(
            "Trust or Company Service Provider Licence",
            "TC001234",
            "Companies Registry",
            "2024-03-01",
            Some("2027-02-28"),
        )],
    },
    Demo {
        brn: "91000004",
        form: "public_limited_by_shares",
        name_en: "Kowloon Bay Logistics Holdings Limited (SYNTHETIC)",
        name_zh: Some("九龍灣物流控股有限公司"),
        address: &[
            "20/F, Enterprise Square Tower 9",
            "9 Sheung Yuet Road",
            "Kowloon Bay, Kowloon",
        ],
        registered_on: "1997-08-11",
        directors: &[
            ("SMITH, John Peter", None, "2012-01-09", Some(SMITH)),
            ("NG, Kwok Keung", Some("吳國強"), "1997-08-11", None),
        ],
        representatives: &[(SMITH, Role::Administrator)],
        signatories_required: 2,
        licences: &[],
    },
    Demo {
        brn: "91000005",
        form: "limited_by_guarantee",
        name_en: "Tai Po Community Care Association Limited (SYNTHETIC)",
        name_zh: Some("大埔社區關懷協會有限公司"),
        address: &[
            "Unit 3, G/F, Fu Heng Shopping Centre",
            "Tai Po, New Territories",
        ],
        registered_on: "2012-11-30",
        directors: &[(
            "CHEUNG, Mei Kuen",
            Some("張美娟"),
            "2012-11-30",
            Some(CHEUNG),
        )],
        representatives: &[(CHEUNG, Role::Administrator)],
        signatories_required: 1,
        licences: &[(
            "Approved charitable institution (section 88, Inland Revenue Ordinance)",
            "91/12345",
            "Inland Revenue Department",
            "2013-02-01",
            None,
        )],
    },
    Demo {
        brn: "91000006",
        form: "sole_proprietorship",
        name_en: "Siu Ling Florist (SYNTHETIC)",
        name_zh: Some("小玲花店"),
        address: &["Shop 12, Lok Fu Market", "Wang Tau Hom, Kowloon"],
        registered_on: "2021-02-08",
        directors: &[],
        representatives: &[(WONG, Role::Administrator)],
        signatories_required: 1,
        licences: &[],
    },
    Demo {
        brn: "91000007",
        form: "registered_non_hong_kong",
        name_en: "Pacific Rim Software Pte. Ltd. (SYNTHETIC)",
        name_zh: None,
        address: &["Level 22, 8 Finance Street", "Central, Hong Kong"],
        registered_on: "2019-09-16",
        directors: &[("SMITH, John Peter", None, "2019-09-16", Some(SMITH))],
        representatives: &[(SMITH, Role::Administrator)],
        signatories_required: 1,
        licences: &[],
    },
];

async fn resident_id(
    identity: &IdentityService,
    hkid: &DemoHkid,
) -> Result<Option<String>, CorpIdError> {
    let Ok(hkid) = Hkid::from_parts(hkid.0, hkid.1) else {
        return Ok(None);
    };
    identity
        .find_by_hkid(&hkid)
        .await
        .map(|r| r.map(|r| r.id))
        .map_err(|e| CorpIdError::Corrupt(format!("finding a demo resident: {e}")))
}

/// Loads the demo directory at `now`; returns how many businesses it registered. Businesses
/// whose first administrator is not registered (demo residents missing) are skipped.
pub async fn load(
    corpid: &CorpIdService,
    identity: &IdentityService,
    now: i64,
) -> Result<usize, CorpIdError> {
    let operator = Caller::Operator(ACTOR.to_owned());
    let mut registered = 0;
    for demo in BUSINESSES {
        let brn = Brn::parse(demo.brn).map_err(|e| CorpIdError::Corrupt(e.to_string()))?;
        if corpid.store().business_by_brn(demo.brn).await?.is_some() {
            continue;
        }
        let Some((first, _)) = demo.representatives.first() else {
            continue;
        };
        let Some(administrator) = resident_id(identity, first).await? else {
            continue;
        };
        let mut directors = Vec::new();
        for (name_en, name_zh, appointed_on, hkid) in demo.directors {
            let linked = match hkid {
                Some(h) => resident_id(identity, h).await?,
                None => None,
            };
            directors.push(DirectorDraft {
                name_en: (*name_en).to_owned(),
                name_zh: name_zh.map(str::to_owned),
                appointed_on: (*appointed_on).to_owned(),
                resident_id: linked,
            });
        }
        let draft = BusinessDraft {
            brn: demo.brn.to_owned(),
            form: demo.form.to_owned(),
            name_en: demo.name_en.to_owned(),
            name_zh: demo.name_zh.map(str::to_owned),
            address: demo.address.iter().map(|l| (*l).to_owned()).collect(),
            registered_on: demo.registered_on.to_owned(),
            directors,
        };
        corpid
            .register(&draft, &administrator, &operator, now)
            .await?;
        for (hkid, role) in demo.representatives.iter().skip(1) {
            if let Some(id) = resident_id(identity, hkid).await? {
                corpid.grant(&brn, &id, *role, &operator, now).await?;
            }
        }
        if let Some(required) = SignatoriesRequired::new(demo.signatories_required) {
            corpid
                .set_signing_policy(&brn, required, &operator, now)
                .await?;
        }
        for (licence_type, number, issuer, from, until) in demo.licences {
            let draft = LicenceDraft {
                licence_type: (*licence_type).to_owned(),
                number: (*number).to_owned(),
                issuer: (*issuer).to_owned(),
                valid_from: (*from).to_owned(),
                valid_until: until.map(str::to_owned),
                status: "valid".to_owned(),
                shared: true,
            };
            corpid.add_licence(&brn, &draft, &operator, now).await?;
        }
        registered += 1;
    }
    if registered > 0 {
        delegations(corpid, &operator, now).await?;
    }
    Ok(registered)
}

/// Z signs for Y for a year from now; Z's delegation from X (as user) ran for a year and ended
/// thirty days ago — made as it would have been then.
async fn delegations(
    corpid: &CorpIdService,
    operator: &Caller,
    now: i64,
) -> Result<(), CorpIdError> {
    let parse = |b: &str| Brn::parse(b).map_err(|e| CorpIdError::Corrupt(e.to_string()));
    let (x, y, z) = (parse(X_BRN)?, parse(Y_BRN)?, parse(Z_BRN)?);
    let year = 365 * DAY_S;
    let invalid = |f: Vec<crate::domain::FieldFault>| CorpIdError::Invalid(f);
    let current = DelegationTerms::new(Some(Role::AuthorisedSignatory), now, now + year, now)
        .map_err(invalid)?;
    match corpid
        .create_delegation(&y, &z, &current, operator, now)
        .await
    {
        Ok(_) | Err(CorpIdError::DelegationExists) => {}
        Err(e) => return Err(e),
    }
    let then = now - year - 30 * DAY_S;
    let ended = DelegationTerms::new(Some(Role::User), then, then + year, then).map_err(invalid)?;
    match corpid
        .create_delegation(&x, &z, &ended, operator, then)
        .await
    {
        Ok(_) | Err(CorpIdError::DelegationExists) => Ok(()),
        Err(e) => Err(e),
    }
}
