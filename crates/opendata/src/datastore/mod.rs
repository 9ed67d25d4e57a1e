//! The datastore: tabular resources (CSV, JSON) ingested into tables with inferred types and a
//! data dictionary, queried by CKAN's `datastore_search` and downloaded whole as CSV or JSON.
//!
//! `table` parses a file into typed rows (pure); `query` checks `datastore_search`'s
//! parameters against the dictionary (pure); `store` keeps one table per resource on SQLite
//! or PostgreSQL. This module is the service: who may read which resource's rows, and
//! CKAN's answer shapes. It never interprets a caller's text as SQL: names become column
//! positions, values are bound.

pub mod query;
pub mod store;
pub mod table;

use serde_json::{json, Map, Value};

use self::query::{Column, Plan, RecordsFormat, SearchArgs, ROW_ID};
use self::store::{DatastoreStore, TableInfo};
use self::table::{Cell, FieldType, Table};
use crate::domain::Format;
use crate::error::OpendataError;
use bauhinia_core::FieldError;
use bauhinia_store::Database;

#[derive(Debug, Clone)]
pub struct Datastore {
    store: DatastoreStore,
}

/// The formats a dump is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DumpFormat {
    Csv,
    Json,
}

impl DumpFormat {
    pub fn parse(text: Option<&str>) -> Option<DumpFormat> {
        match text.map(str::to_ascii_lowercase).as_deref() {
            None | Some("csv") => Some(DumpFormat::Csv),
            Some("json") => Some(DumpFormat::Json),
            Some(_) => None,
        }
    }
}

impl Datastore {
    pub fn new(db: &Database) -> Datastore {
        Datastore {
            store: DatastoreStore::new(db),
        }
    }

    pub fn store(&self) -> &DatastoreStore {
        &self.store
    }

    /// Parses a file of a tabular format and stores it as the resource's rows, replacing any
    /// it had. A file that does not parse is a validation fault naming what and where, and
    /// changes nothing.
    pub async fn ingest(
        &self,
        resource_id: &str,
        format: Format,
        bytes: &[u8],
        actor: &str,
        now_s: i64,
    ) -> Result<TableInfo, OpendataError> {
        let table = parse(format, bytes)?;
        self.store.replace(resource_id, &table, actor, now_s).await
    }

    /// The resource's table, when an anonymous caller may read it.
    pub async fn readable(&self, resource_id: &str) -> Result<TableInfo, OpendataError> {
        let not_found =
            || OpendataError::NotFound(format!("Resource \"{resource_id}\" was not found."));
        let owner = self.store.owner(resource_id).await?.ok_or_else(not_found)?;
        if !owner.public {
            return Err(OpendataError::Forbidden(format!(
                "not authorized to read resource {resource_id}"
            )));
        }
        self.store.info(resource_id).await?.ok_or_else(not_found)
    }

    /// `datastore_search`, in CKAN's shape. `action_path` is where the action was asked
    /// (`/api/3/action/datastore_search`), for the `_links`.
    pub async fn search(
        &self,
        args: &SearchArgs,
        action_path: &str,
    ) -> Result<Value, OpendataError> {
        let info = self.readable(&args.resource_id).await?;
        let plan = args.plan(&info.fields).map_err(OpendataError::Invalid)?;
        let found = self.store.search(&info, &plan).await?;
        Ok(search_result(args, &info, &plan, found, action_path))
    }

    /// The first `limit` rows of a resource an anonymous caller may read, with its fields and
    /// its number of rows (the portal's preview).
    pub async fn first_rows(
        &self,
        resource_id: &str,
        limit: u32,
    ) -> Result<(TableInfo, Vec<Vec<Cell>>), OpendataError> {
        let info = self.readable(resource_id).await?;
        let plan = Plan {
            columns: (0..info.fields.len()).map(Column::Field).collect(),
            filters: Vec::new(),
            q: Vec::new(),
            sort: Vec::new(),
            limit: limit.min(query::LIMIT_MAX),
            offset: 0,
            include_total: false,
            records_format: RecordsFormat::Lists,
        };
        let found = self.store.search(&info, &plan).await?;
        Ok((info, found.rows))
    }

    /// `datastore_info`: the dictionary and the row count.
    pub async fn info(&self, resource_id: &str) -> Result<Value, OpendataError> {
        let info = self.readable(resource_id).await?;
        Ok(json!({
            "meta": {"count": info.rows, "table_type": "BASE TABLE"},
            "fields": info.fields.iter().map(|f| json!({
                "id": f.id,
                "type": f.kind.as_str(),
                "schema": {"native_type": f.kind.as_str()},
            })).collect::<Vec<_>>(),
        }))
    }
}

pub fn parse(format: Format, bytes: &[u8]) -> Result<Table, OpendataError> {
    let parsed = match format {
        Format::Csv => table::parse_csv(bytes),
        Format::Json => table::parse_json(bytes),
        other => {
            return Err(OpendataError::Invalid(vec![FieldError::new(
                "/format",
                format!("The datastore takes CSV and JSON, not {}", other.as_str()),
            )]))
        }
    };
    parsed.map_err(|e| OpendataError::Invalid(vec![FieldError::new("/upload", e.message)]))
}

