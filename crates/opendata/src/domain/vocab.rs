//! The closed vocabularies of the catalogue, each with its stored and published text.

/// What kind of provider an organisation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgKind {
    Bureau,
    Department,
    /// Public bodies and non-government providers.
    Other,
}

/// A resource's format, as DATA.GOV.HK lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Json,
    Xml,
    GeoJson,
    /// A link to a live API rather than a file.
    Api,
}

/// How often a dataset is updated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frequency {
    Realtime,
    Hourly,
    Daily,
    Weekly,
    Monthly,
    Quarterly,
    HalfYearly,
    Yearly,
    Irregular,
    NotUpdated,
}

/// The licence a dataset is published under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Licence {
    /// DATA.GOV.HK's own terms and conditions of use: free use, including commercial, with
    /// attribution.
    DataGovHkTerms,
    CcBy,
    CcZero,
    OtherOpen,
}

/// CKAN's lifecycle state of a dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Active,
    Deleted,
}

/// `as_str` and `parse` from one table, so the two can never disagree.
macro_rules! vocabulary {
    ($ty:ident, $what:literal, { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $ty {
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            pub const fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $text),+
                }
            }

            pub fn parse(text: &str) -> Result<$ty, String> {
                $ty::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == text)
                    .ok_or_else(|| {
                        let known: Vec<&str> = $ty::ALL.iter().map(|v| v.as_str()).collect();
                        format!("{} \"{}\" is not one of: {}", $what, text, known.join(", "))
                    })
            }
        }
    };
}

vocabulary!(OrgKind, "Kind", {
    Bureau => "bureau",
    Department => "department",
    Other => "other",
});

vocabulary!(Format, "Format", {
    Csv => "CSV",
    Json => "JSON",
    Xml => "XML",
    GeoJson => "GeoJSON",
    Api => "API",
});

vocabulary!(Frequency, "Update frequency", {
    Realtime => "realtime",
    Hourly => "hourly",
    Daily => "daily",
    Weekly => "weekly",
    Monthly => "monthly",
    Quarterly => "quarterly",
    HalfYearly => "half-yearly",
    Yearly => "yearly",
    Irregular => "irregular",
    NotUpdated => "not-updated",
});

vocabulary!(Licence, "License", {
    DataGovHkTerms => "data-gov-hk-terms",
    CcBy => "cc-by",
    CcZero => "cc-zero",
    OtherOpen => "other-open",
});

vocabulary!(State, "State", {
    Active => "active",
    Deleted => "deleted",
});

impl Format {
    /// The media type of a file in this format; none for an API link.
    pub const fn mimetype(self) -> Option<&'static str> {
        match self {
            Format::Csv => Some("text/csv"),
            Format::Json => Some("application/json"),
            Format::Xml => Some("application/xml"),
            Format::GeoJson => Some("application/geo+json"),
            Format::Api => None,
        }
    }
}

impl Licence {
    pub const fn title(self) -> &'static str {
        match self {
            Licence::DataGovHkTerms => "DATA.GOV.HK Terms and Conditions of Use",
            Licence::CcBy => "Creative Commons Attribution",
            Licence::CcZero => "Creative Commons CCZero",
            Licence::OtherOpen => "Other (Open)",
        }
    }

    pub const fn url(self) -> &'static str {
        match self {
            Licence::DataGovHkTerms => "https://data.gov.hk/en/terms-and-conditions",
            Licence::CcBy => "https://creativecommons.org/licenses/by/4.0/",
            Licence::CcZero => "https://creativecommons.org/publicdomain/zero/1.0/",
            Licence::OtherOpen => "",
        }
    }
}
