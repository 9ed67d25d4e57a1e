//! How the catalogue's texts become search terms, in three languages at once.
//!
//! Chinese: each character is folded to Simplified (OpenCC's table, `t2s.rs`) and a run of Han
//! characters becomes its characters and its overlapping pairs (unigrams and bigrams, as
//! Lucene's CJK bigram filter), so 交通 matches 交通 and 运输 matches 運輸 without a word
//! dictionary. At query time a run of two or more characters becomes its bigrams only, at
//! consecutive positions, so 交通運輸 asks for those four characters in a row.
//!
//! Everything else: runs of letters and digits, lower-cased, full-width forms folded to ASCII,
//! then English stemming (tantivy's Snowball stemmer), so "roads" finds "road".

use tantivy::tokenizer::{
    Language, RemoveLongFilter, Stemmer, TextAnalyzer, Token, TokenStream, Tokenizer,
};

use super::t2s::T2S;

/// The analyzer of the text fields at index time.
pub const INDEX_TOKENIZER: &str = "bauhinia_text";
/// Tokens longer than this (in bytes) are dropped: no one searches for them.
const TOKEN_LENGTH_MAX: usize = 64;

/// Folds one character: Traditional (and Hong Kong variant) Chinese to Simplified, full-width
/// ASCII to ASCII; others unchanged.
pub fn fold(c: char) -> char {
    if ('\u{FF01}'..='\u{FF5E}').contains(&c) {
        return char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c);
    }
    match T2S.binary_search_by(|(from, _)| from.cmp(&c)) {
        Ok(at) => T2S.get(at).map_or(c, |(_, to)| *to),
        Err(_) => c,
    }
}

/// Han ideographs (the unified blocks and their extensions, compatibility ideographs).
fn is_han(c: char) -> bool {
    matches!(u32::from(c),
        0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x3134F)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Unigrams and bigrams of Chinese runs.
    Index,
    /// A single character's unigram, or the bigrams of a longer run.
    Query,
}

/// The tokenizer: Chinese n-grams and words, before stemming.
#[derive(Debug, Clone, Copy)]
pub struct CjkTokenizer {
    mode: Mode,
}

impl CjkTokenizer {
    pub fn new(mode: Mode) -> CjkTokenizer {
        CjkTokenizer { mode }
    }
}

/// The whole analyzer of a mode: the tokenizer, long tokens removed, English stemming.
pub fn analyzer(mode: Mode) -> TextAnalyzer {
    TextAnalyzer::builder(CjkTokenizer::new(mode))
        .filter(RemoveLongFilter::limit(TOKEN_LENGTH_MAX))
        .filter(Stemmer::new(Language::English))
        .build()
}

/// The tokens of a text, computed at once (texts are short: titles, descriptions, tags).
#[derive(Debug)]
pub struct Tokens {
    rest: std::vec::IntoIter<Token>,
    current: Token,
}

impl TokenStream for Tokens {
    fn advance(&mut self) -> bool {
        match self.rest.next() {
            Some(token) => {
                self.current = token;
                true
            }
            None => false,
        }
    }

    fn token(&self) -> &Token {
        &self.current
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.current
    }
}

impl Tokenizer for CjkTokenizer {
    type TokenStream<'a> = Tokens;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Tokens {
        Tokens {
            rest: tokenize(text, self.mode).into_iter(),
            current: Token::default(),
        }
    }
}

/// A run of characters of one kind, with the byte offset of each.
struct Run {
    chars: Vec<(usize, char)>,
    han: bool,
}

fn runs(text: &str) -> Vec<Run> {
    let mut out: Vec<Run> = Vec::new();
    for (offset, original) in text.char_indices() {
        let c = fold(original);
        let han = is_han(c);
        if !han && !c.is_alphanumeric() {
            out.push(Run {
                chars: Vec::new(),
                han: false,
            });
            continue;
        }
        match out.last_mut() {
            Some(run) if run.han == han && !run.chars.is_empty() => run.chars.push((offset, c)),
            _ => out.push(Run {
                chars: vec![(offset, c)],
                han,
            }),
        }
    }
    out.retain(|r| !r.chars.is_empty());
    out
}

