//! The catalogue's search index (tantivy, in the catalogue's directory under `search/`): every
//! dataset, any state, with its texts in three languages, its facets and its CKAN dictionary,
//! so `package_search` answers from the index alone, as CKAN answers from Solr.
//!
//! The database is the truth; the index is derived from it and can always be rebuilt. Writers
//! are serialised (one `IndexWriter` behind a mutex); searches read the last commit only (the
//! reader is reloaded after each commit), so they never see a half-written index. A rebuild
//! replaces every document in one commit. The index remembers its schema version in a file
//! written after a complete rebuild; a missing or different version means "rebuild".
//!
//! Never here: who may see what beyond the visibility filter the caller passes, or any SQL.

pub mod analyzer;
pub(crate) mod catalogue;
mod facets;
pub mod params;
pub mod query;
mod t2s;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

use serde_json::Value;
use tantivy::collector::sort_key::{SortBySimilarityScore, SortByStaticFastValue};
use tantivy::collector::{Count, TopDocs};
use tantivy::schema::{
    DateOptions, DateTimePrecision, Field, IndexRecordOption, Schema, TextFieldIndexing,
    TextOptions, Value as _, FAST, STORED, STRING,
};
use tantivy::{
    DateTime, DocAddress, Index, IndexReader, IndexWriter, Order, ReloadPolicy, TantivyDocument,
    Term,
};

use crate::domain::Licence;
use crate::error::OpendataError;
use crate::service::Package;

pub use catalogue::REINDEX_BATCH;
pub use facets::FacetField;
pub use params::PackageSearchArgs;
pub use query::{QueryCompiler, SortKey, Viewer};

/// Bump when the schema or the analysis changes: the index is then rebuilt at start.
pub const SCHEMA_VERSION: u32 = 1;
const VERSION_FILE: &str = "bauhinia-schema-version";
/// The writer's indexing memory: one thread (the machine is small), flushed when full.
const WRITER_HEAP_BYTES: usize = 100_000_000;

fn io(e: impl std::fmt::Display) -> OpendataError {
    OpendataError::Io(format!("search index: {e}"))
}

/// The schema's fields, named as CKAN's Solr schema names them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fields {
    id: Field,
    name: Field,
    title: Field,
    notes: Field,
    text: Field,
    title_string: Field,
    tags: Field,
    organization: Field,
    owner_org: Field,
    groups: Field,
    res_format: Field,
    license_id: Field,
    capacity: Field,
    state: Field,
    metadata_modified: Field,
    metadata_created: Field,
    package: Field,
    dataset_type: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let analysed = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(analyzer::INDEX_TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let date = DateOptions::default()
        .set_indexed()
        .set_fast()
        .set_precision(DateTimePrecision::Seconds);
    let fields = Fields {
        id: b.add_text_field("id", STRING | STORED),
        name: b.add_text_field("name", STRING | FAST),
        title: b.add_text_field("title", analysed.clone()),
        notes: b.add_text_field("notes", analysed.clone()),
        text: b.add_text_field("text", analysed),
        title_string: b.add_text_field("title_string", STRING | FAST),
        tags: b.add_text_field("tags", STRING | FAST),
        organization: b.add_text_field("organization", STRING | FAST),
        owner_org: b.add_text_field("owner_org", STRING),
        groups: b.add_text_field("groups", STRING | FAST),
        res_format: b.add_text_field("res_format", STRING | FAST),
        license_id: b.add_text_field("license_id", STRING | FAST),
        capacity: b.add_text_field("capacity", STRING),
        state: b.add_text_field("state", STRING),
        metadata_modified: b.add_date_field("metadata_modified", date.clone()),
        metadata_created: b.add_date_field("metadata_created", date),
        package: b.add_text_field("package", STORED),
        dataset_type: b.add_text_field("dataset_type", STRING),
    };
    (b.build(), fields)
}

