//! `package_search`'s `q`, `fq` and `sort`, in Solr's syntax as CKAN's clients write it, made
//! into a tantivy query: terms, "phrases", `field:value` on the indexed fields, AND / OR / NOT,
//! `+` / `-`, parentheses, `[a TO b]` ranges (dates in RFC 3339, `*` for an open end), `*:*`
//! for everything. The grammar is tantivy's query parser (close to Lucene's); this module
//! bounds the input, adapts Solr's spellings, sets CKAN's weights (titles and names over
//! descriptions) and adds what the caller may see.

use tantivy::collector::sort_key::SortByErasedType;
use tantivy::query::{
    AllQuery, BooleanQuery, ConstScoreQuery, Occur, Query, QueryParser, QueryParserError, TermQuery,
};
use tantivy::schema::{IndexRecordOption, Schema};
use tantivy::tokenizer::TokenizerManager;
use tantivy::{Order, Term};

use super::{analyzer, params::PackageSearchArgs, Fields};
use crate::error::OpendataError;

/// At most this many characters of `q` or of one `fq`.
pub const QUERY_LENGTH_MAX: usize = 4_000;
/// At most this many parentheses open at once (the parser recurses on them).
pub const QUERY_DEPTH_MAX: usize = 20;
/// At most this many `fq_list` filters.
pub const FILTERS_MAX: usize = 20;

/// Who is searching, for which datasets they may see. Private datasets are shown only with
/// `include_private`, and then only those of the viewer's organisations (all for a sysadmin);
/// deleted ones never.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Viewer {
    Anonymous,
    /// A signed-in user; `organizations` are the ids of the organisations whose private
    /// datasets they may read.
    Member {
        organizations: Vec<String>,
    },
    Sysadmin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortField {
    Score,
    MetadataModified,
    MetadataCreated,
    Name,
    TitleString,
}

impl SortField {
    const ALL: [SortField; 5] = [
        SortField::Score,
        SortField::MetadataModified,
        SortField::MetadataCreated,
        SortField::Name,
        SortField::TitleString,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            SortField::Score => "score",
            SortField::MetadataModified => "metadata_modified",
            SortField::MetadataCreated => "metadata_created",
            SortField::Name => "name",
            SortField::TitleString => "title_string",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortKey {
    pub field: SortField,
    pub descending: bool,
}

/// At most this many sort keys (Solr takes more; no catalogue needs them).
pub const SORT_KEYS_MAX: usize = 3;
/// CKAN's default order.
pub const DEFAULT_SORT: &str = "score desc, metadata_modified desc";

/// `sort`: comma-separated `field asc|desc`. `None` for what Solr refuses (a missing order, an
/// unknown field), which CKAN answers `Invalid "sort" parameter`.
pub fn parse_sort(text: &str) -> Option<Vec<SortKey>> {
    let mut keys = Vec::new();
    for part in text.split(',') {
        let mut words = part.split_whitespace();
        let (Some(field), Some(order), None) = (words.next(), words.next(), words.next()) else {
            return None;
        };
        let field = SortField::ALL.into_iter().find(|f| f.name() == field)?;
        let descending = match order.to_ascii_lowercase().as_str() {
            "asc" => false,
            "desc" => true,
            _ => return None,
        };
        keys.push(SortKey { field, descending });
    }
    if keys.is_empty() || keys.len() > SORT_KEYS_MAX {
        return None;
    }
    Some(keys)
}

/// CKAN's default order as keys.
pub fn default_sort() -> [SortKey; 2] {
    [
        SortKey {
            field: SortField::Score,
            descending: true,
        },
        SortKey {
            field: SortField::MetadataModified,
            descending: true,
        },
    ]
}

fn erased(key: Option<&SortKey>) -> (SortByErasedType, Order) {
    match key {
        None => (SortByErasedType::for_score(), Order::Desc),
        Some(key) => {
            let by = match key.field {
                SortField::Score => SortByErasedType::for_score(),
                other => SortByErasedType::for_field(other.name()),
            };
            let order = if key.descending {
                Order::Desc
            } else {
                Order::Asc
            };
            (by, order)
        }
    }
}

/// The sort as tantivy's top-docs key: always three keys, the missing ones by score (a no-op
/// after a real key that orders everything).
pub fn sort_keys(
    keys: &[SortKey],
) -> (
    (SortByErasedType, Order),
    (SortByErasedType, Order),
    (SortByErasedType, Order),
) {
    (
        erased(keys.first()),
        erased(keys.get(1)),
        erased(keys.get(2)),
    )
}

/// Builds queries from `q` and `fq` for the index's schema.
#[derive(Clone)]
pub struct QueryCompiler {
    parser: QueryParser,
    fields: Fields,
}

impl std::fmt::Debug for QueryCompiler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueryCompiler").finish_non_exhaustive()
    }
}

