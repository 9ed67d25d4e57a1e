//! The portal's three languages and text that exists in all of them. Traditional Chinese is
//! the default (Hong Kong's written Chinese); Simplified Chinese and English follow.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A portal language, identified by its BCP 47 tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, ToSchema)]
pub enum Lang {
    /// 繁體中文
    #[default]
    #[serde(rename = "zh-Hant")]
    ZhHant,
    /// 简体中文
    #[serde(rename = "zh-Hans")]
    ZhHans,
    /// English
    #[serde(rename = "en")]
    En,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::ZhHant, Lang::ZhHans, Lang::En];

    /// The BCP 47 tag, as used in `<html lang>` and `hreflang`.
    pub const fn tag(self) -> &'static str {
        match self {
            Lang::ZhHant => "zh-Hant",
            Lang::ZhHans => "zh-Hans",
            Lang::En => "en",
        }
    }

    /// The language's own name for itself, for the language switcher.
    pub const fn endonym(self) -> &'static str {
        match self {
            Lang::ZhHant => "繁體中文",
            Lang::ZhHans => "简体中文",
            Lang::En => "English",
        }
    }

    /// Chooses the value for this language from one per language.
    pub fn pick<T>(self, zh_hant: T, zh_hans: T, en: T) -> T {
        match self {
            Lang::ZhHant => zh_hant,
            Lang::ZhHans => zh_hans,
            Lang::En => en,
        }
    }

    /// Parses a tag exactly as [`Lang::tag`] writes it (case-insensitive).
    pub fn from_tag(tag: &str) -> Option<Lang> {
        Lang::ALL
            .into_iter()
            .find(|lang| lang.tag().eq_ignore_ascii_case(tag.trim()))
    }

    /// Maps one language range of an `Accept-Language` header to a portal language. Plain `zh`
    /// and the Hong Kong, Macao and Taiwan regions mean Traditional; mainland and Singapore
    /// regions mean Simplified.
    pub fn from_language_range(range: &str) -> Option<Lang> {
        let range = range.trim().to_ascii_lowercase();
        let mut parts = range.split(['-', '_']);
        match parts.next()? {
            "en" => Some(Lang::En),
            "zh" => match parts.next() {
                Some("hans" | "cn" | "sg" | "my") => Some(Lang::ZhHans),
                _ => Some(Lang::ZhHant),
            },
            _ => None,
        }
    }

    /// Chooses from an `Accept-Language` header by quality value; `None` if nothing matches.
    pub fn negotiate(accept_language: &str) -> Option<Lang> {
        let mut best: Option<(u16, Lang)> = None;
        for item in accept_language.split(',').take(16) {
            let mut pieces = item.split(';');
            let range = pieces.next().unwrap_or("");
            let quality = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .map(|q| (q.clamp(0.0, 1.0) * 1000.0) as u16)
                .unwrap_or(1000);
            if quality == 0 {
                continue;
            }
            if let Some(lang) = Lang::from_language_range(range) {
                if best.is_none_or(|(q, _)| quality > q) {
                    best = Some((quality, lang));
                }
            }
        }
        best.map(|(_, lang)| lang)
    }
}

/// Text in all three portal languages. Construction requires all three, so a missing
/// translation is a compile or load error, never a blank on a page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Localized {
    pub zh_hant: String,
    pub zh_hans: String,
    pub en: String,
}

impl Localized {
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::ZhHant => &self.zh_hant,
            Lang::ZhHans => &self.zh_hans,
            Lang::En => &self.en,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiates_accept_language() {
        let cases = [
            ("zh-HK,zh;q=0.9,en;q=0.8", Some(Lang::ZhHant)),
            ("zh-CN,zh;q=0.9", Some(Lang::ZhHans)),
            ("en-GB,en;q=0.9", Some(Lang::En)),
            ("fr-FR, en;q=0.5, zh-Hans;q=0.7", Some(Lang::ZhHans)),
            ("fr, de", None),
            ("en;q=0, zh-TW;q=0.1", Some(Lang::ZhHant)),
            ("", None),
        ];
        for (header, expected) in cases {
            assert_eq!(Lang::negotiate(header), expected, "{header}");
        }
    }

    #[test]
    fn tags_round_trip() {
        for lang in Lang::ALL {
            assert_eq!(Lang::from_tag(lang.tag()), Some(lang));
        }
        assert_eq!(Lang::from_tag("xx"), None);
    }

    proptest::proptest! {
        #[test]
        fn negotiate_never_panics(header in "\\PC{0,120}") {
            let _ = Lang::negotiate(&header);
        }
    }
}