/// Runs a query with the count, a top-documents collector and the facets; the addresses of
/// the page in order.
fn collect<K, C>(
    searcher: &tantivy::Searcher,
    query: &dyn tantivy::query::Query,
    top: C,
    facets: facets::FacetCollector,
) -> Result<(usize, Vec<DocAddress>, facets::Counts), OpendataError>
where
    C: tantivy::collector::Collector<Fruit = Vec<(K, DocAddress)>>,
{
    let (count, hits, counts) = searcher.search(query, &(Count, top, facets)).map_err(io)?;
    Ok((count, hits.into_iter().map(|(_, a)| a).collect(), counts))
}

/// One page of `package_search`'s answer.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchResult {
    pub count: usize,
    /// CKAN package dictionaries, as `package_show` gives them.
    pub results: Vec<Value>,
    /// The facets asked for, in the order asked.
    pub facets: Vec<(FacetField, Vec<FacetItem>)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FacetItem {
    pub name: String,
    pub display_name: String,
    pub count: u64,
}

pub struct SearchIndex {
    dir: PathBuf,
    index: Index,
    reader: IndexReader,
    /// The one writer: an async lock, so a rebuild holds it across its reads of the store.
    writer: tokio::sync::Mutex<IndexWriter>,
    fields: Fields,
    compiler: query::QueryCompiler,
    /// Titles of organisations and groups, for the facets' `display_name`.
    display: RwLock<BTreeMap<(FacetField, String), String>>,
}

/// A rebuild in progress, holding the writer: `add` batches, then `commit`. Dropped without
/// a commit, it rolls back and the old index stays.
pub struct Rebuild<'a> {
    index: &'a SearchIndex,
    writer: tokio::sync::MutexGuard<'a, IndexWriter>,
    added: usize,
    committed: bool,
}

impl std::fmt::Debug for Rebuild<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rebuild")
            .field("added", &self.added)
            .finish_non_exhaustive()
    }
}

impl Rebuild<'_> {
    pub fn add(&mut self, packages: &[Package]) -> Result<(), OpendataError> {
        for p in packages {
            self.index.remember(p);
            self.writer
                .add_document(self.index.document(p))
                .map_err(io)?;
        }
        self.added += packages.len();
        Ok(())
    }

    /// Commits the new index, then records the schema version: the number of datasets indexed.
    pub fn commit(mut self) -> Result<usize, OpendataError> {
        self.index.commit(&mut self.writer)?;
        self.committed = true;
        let version = self.index.dir.join(VERSION_FILE);
        std::fs::write(version, SCHEMA_VERSION.to_string()).map_err(io)?;
        Ok(self.added)
    }
}