/// CKAN's Solr `qf`: names and titles weigh most, then tags and categories, then the rest.
const WEIGHTS: [(&str, f32); 6] = [
    ("name", 4.0),
    ("title", 4.0),
    ("tags", 2.0),
    ("groups", 2.0),
    ("notes", 1.0),
    ("text", 1.0),
];

impl QueryCompiler {
    pub(super) fn new(schema: &Schema, fields: Fields) -> QueryCompiler {
        let tokenizers = TokenizerManager::default();
        tokenizers.register(
            analyzer::INDEX_TOKENIZER,
            analyzer::analyzer(analyzer::Mode::Query),
        );
        let defaults = WEIGHTS
            .iter()
            .filter_map(|(name, _)| schema.get_field(name).ok())
            .collect();
        let mut parser = QueryParser::new(schema.clone(), defaults, tokenizers);
        parser.set_conjunction_by_default();
        for (name, weight) in WEIGHTS {
            if let Ok(field) = schema.get_field(name) {
                parser.set_field_boost(field, weight);
            }
        }
        QueryCompiler { parser, fields }
    }

    /// A compiler for the current schema, without an index: what the fuzz target and syntax
    /// checks use.
    pub fn standalone() -> QueryCompiler {
        let (schema, fields) = super::schema();
        QueryCompiler::new(&schema, fields)
    }

    /// One `fq`, or a `q` in Lucene syntax, as a query; `None` for "everything". A syntax
    /// error is a Search Error.
    pub fn parse(&self, text: &str) -> Result<Option<Box<dyn Query>>, OpendataError> {
        self.parse_with(text, true)
    }

    /// `q` as CKAN reads it: a query with a colon goes to Solr's Lucene parser (syntax errors
    /// are errors); one without goes to dismax, which reads stray syntax — an unclosed quote
    /// or bracket, `--`, `<script>` — as text. Limits on length and nesting hold either way.
    pub fn parse_q(&self, text: &str) -> Result<Option<Box<dyn Query>>, OpendataError> {
        self.parse_with(text, text.contains(':'))
    }

    fn parse_with(
        &self,
        text: &str,
        strict: bool,
    ) -> Result<Option<Box<dyn Query>>, OpendataError> {
        let text = text.trim();
        if text.chars().count() > QUERY_LENGTH_MAX {
            return Err(search_error(&format!(
                "the query is longer than {QUERY_LENGTH_MAX} characters"
            )));
        }
        let mut depth: usize = 0;
        for c in text.chars() {
            match c {
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' => depth = depth.saturating_sub(1),
                _ => {}
            }
            if depth > QUERY_DEPTH_MAX {
                return Err(search_error("the query nests too deeply"));
            }
        }
        // Solr's match-all spelling; tantivy's is `*`.
        let text = text.replace("*:*", "*");
        if text.is_empty() || text == "*" {
            return Ok(None);
        }
        let parsed = match self.parser.parse_query(&text) {
            // Solr reads a query of exclusions alone as "everything but"; tantivy asks for a
            // positive part, so give it Solr's implicit one.
            Err(QueryParserError::AllButQueryForbidden) => {
                self.parser.parse_query(&format!("* {text}"))
            }
            other => other,
        };
        match parsed {
            Ok(query) => Ok(Some(query)),
            // What the lenient parser cannot read it drops; a query it drops whole finds
            // nothing rather than everything.
            Err(_) if !strict => Ok(Some(self.parser.parse_query_lenient(&text).0)),
            Err(e) => Err(search_error(&format!("could not parse the query: {e}"))),
        }
    }

