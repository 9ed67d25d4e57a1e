//! What a service can ask for: OAuth scopes, and the profile fields residents release with
//! consent (iAM Smart's "form filling"). A scope stands for a fixed set of fields; a service
//! may also name single fields with the OpenID Connect `claims` request parameter.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

macro_rules! vocabulary {
    ($name:ident { $( $variant:ident => $text:literal ),* $(,)? }) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
        pub enum $name { $( #[serde(rename = $text)] $variant, )* }

        impl $name {
            pub const ALL: &'static [$name] = &[ $( $name::$variant, )* ];

            pub const fn as_str(self) -> &'static str {
                match self { $( $name::$variant => $text, )* }
            }

            pub fn parse(text: &str) -> Option<$name> {
                match text { $( $text => Some($name::$variant), )* _ => None }
            }
        }
    };
}

vocabulary!(Field {
    Hkid => "hkid",
    EnglishName => "english_name",
    ChineseName => "chinese_name",
    DateOfBirth => "date_of_birth",
    Gender => "gender",
    Mobile => "mobile",
    Email => "email",
    ResidentialAddress => "residential_address",
    PostalAddress => "postal_address",
});

vocabulary!(Scope {
    Openid => "openid",
    Profile => "profile",
    Email => "email",
    Phone => "phone",
    Address => "address",
    Corpid => "corpid",
});

impl Scope {
    /// The fields a scope releases.
    pub const fn fields(self) -> &'static [Field] {
        match self {
            Scope::Openid => &[],
            Scope::Profile => &[
                Field::EnglishName,
                Field::ChineseName,
                Field::DateOfBirth,
                Field::Gender,
            ],
            Scope::Email => &[Field::Email],
            Scope::Phone => &[Field::Mobile],
            Scope::Address => &[Field::ResidentialAddress, Field::PostalAddress],
            // Corporate login releases no personal field: its claims describe the business
            // the resident acts for (see `oidc::corporate`).
            Scope::Corpid => &[],
        }
    }
}

impl Field {
    /// The field's label on the consent screen.
    pub const fn label(self, lang: bauhinia_core::Lang) -> &'static str {
        use bauhinia_core::Lang::{En, ZhHans, ZhHant};
        match (self, lang) {
            (Field::Hkid, ZhHant) => "香港身份證號碼",
            (Field::Hkid, ZhHans) => "香港身份证号码",
            (Field::Hkid, En) => "HKID number",
            (Field::EnglishName, ZhHant) => "英文姓名",
            (Field::EnglishName, ZhHans) => "英文姓名",
            (Field::EnglishName, En) => "English name",
            (Field::ChineseName, ZhHant) => "中文姓名",
            (Field::ChineseName, ZhHans) => "中文姓名",
            (Field::ChineseName, En) => "Chinese name",
            (Field::DateOfBirth, ZhHant) => "出生日期",
            (Field::DateOfBirth, ZhHans) => "出生日期",
            (Field::DateOfBirth, En) => "Date of birth",
            (Field::Gender, ZhHant) => "性別",
            (Field::Gender, ZhHans) => "性别",
            (Field::Gender, En) => "Gender",
            (Field::Mobile, ZhHant) => "手提電話號碼",
            (Field::Mobile, ZhHans) => "手机号码",
            (Field::Mobile, En) => "Mobile number",
            (Field::Email, ZhHant) => "電郵地址",
            (Field::Email, ZhHans) => "电邮地址",
            (Field::Email, En) => "Email address",
            (Field::ResidentialAddress, ZhHant) => "住宅地址",
            (Field::ResidentialAddress, ZhHans) => "住宅地址",
            (Field::ResidentialAddress, En) => "Residential address",
            (Field::PostalAddress, ZhHant) => "通訊地址",
            (Field::PostalAddress, ZhHans) => "通讯地址",
            (Field::PostalAddress, En) => "Postal address",
        }
    }
}