impl Drop for Rebuild<'_> {
    fn drop(&mut self) {
        if !self.committed {
            let _ = self.writer.rollback();
        }
    }
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl SearchIndex {
    /// Opens the index in `dir` (created if missing). The flag says whether it must be rebuilt
    /// from the database: it is new, or its schema version is not this code's.
    pub fn open(dir: &Path) -> Result<(SearchIndex, bool), OpendataError> {
        let version = std::fs::read_to_string(dir.join(VERSION_FILE)).ok();
        let current = version.as_deref().map(str::trim) == Some(&SCHEMA_VERSION.to_string());
        let (schema, fields) = schema();
        let opened = if current {
            Index::open_in_dir(dir)
                .ok()
                .filter(|i| i.schema() == schema)
        } else {
            None
        };
        let (index, rebuild) = match opened {
            Some(index) => (index, false),
            None => {
                if dir.exists() {
                    std::fs::remove_dir_all(dir).map_err(io)?;
                }
                std::fs::create_dir_all(dir).map_err(io)?;
                (Index::create_in_dir(dir, schema).map_err(io)?, true)
            }
        };
        index.tokenizers().register(
            analyzer::INDEX_TOKENIZER,
            analyzer::analyzer(analyzer::Mode::Index),
        );
        let compiler = query::QueryCompiler::new(&index.schema(), fields);
        let writer = index
            .writer_with_num_threads(1, WRITER_HEAP_BYTES)
            .map_err(|e| io(format!("{e} (is another process using the index?)")))?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(io)?;
        let search = SearchIndex {
            dir: dir.to_owned(),
            index,
            reader,
            writer: tokio::sync::Mutex::new(writer),
            fields,
            compiler,
            display: RwLock::new(BTreeMap::new()),
        };
        Ok((search, rebuild))
    }

    /// Records the display names of organisations and groups (titles change rarely; a
    /// package being indexed brings its own).
    pub fn remember_titles(&self, pairs: impl IntoIterator<Item = (FacetField, String, String)>) {
        if let Ok(mut display) = self.display.write() {
            for (field, name, title) in pairs {
                display.insert((field, name), title);
            }
        }
    }

    fn remember(&self, p: &Package) {
        let org = (
            FacetField::Organization,
            p.organization.name.as_str().to_owned(),
            p.organization.title.en.clone(),
        );
        let groups = p.groups.iter().map(|g| {
            (
                FacetField::Groups,
                g.name.as_str().to_owned(),
                g.title.en.clone(),
            )
        });
        self.remember_titles(std::iter::once(org).chain(groups));
    }

    fn document(&self, p: &Package) -> TantivyDocument {
        let f = &self.fields;
        let d = &p.dataset;
        let mut doc = TantivyDocument::default();
        doc.add_text(f.id, &d.id);
        doc.add_text(f.name, d.name.as_str());
        for text in [&d.title.en, &d.title.zh_hant, &d.title.zh_hans] {
            doc.add_text(f.title, text);
        }
        for text in [&d.notes.en, &d.notes.zh_hant, &d.notes.zh_hans] {
            doc.add_text(f.notes, text);
        }
        doc.add_text(f.text, d.name.as_str().replace(['-', '_'], " "));
        for tag in &d.tags {
            doc.add_text(f.tags, tag.as_str());
            doc.add_text(f.text, tag.as_str());
        }
        let org = &p.organization;
        doc.add_text(f.organization, org.name.as_str());
        doc.add_text(f.owner_org, &org.id);
        for text in [&org.title.en, &org.title.zh_hant, &org.title.zh_hans] {
            doc.add_text(f.text, text);
        }
        for g in &p.groups {
            doc.add_text(f.groups, g.name.as_str());
            for text in [&g.title.en, &g.title.zh_hant, &g.title.zh_hans] {
                doc.add_text(f.text, text);
            }
        }
        let mut formats: Vec<&str> = d.resources.iter().map(|r| r.format.as_str()).collect();
        formats.sort_unstable();
        formats.dedup();
        for format in formats {
            doc.add_text(f.res_format, format);
        }
        for r in &d.resources {
            for text in [&r.name.en, &r.name.zh_hant, &r.name.zh_hans] {
                doc.add_text(f.text, text);
            }
        }
        doc.add_text(f.title_string, &d.title.en);
        doc.add_text(f.license_id, d.licence.as_str());
        doc.add_text(f.capacity, if d.private { "private" } else { "public" });
        doc.add_text(f.state, d.state.as_str());
        doc.add_text(f.dataset_type, "dataset");
        doc.add_date(
            f.metadata_modified,
            DateTime::from_timestamp_secs(d.modified_s),
        );
        doc.add_date(
            f.metadata_created,
            DateTime::from_timestamp_secs(d.created_s),
        );
        doc.add_text(f.package, crate::ckan::package(p).to_string());
        doc
    }

    /// Replaces the documents of these packages (adds them if new) and commits: after it
    /// returns, searches see them.
    pub async fn put(&self, packages: &[Package]) -> Result<(), OpendataError> {
        let mut writer = self.writer.lock().await;
        for p in packages {
            self.remember(p);
            writer.delete_term(Term::from_field_text(self.fields.id, &p.dataset.id));
            writer.add_document(self.document(p)).map_err(io)?;
        }
        self.commit(&mut writer)
    }

    /// Removes a dataset's document, if any, and commits.
    pub async fn remove(&self, dataset_id: &str) -> Result<(), OpendataError> {
        let mut writer = self.writer.lock().await;
        writer.delete_term(Term::from_field_text(self.fields.id, dataset_id));
        self.commit(&mut writer)
    }

    fn commit(&self, writer: &mut IndexWriter) -> Result<(), OpendataError> {
        writer.commit().map_err(io)?;
        self.reader.reload().map_err(io)
    }

    /// Starts replacing the whole index: other writes wait until the rebuild is committed or
    /// dropped (then rolled back); searches see the old index until the commit.
    pub async fn rebuild(&self) -> Result<Rebuild<'_>, OpendataError> {
        let writer = self.writer.lock().await;
        writer.delete_all_documents().map_err(io)?;
        Ok(Rebuild {
            index: self,
            writer,
            added: 0,
            committed: false,
        })
    }

    /// Merges the index into as few segments as possible (after a bulk load): fewer segments,
    /// faster searches. Waits for the merge.
    pub async fn optimize(&self) -> Result<(), OpendataError> {
        let mut writer = self.writer.lock().await;
        let ids = self.index.searchable_segment_ids().map_err(io)?;
        if ids.len() < 2 {
            return Ok(());
        }
        let merge = writer.merge(&ids);
        drop(merge.wait().map_err(io)?);
        self.commit(&mut writer)
    }

    /// The number of documents (datasets of any state) in the last commit.
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Runs a parsed `package_search` for a viewer.
    pub fn search(
        &self,
        args: &PackageSearchArgs,
        viewer: &Viewer,
    ) -> Result<SearchResult, OpendataError> {
        let query = self.compiler.compile(args, viewer)?;
        let searcher = self.reader.searcher();
        let total = usize::try_from(searcher.num_docs()).unwrap_or(usize::MAX);
        let start = usize::try_from(args.start).unwrap_or(usize::MAX).min(total);
        let rows = usize::try_from(args.rows).unwrap_or(0);
        let facet_fields: Vec<FacetField> = if args.facet {
            args.facet_fields.clone()
        } else {
            Vec::new()
        };
        let collector = facets::FacetCollector::new(&facet_fields);
        let (count, hits, counts) = if rows == 0 {
            let (count, counts) = searcher
                .search(query.as_ref(), &(Count, collector))
                .map_err(io)?;
            (count, Vec::new(), counts)
        } else if args.sort == query::default_sort() {
            // CKAN's default order, with typed sort keys: the common case, kept fast.
            let top = TopDocs::with_limit(rows).and_offset(start).order_by((
                (SortBySimilarityScore, Order::Desc),
                (
                    SortByStaticFastValue::<DateTime>::for_field("metadata_modified"),
                    Order::Desc,
                ),
            ));
            collect(&searcher, query.as_ref(), top, collector)?
        } else {
            let top = TopDocs::with_limit(rows)
                .and_offset(start)
                .order_by(query::sort_keys(&args.sort));
            collect(&searcher, query.as_ref(), top, collector)?
        };
        let mut results = Vec::with_capacity(hits.len());
        for address in hits {
            let doc: TantivyDocument = searcher.doc(address).map_err(io)?;
            let json = doc
                .get_first(self.fields.package)
                .and_then(|v| v.as_str())
                .unwrap_or("null");
            results.push(serde_json::from_str(json).map_err(io)?);
        }
        Ok(SearchResult {
            count,
            results,
            facets: self.facet_items(&facet_fields, counts, args),
        })
    }

    fn facet_items(
        &self,
        fields: &[FacetField],
        counts: facets::Counts,
        args: &PackageSearchArgs,
    ) -> Vec<(FacetField, Vec<FacetItem>)> {
        let display = self.display.read().ok();
        fields
            .iter()
            .zip(counts)
            .map(|(&field, counts)| {
                let mut items: Vec<FacetItem> = counts
                    .into_iter()
                    .filter(|(_, count)| *count >= args.facet_mincount)
                    .map(|(name, count)| {
                        let display_name = match field {
                            FacetField::LicenseId => {
                                Licence::parse(&name).map(|l| l.title().to_owned()).ok()
                            }
                            _ => display
                                .as_ref()
                                .and_then(|d| d.get(&(field, name.clone())).cloned()),
                        }
                        .unwrap_or_else(|| name.clone());
                        FacetItem {
                            name,
                            display_name,
                            count,
                        }
                    })
                    .collect();
                // Solr's facet.sort=count: the largest first, then by name.
                items.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
                if let Some(limit) = args.facet_limit {
                    items.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
                }
                (field, items)
            })
            .collect()
    }
}