    /// The whole query of a search: `q` scored, each `fq` and the viewer's filter unscored.
    pub fn compile(
        &self,
        args: &PackageSearchArgs,
        viewer: &Viewer,
    ) -> Result<Box<dyn Query>, OpendataError> {
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        clauses.push((
            Occur::Must,
            self.parse_q(&args.q)?.unwrap_or_else(|| Box::new(AllQuery)),
        ));
        for fq in &args.fq {
            if let Some(filter) = self.parse(fq)? {
                clauses.push((Occur::Must, Box::new(ConstScoreQuery::new(filter, 0.0))));
            }
        }
        for filter in self.visibility(viewer, args.include_private) {
            clauses.push((Occur::Must, Box::new(ConstScoreQuery::new(filter, 0.0))));
        }
        Ok(Box::new(BooleanQuery::new(clauses)))
    }

    fn term(&self, field: tantivy::schema::Field, value: &str) -> Box<dyn Query> {
        Box::new(TermQuery::new(
            Term::from_field_text(field, value),
            IndexRecordOption::Basic,
        ))
    }

    fn visibility(&self, viewer: &Viewer, include_private: bool) -> Vec<Box<dyn Query>> {
        let f = &self.fields;
        let active = self.term(f.state, "active");
        let public = self.term(f.capacity, "public");
        match (viewer, include_private) {
            (Viewer::Sysadmin, true) => vec![active],
            (Viewer::Member { organizations }, true) => {
                let mut any: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Should, public)];
                for org in organizations {
                    any.push((Occur::Should, self.term(f.owner_org, org)));
                }
                vec![active, Box::new(BooleanQuery::new(any))]
            }
            _ => vec![active, public],
        }
    }
}

/// CKAN's "Search Error" (409): what it answers when Solr rejects a query.
fn search_error(detail: &str) -> OpendataError {
    OpendataError::Search(detail.to_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn sorts() {
        let keys = parse_sort(DEFAULT_SORT).unwrap();
        assert_eq!(keys, default_sort());
        assert!(parse_sort("name asc").is_some());
        assert!(parse_sort("title_string DESC").is_some());
        for bad in [
            "",
            "name",
            "name up",
            "id asc",
            "name asc extra",
            "a asc, b asc, c asc, d asc",
        ] {
            assert!(parse_sort(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn syntax() {
        let c = QueryCompiler::standalone();
        for good in [
            "交通",
            "roads AND traffic",
            "\"traffic speed\"",
            "tags:交通 OR tags:transport",
            "-tags:x +organization:hk-td",
            "(a OR b) AND NOT c",
            "name:hk-td-tis-traffic-speed",
            "metadata_modified:[2020-01-01T00:00:00Z TO *]",
            "*:* -res_format:CSV",
        ] {
            assert!(c.parse(good).is_ok(), "{good}");
        }
        for bad in ["nosuchfield:x", "(unclosed", "\"open quote", "title:[a TO"] {
            assert!(c.parse(bad).is_err(), "{bad}");
        }
        assert!(c.parse(&"(".repeat(50)).is_err());
        assert!(c.parse(&"a ".repeat(3_000)).is_err());
        assert!(c.parse("*:*").unwrap().is_none());
        assert!(c.parse("  ").unwrap().is_none());
    }

    #[test]
    fn q_without_a_colon_reads_stray_syntax_as_text() {
        let c = QueryCompiler::standalone();
        for text in [
            "\"open quote",
            "(unclosed",
            "a -- b",
            "--",
            "<script>",
            "'; DROP TABLE x; --",
        ] {
            assert!(c.parse_q(text).unwrap().is_some(), "{text}");
            assert!(c.parse(text).is_err(), "fq keeps Lucene's syntax: {text}");
        }
        assert!(c.parse_q("title:(").is_err(), "a colon means Lucene syntax");
        assert!(c.parse_q(&"(".repeat(50)).is_err(), "limits hold");
        assert!(c.parse_q("-tags:x").is_ok());
        // Exclusions alone mean "everything but" in `q` as in `fq`.
        assert_eq!(
            format!("{:?}", c.parse_q("-traffic").unwrap()),
            format!("{:?}", c.parse("-traffic").unwrap())
        );
    }
}