fn field_of(info: &TableInfo, column: Column) -> (&str, FieldType) {
    match column {
        Column::RowId => (ROW_ID, FieldType::Int),
        Column::Field(i) => info
            .fields
            .get(i)
            .map_or(("", FieldType::Text), |f| (f.id.as_str(), f.kind)),
    }
}

fn search_result(
    args: &SearchArgs,
    info: &TableInfo,
    plan: &Plan,
    found: store::Found,
    action_path: &str,
) -> Value {
    let described: Vec<(&str, FieldType)> =
        plan.columns.iter().map(|c| field_of(info, *c)).collect();
    let records: Vec<Value> = found
        .rows
        .iter()
        .map(|row| match plan.records_format {
            RecordsFormat::Objects => {
                let mut object = Map::new();
                for ((id, kind), cell) in described.iter().zip(row) {
                    object.insert((*id).to_owned(), cell.to_json(*kind));
                }
                Value::Object(object)
            }
            RecordsFormat::Lists => Value::Array(
                described
                    .iter()
                    .zip(row)
                    .map(|((_, kind), cell)| cell.to_json(*kind))
                    .collect(),
            ),
        })
        .collect();
    let link = |offset: u32| {
        let mut query = form_urlencoded::Serializer::new(String::new());
        if offset > 0 {
            query.append_pair("offset", &offset.to_string());
        }
        query.append_pair("resource_id", &args.resource_id);
        format!("{action_path}?{}", query.finish())
    };
    let mut result = json!({
        "include_total": plan.include_total,
        "limit": plan.limit,
        "records_format": match plan.records_format {
            RecordsFormat::Objects => "objects",
            RecordsFormat::Lists => "lists",
        },
        "resource_id": args.resource_id,
        "total_estimation_threshold": Value::Null,
        "records": records,
        "fields": described.iter().map(|(id, kind)| json!({"id": id, "type": kind.as_str()})).collect::<Vec<_>>(),
        "_links": {
            "start": link(0),
            "next": link(plan.offset.saturating_add(plan.limit)),
        },
    });
    if let Value::Object(object) = &mut result {
        if let Some(total) = found.total {
            object.insert("total".into(), json!(total));
            object.insert("total_was_estimated".into(), json!(false));
        }
        if !args.filters.is_empty() {
            let filters: Map<String, Value> = args
                .filters
                .iter()
                .map(|(k, v)| {
                    let value = match v.as_slice() {
                        [one] => one.clone(),
                        many => Value::Array(many.to_vec()),
                    };
                    (k.clone(), value)
                })
                .collect();
            object.insert("filters".into(), Value::Object(filters));
        }
        if let Some(q) = &args.q {
            let q = match q {
                query::Q::All(text) => json!(text),
                query::Q::Fields(pairs) => {
                    Value::Object(pairs.iter().map(|(k, v)| (k.clone(), json!(v))).collect())
                }
            };
            object.insert("q".into(), q);
        }
        if !args.sort.is_empty() {
            let sort: Vec<String> = args
                .sort
                .iter()
                .map(|(name, desc)| format!("\"{name}\" {}", if *desc { "desc" } else { "asc" }))
                .collect();
            object.insert("sort".into(), json!(sort.join(", ")));
        }
    }
    result
}

/// The header line of a CSV dump: `_id` and every field.
pub fn csv_header(info: &TableInfo) -> Vec<u8> {
    let names = std::iter::once(ROW_ID).chain(info.fields.iter().map(|f| f.id.as_str()));
    csv_line(names)
}

pub fn csv_line<'a>(values: impl IntoIterator<Item = &'a str>) -> Vec<u8> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    // Writing to a Vec cannot fail.
    let _ = writer.write_record(values);
    writer.into_inner().unwrap_or_default()
}

/// Rows of a page as CSV lines.
pub fn csv_rows(rows: &[Vec<Cell>]) -> Vec<u8> {
    let mut out = Vec::new();
    for row in rows {
        let texts: Vec<String> = row.iter().map(Cell::to_text).collect();
        out.extend(csv_line(texts.iter().map(String::as_str)));
    }
    out
}

/// Rows of a page as JSON lists, each preceded by `,` unless it is the dump's first.
pub fn json_rows(info: &TableInfo, rows: &[Vec<Cell>], first: bool) -> Vec<u8> {
    let kinds: Vec<FieldType> = std::iter::once(FieldType::Int)
        .chain(info.fields.iter().map(|f| f.kind))
        .collect();
    let mut out = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        if !(first && i == 0) {
            out.push(b',');
        }
        let values: Vec<Value> = kinds.iter().zip(row).map(|(k, c)| c.to_json(*k)).collect();
        out.extend(Value::Array(values).to_string().into_bytes());
    }
    out
}

/// The opening of a JSON dump, before its records: `{"fields": [...], "records": [`.
pub fn json_opening(info: &TableInfo) -> Vec<u8> {
    let fields: Vec<Value> = std::iter::once(json!({"id": ROW_ID, "type": "int"}))
        .chain(
            info.fields
                .iter()
                .map(|f| json!({"id": f.id, "type": f.kind.as_str()})),
        )
        .collect();
    format!("{{\"fields\": {}, \"records\": [", Value::Array(fields)).into_bytes()
}
