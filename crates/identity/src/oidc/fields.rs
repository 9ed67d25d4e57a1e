//! What a service can ask for: OAuth scopes, and the profile fields residents release with
//! consent (iAM Smart's "form filling"). A scope stands for a fixed set of fields; a service
//! may also name single fields with the OpenID Connect `claims` request parameter.
//!
//! Corporate form filling follows the same model: the `corp_*` fields describe the business
//! chosen at a corporate login (its particulars, and the licences it marked for sharing), are
//! released only with the `corpid` scope, and are ticked or not on the consent screen like a
//! resident's own. The business's names and BRN are corporate login's own claims
//! (`oidc::corporate`), so they are not fields. Directors' names are deliberately not a field:
//! they are personal data of people who are not the one consenting (see `Field::corporate`).

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
    CorpForm => "corp_form",
    CorpStatus => "corp_status",
    CorpAddress => "corp_address",
    CorpRegisteredOn => "corp_registered_on",
    CorpLicences => "corp_licences",
});

vocabulary!(Scope {
    Openid => "openid",
    Profile => "profile",
    Email => "email",
    Phone => "phone",
    Address => "address",
    Corpid => "corpid",
    CorpidParticulars => "corpid.particulars",
    CorpidLicences => "corpid.licences",
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
            Scope::CorpidParticulars => &[
                Field::CorpForm,
                Field::CorpStatus,
                Field::CorpAddress,
                Field::CorpRegisteredOn,
            ],
            Scope::CorpidLicences => &[Field::CorpLicences],
        }
    }

    /// Whether the scope needs the business directory (corporate login and its data).
    pub const fn corporate(self) -> bool {
        matches!(
            self,
            Scope::Corpid | Scope::CorpidParticulars | Scope::CorpidLicences
        )
    }
}

impl Field {
    /// Whether the field describes the business of a corporate login rather than the resident.
    ///
    /// The register also lists directors, but no field releases them: the representative
    /// consents for the business, not for its directors, whose names are their own personal
    /// data; a service with a lawful need can search the Companies Register, and the data
    /// exchange's Companies Registry product carries them under a consent the business approves.
    pub const fn corporate(self) -> bool {
        matches!(
            self,
            Field::CorpForm
                | Field::CorpStatus
                | Field::CorpAddress
                | Field::CorpRegisteredOn
                | Field::CorpLicences
        )
    }

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
            (Field::CorpForm, ZhHant) => "企業的業務形式",
            (Field::CorpForm, ZhHans) => "企业的业务形式",
            (Field::CorpForm, En) => "The business's legal form",
            (Field::CorpStatus, ZhHant) => "企業的狀況",
            (Field::CorpStatus, ZhHans) => "企业的状况",
            (Field::CorpStatus, En) => "The business's status",
            (Field::CorpAddress, ZhHant) => "企業的註冊地址",
            (Field::CorpAddress, ZhHans) => "企业的注册地址",
            (Field::CorpAddress, En) => "The business's registered address",
            (Field::CorpRegisteredOn, ZhHant) => "企業的成立或開業日期",
            (Field::CorpRegisteredOn, ZhHans) => "企业的成立或开业日期",
            (Field::CorpRegisteredOn, En) => "The business's date of incorporation or commencement",
            (Field::CorpLicences, ZhHant) => "企業標示為可分享的牌照及許可證",
            (Field::CorpLicences, ZhHans) => "企业标示为可分享的牌照及许可证",
            (Field::CorpLicences, En) => "The business's licences and permits marked for sharing",
        }
    }
}