fn end_of(text: &str, offset: usize) -> usize {
    text.get(offset..)
        .and_then(|rest| rest.chars().next())
        .map_or(offset, |c| offset + c.len_utf8())
}

/// The tokens of `text` before stemming, with positions and byte offsets.
pub fn tokenize(text: &str, mode: Mode) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut position = 0;
    let token = |from: usize, to: usize, position: usize, text: String| Token {
        offset_from: from,
        offset_to: to,
        position,
        text,
        position_length: 1,
    };
    for run in runs(text) {
        let Some(&(first, _)) = run.chars.first() else {
            continue;
        };
        let last = run.chars.last().map_or(first, |&(o, _)| o);
        if !run.han {
            let word: String = run
                .chars
                .iter()
                .flat_map(|(_, c)| c.to_lowercase())
                .collect();
            tokens.push(token(first, end_of(text, last), position, word));
            position += 1;
            continue;
        }
        let single = run.chars.len() == 1;
        for (i, &(offset, c)) in run.chars.iter().enumerate() {
            if mode == Mode::Index || single {
                tokens.push(token(
                    offset,
                    end_of(text, offset),
                    position + i,
                    c.to_string(),
                ));
            }
            if let Some(&(next_offset, next)) = run.chars.get(i + 1) {
                let pair: String = [c, next].iter().collect();
                tokens.push(token(offset, end_of(text, next_offset), position + i, pair));
            }
        }
        position += run.chars.len();
    }
    tokens
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    fn texts(text: &str, mode: Mode) -> Vec<(String, usize)> {
        let mut analyzer = analyzer(mode);
        let mut stream = analyzer.token_stream(text);
        let mut out = Vec::new();
        while let Some(t) = stream.next() {
            out.push((t.text.clone(), t.position));
        }
        out
    }

    #[test]
    fn traditional_folds_to_simplified() {
        assert_eq!(fold('運'), '运');
        assert_eq!(fold('輸'), '输');
        assert_eq!(fold('交'), '交');
        assert_eq!(fold('Ｂ'), 'B');
        assert_eq!(fold('a'), 'a');
    }

    #[test]
    fn chinese_unigrams_and_bigrams() {
        assert_eq!(
            texts("運輸署", Mode::Index),
            [("运", 0), ("运输", 0), ("输", 1), ("输署", 1), ("署", 2)]
                .map(|(t, p)| (t.to_owned(), p))
        );
        assert_eq!(
            texts("运输署", Mode::Query),
            [("运输", 0), ("输署", 1)].map(|(t, p)| (t.to_owned(), p))
        );
        assert_eq!(texts("路", Mode::Query), [("路".to_owned(), 0)]);
    }

    #[test]
    fn english_lowercased_and_stemmed() {
        assert_eq!(
            texts("Roads, Traffic-Speeds 2024", Mode::Index),
            [("road", 0), ("traffic", 1), ("speed", 2), ("2024", 3)]
                .map(|(t, p)| (t.to_owned(), p))
        );
    }

    #[test]
    fn mixed_scripts_keep_positions() {
        assert_eq!(
            texts("MTR港鐵data", Mode::Index),
            [("mtr", 0), ("港", 1), ("港铁", 1), ("铁", 2), ("data", 3)]
                .map(|(t, p)| (t.to_owned(), p))
        );
    }

    #[test]
    fn offsets_point_into_the_original() {
        let text = "a 運輸";
        let tokens = tokenize(text, Mode::Index);
        for t in tokens {
            assert!(text.get(t.offset_from..t.offset_to).is_some(), "{t:?}");
        }
    }
}
