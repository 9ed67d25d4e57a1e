//! Demo residents for a new embedded installation. Their HKIDs are made up, with valid check
//! characters computed by the domain rule; the prefixes are ordinary card letters.

use crate::domain::ResidentDraft;

/// (prefix, six digits, English name, Chinese name, date of birth, gender, mobile, email, address)
type Demo = (
    &'static str,
    [u8; 6],
    &'static str,
    Option<&'static str>,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
);

const RESIDENTS: &[Demo] = &[
    (
        "A",
        [1, 2, 3, 4, 5, 6],
        "CHAN, Tai Man",
        Some("陳大文"),
        "1980-02-29",
        "M",
        "+852 9123 4567",
        "taiman.chan@example.hk",
        &[
            "Flat A, 10/F, Harbour View Court",
            "1 Queen's Road Central",
            "Central, Hong Kong",
        ],
    ),
    (
        "Y",
        [5, 2, 3, 1, 8, 7],
        "WONG, Siu Ling",
        Some("黃小玲"),
        "1992-07-15",
        "F",
        "+852 6234 5678",
        "siuling.wong@example.hk",
        &["Room 1203, Block B, Lok Fu Estate", "Wang Tau Hom, Kowloon"],
    ),
    (
        "K",
        [7, 0, 4, 2, 9, 1],
        "LEE, Ka Chun",
        Some("李家俊"),
        "1965-11-03",
        "M",
        "+852 5123 8888",
        "kachun.lee@example.hk",
        &["House 12, Tai Po Kau Village", "Tai Po, New Territories"],
    ),
    (
        "R",
        [3, 3, 8, 1, 0, 5],
        "CHEUNG, Mei Kuen",
        Some("張美娟"),
        "1948-04-21",
        "F",
        "+852 9876 5432",
        "meikuen.cheung@example.hk",
        &["Flat 5, 3/F, Wah Fu Estate", "Pok Fu Lam, Hong Kong"],
    ),
    (
        "XA",
        [0, 1, 2, 7, 7, 3],
        "SMITH, John Peter",
        None,
        "1975-09-09",
        "M",
        "+852 6000 1234",
        "john.smith@example.com",
        &["22/F, 8 Finance Street", "Central, Hong Kong"],
    ),
];

/// The demo residents as registration drafts.
pub fn residents() -> Vec<ResidentDraft> {
    RESIDENTS
        .iter()
        .filter_map(
            |(prefix, digits, english, chinese, dob, gender, mobile, email, address)| {
                let hkid = crate::domain::Hkid::from_parts(prefix, *digits).ok()?;
                Some(ResidentDraft {
                    english_name: (*english).to_owned(),
                    chinese_name: chinese.map(str::to_owned),
                    hkid: hkid.expose(),
                    date_of_birth: (*dob).to_owned(),
                    gender: (*gender).to_owned(),
                    mobile: Some((*mobile).to_owned()),
                    email: Some((*email).to_owned()),
                    residential_address: address.iter().map(|l| (*l).to_owned()).collect(),
                    postal_address: None,
                })
            },
        )
        .collect()
}
