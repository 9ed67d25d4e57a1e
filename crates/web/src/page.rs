//! What every portal page shares: the language, the text size, the strings, and the address of
//! the current page (so the language and text-size links come back to it).

use bauhinia_core::Lang;

use crate::prefs::Prefs;
use crate::texts::Texts;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Home,
    Funding,
    App,
    Pay,
    Business,
    OpenData,
    Docs,
    Other,
}

#[derive(Debug)]
pub struct Page {
    pub t: &'static Texts,
    pub lang: Lang,
    pub large_text: bool,
    pub title: String,
    pub section: Section,
    /// The current path and query, percent-encoded for use as a `next` parameter.
    pub next: String,
}

#[derive(Debug)]
pub struct LanguageLink {
    pub tag: &'static str,
    pub name: &'static str,
    pub current: bool,
}

impl Page {
    pub fn new(
        prefs: Prefs,
        title: impl Into<String>,
        section: Section,
        path_and_query: &str,
    ) -> Page {
        Page {
            t: Texts::get(prefs.lang),
            lang: prefs.lang,
            large_text: prefs.large_text,
            title: title.into(),
            section,
            next: form_urlencoded::byte_serialize(path_and_query.as_bytes()).collect(),
        }
    }

    pub fn languages(&self) -> Vec<LanguageLink> {
        Lang::ALL
            .iter()
            .map(|l| LanguageLink {
                tag: l.tag(),
                name: l.endonym(),
                current: *l == self.lang,
            })
            .collect()
    }

    pub fn is(&self, section: Section) -> bool {
        self.section == section
    }
}
