//! The datastore's tables on SQLite and PostgreSQL. Each ingested resource gets a table of its
//! own, `opendata_ds_<32 hex>`, whose name is made here and never from input; its columns are
//! `_id` and `c0`, `c1`, … in the order of the data dictionary, which `opendata_datastore`
//! keeps with the table's name (migration 0028). Replacing a resource's data makes a new table
//! and drops the old one in the same transaction as the dictionary and the audit event, so a
//! reader sees the old rows or the new ones, never a mixture, and a failed ingest leaves
//! nothing behind.

use bauhinia_store::audit::{AuditEvent, Outcome};
use bauhinia_store::{read, write_tx, Backend, Database, StoreError};
use serde_json::{json, Value};
use sqlx::Row;

use super::query::{contains_pattern, Column, Plan};
use super::table::{Cell, Field, FieldType, Table};
use crate::error::OpendataError;

/// At most this many values are bound in one INSERT (under SQLite's 32,766 and PostgreSQL's
/// 65,535 parameters).
const BIND_VALUES_MAX: usize = 30_000;
/// A dump reads the table in pages of this many rows.
pub const DUMP_PAGE_ROWS: u32 = 5_000;

/// A resource's datastore table: where it is and what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableInfo {
    pub resource_id: String,
    pub table: String,
    pub fields: Vec<Field>,
    pub rows: i64,
    pub modified_s: i64,
}

/// Who may see a resource: its dataset's id and whether the dataset is public and active.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceOwner {
    pub dataset_id: String,
    pub organization_id: String,
    pub public: bool,
}

/// One page of a search: rows of cells in the plan's column order (`_id` as an int).
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub rows: Vec<Vec<Cell>>,
    pub total: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct DatastoreStore {
    db: Database,
}

fn column_sql(backend: Backend, kind: FieldType) -> &'static str {
    match (backend, kind) {
        (_, FieldType::Text | FieldType::Timestamp | FieldType::Json) => "TEXT",
        (Backend::Sqlite, FieldType::Int | FieldType::Bool) => "INTEGER",
        (Backend::Sqlite, FieldType::Numeric) => "REAL",
        (Backend::Postgres, FieldType::Int) => "BIGINT",
        (Backend::Postgres, FieldType::Numeric) => "DOUBLE PRECISION",
        (Backend::Postgres, FieldType::Bool) => "BOOLEAN",
    }
}

fn column_name(column: Column) -> String {
    match column {
        Column::RowId => "_id".to_owned(),
        Column::Field(i) => format!("c{i}"),
    }
}

fn fields_json(fields: &[Field]) -> String {
    Value::Array(
        fields
            .iter()
            .map(|f| json!({"id": f.id, "type": f.kind.as_str()}))
            .collect(),
    )
    .to_string()
}

fn parse_fields(text: &str, resource: &str) -> Result<Vec<Field>, StoreError> {
    let corrupt = || StoreError::Corrupt(format!("datastore dictionary of {resource}"));
    let Value::Array(items) = serde_json::from_str(text).map_err(|_| corrupt())? else {
        return Err(corrupt());
    };
    items
        .iter()
        .map(|item| {
            let id = item.get("id").and_then(Value::as_str).ok_or_else(corrupt)?;
            let kind = item
                .get("type")
                .and_then(Value::as_str)
                .and_then(FieldType::parse)
                .ok_or_else(corrupt)?;
            Ok(Field {
                id: id.to_owned(),
                kind,
            })
        })
        .collect()
}

/// Binds one cell to `$query` as the column's SQL type (a null of that type for `Null`).
macro_rules! bind_cell {
    ($query:expr, $kind:expr, $cell:expr) => {
        match ($kind, $cell) {
            (FieldType::Int, Cell::Int(n)) => $query.bind(Some(*n)),
            (FieldType::Int, _) => $query.bind(None::<i64>),
            (FieldType::Numeric, Cell::Numeric(x)) => $query.bind(Some(*x)),
            (FieldType::Numeric, _) => $query.bind(None::<f64>),
            (FieldType::Bool, Cell::Bool(b)) => $query.bind(Some(*b)),
            (FieldType::Bool, _) => $query.bind(None::<bool>),
            (_, Cell::Text(t) | Cell::Timestamp(t)) => $query.bind(Some(t.clone())),
            (_, _) => $query.bind(None::<String>),
        }
    };
}

/// Reads column `$i` of `$row` as a cell of type `$kind`.
macro_rules! read_cell {
    ($row:expr, $i:expr, $kind:expr) => {
        match $kind {
            FieldType::Int => $row
                .try_get::<Option<i64>, _>($i)?
                .map_or(Cell::Null, Cell::Int),
            FieldType::Numeric => $row
                .try_get::<Option<f64>, _>($i)?
                .map_or(Cell::Null, Cell::Numeric),
            FieldType::Bool => $row
                .try_get::<Option<bool>, _>($i)?
                .map_or(Cell::Null, Cell::Bool),
            FieldType::Timestamp => $row
                .try_get::<Option<String>, _>($i)?
                .map_or(Cell::Null, Cell::Timestamp),
            FieldType::Text | FieldType::Json => $row
                .try_get::<Option<String>, _>($i)?
                .map_or(Cell::Null, Cell::Text),
        }
    };
}

/// Every row of `$fetched` as cells of `$kinds`, column by column.
macro_rules! read_rows {
    ($fetched:expr, $kinds:expr) => {{
        let mut rows = Vec::with_capacity($fetched.len());
        for row in &$fetched {
            let mut cells = Vec::with_capacity($kinds.len());
            for (i, kind) in $kinds.iter().enumerate() {
                cells.push(read_cell!(row, i, *kind));
            }
            rows.push(cells);
        }
        rows
    }};
}

impl DatastoreStore {
    pub fn new(db: &Database) -> DatastoreStore {
        DatastoreStore { db: db.clone() }
    }

    /// The dataset a resource belongs to, and whether anyone may see it.
    pub async fn owner(&self, resource_id: &str) -> Result<Option<ResourceOwner>, StoreError> {
        let sql = "SELECT d.id, d.organization, d.private, d.state FROM opendata_resources r \
                   JOIN opendata_datasets d ON d.id = r.dataset WHERE r.id = $1";
        let row: Option<(String, String, i64, String)> = read!(&self.db, conn => {
            sqlx::query_as(sql).bind(resource_id).fetch_optional(conn).await?
        });
        Ok(row.map(
            |(dataset_id, organization_id, private, state)| ResourceOwner {
                dataset_id,
                organization_id,
                public: private == 0 && state == "active",
            },
        ))
    }

    pub async fn info(&self, resource_id: &str) -> Result<Option<TableInfo>, StoreError> {
        let sql = "SELECT table_name, fields, row_count, modified_at_s FROM opendata_datastore \
                   WHERE resource = $1";
        let row: Option<(String, String, i64, i64)> = read!(&self.db, conn => {
            sqlx::query_as(sql).bind(resource_id).fetch_optional(conn).await?
        });
        row.map(|(table, fields, rows, modified_s)| {
            Ok(TableInfo {
                resource_id: resource_id.to_owned(),
                table,
                fields: parse_fields(&fields, resource_id)?,
                rows,
                modified_s,
            })
        })
        .transpose()
    }

    /// Stores `table` as the resource's data, replacing what it had, in one transaction with
    /// its audit event.
    pub async fn replace(
        &self,
        resource_id: &str,
        table: &Table,
        actor: &str,
        now_s: i64,
    ) -> Result<TableInfo, OpendataError> {
        let backend = self.db.backend();
        let name = format!("opendata_ds_{}", uuid::Uuid::new_v4().simple());
        let columns: Vec<String> = std::iter::once(match backend {
            Backend::Sqlite => "_id INTEGER PRIMARY KEY".to_owned(),
            Backend::Postgres => "_id BIGINT PRIMARY KEY".to_owned(),
        })
        .chain(
            table
                .fields
                .iter()
                .enumerate()
                .map(|(i, f)| format!("c{i} {}", column_sql(backend, f.kind))),
        )
        .collect();
        let strict = if backend == Backend::Sqlite {
            " STRICT"
        } else {
            ""
        };
        let create = format!("CREATE TABLE {name} ({}){strict}", columns.join(", "));
        let width = table.fields.len() + 1;
        let rows_per_insert = (BIND_VALUES_MAX / width).max(1);
        let rows = i64::try_from(table.rows.len()).unwrap_or(i64::MAX);
        let event = AuditEvent {
            actor: actor.to_owned(),
            action: "opendata.datastore.replace",
            subject: format!("opendata_resource:{resource_id}"),
            outcome: Outcome::Success,
            detail: json!({"rows": rows, "fields": table.fields.len()}),
            request_id: None,
        };
        let fields = fields_json(&table.fields);
        write_tx!(&self.db, tx, append => {
            let old: Option<String> = sqlx::query_scalar(
                "SELECT table_name FROM opendata_datastore WHERE resource = $1",
            )
            .bind(resource_id)
            .fetch_optional(&mut *tx)
            .await?;
            sqlx::query(&create).persistent(false).execute(&mut *tx).await?;
            let mut next_id: i64 = 1;
            for chunk in table.rows.chunks(rows_per_insert) {
                let placeholders: Vec<String> = (0..chunk.len())
                    .map(|r| {
                        let first = r * width + 1;
                        let marks: Vec<String> =
                            (first..first + width).map(|p| format!("${p}")).collect();
                        format!("({})", marks.join(", "))
                    })
                    .collect();
                let names: Vec<String> =
                    std::iter::once("_id".to_owned()).chain((0..width - 1).map(|i| format!("c{i}"))).collect();
                let sql = format!(
                    "INSERT INTO {name} ({}) VALUES {}",
                    names.join(", "),
                    placeholders.join(", ")
                );
                // Not kept in the statement cache: the text names this table, so it never runs
                // again, and cached it would only push out statements that do.
                let mut query = sqlx::query(&sql).persistent(false);
                for row in chunk {
                    query = query.bind(next_id);
                    next_id += 1;
                    for (field, cell) in table.fields.iter().zip(row) {
                        query = bind_cell!(query, field.kind, cell);
                    }
                }
                query.execute(&mut *tx).await?;
            }
            sqlx::query(
                "INSERT INTO opendata_datastore (resource, table_name, fields, row_count, \
                 created_at_s, modified_at_s) VALUES ($1, $2, $3, $4, $5, $5) \
                 ON CONFLICT (resource) DO UPDATE SET table_name = excluded.table_name, \
                 fields = excluded.fields, row_count = excluded.row_count, \
                 modified_at_s = excluded.modified_at_s",
            )
            .bind(resource_id)
            .bind(&name)
            .bind(&fields)
            .bind(rows)
            .bind(now_s)
            .execute(&mut *tx)
            .await?;
            if let Some(old) = old.filter(|old| is_ours(old)) {
                sqlx::query(&format!("DROP TABLE {old}")).persistent(false).execute(&mut *tx).await?;
            }
            append(&mut tx, &event).await?;
        });
        Ok(TableInfo {
            resource_id: resource_id.to_owned(),
            table: name,
            fields: table.fields.clone(),
            rows,
            modified_s: now_s,
        })
    }

    /// Drops the resource's table and dictionary, if it has them.
    pub async fn delete(&self, resource_id: &str, actor: &str) -> Result<bool, OpendataError> {
        let event = AuditEvent {
            actor: actor.to_owned(),
            action: "opendata.datastore.delete",
            subject: format!("opendata_resource:{resource_id}"),
            outcome: Outcome::Success,
            detail: json!({}),
            request_id: None,
        };
        let dropped = write_tx!(&self.db, tx, append => {
            let old: Option<String> = sqlx::query_scalar(
                "SELECT table_name FROM opendata_datastore WHERE resource = $1",
            )
            .bind(resource_id)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(old) = &old {
                sqlx::query("DELETE FROM opendata_datastore WHERE resource = $1")
                    .bind(resource_id)
                    .execute(&mut *tx)
                    .await?;
                if is_ours(old) {
                    sqlx::query(&format!("DROP TABLE {old}")).persistent(false).execute(&mut *tx).await?;
                }
                append(&mut tx, &event).await?;
            }
            old.is_some()
        });
        Ok(dropped)
    }

    /// One page of rows matching the plan, and their total when asked.
    pub async fn search(&self, info: &TableInfo, plan: &Plan) -> Result<Found, StoreError> {
        checked(info)?;
        let like = match self.db.backend() {
            Backend::Sqlite => "LIKE",
            Backend::Postgres => "ILIKE",
        };
        let mut binds: Vec<(FieldType, Cell)> = Vec::new();
        let mut conditions: Vec<String> = Vec::new();
        let kind_of = |column: Column| match column {
            Column::RowId => FieldType::Int,
            Column::Field(i) => info.fields.get(i).map_or(FieldType::Text, |f| f.kind),
        };
        for (column, values) in &plan.filters {
            let name = column_name(*column);
            let mut alternatives = Vec::new();
            for value in values {
                if *value == Cell::Null {
                    alternatives.push(format!("{name} IS NULL"));
                } else {
                    binds.push((kind_of(*column), value.clone()));
                    alternatives.push(format!("{name} = ${}", binds.len()));
                }
            }
            conditions.push(format!("({})", alternatives.join(" OR ")));
        }
        for (column, text) in &plan.q {
            binds.push((FieldType::Text, Cell::Text(contains_pattern(text))));
            let mark = binds.len();
            let searched: Vec<String> = match column {
                Some(column) => vec![column_name(*column)],
                None => (0..info.fields.len()).map(|i| format!("c{i}")).collect(),
            };
            let matches: Vec<String> = searched
                .iter()
                .map(|c| format!("CAST({c} AS TEXT) {like} ${mark} ESCAPE '\\'"))
                .collect();
            conditions.push(format!("({})", matches.join(" OR ")));
        }
        let filter = if conditions.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conditions.join(" AND "))
        };
        let selected: Vec<String> = plan.columns.iter().map(|c| column_name(*c)).collect();
        let order: Vec<String> = plan
            .sort
            .iter()
            .map(|(c, desc)| format!("{} {}", column_name(*c), if *desc { "DESC" } else { "ASC" }))
            .chain(std::iter::once("_id ASC".to_owned()))
            .collect();
        let select = format!(
            "SELECT {} FROM {}{filter} ORDER BY {} LIMIT {} OFFSET {}",
            if selected.is_empty() {
                "_id".to_owned()
            } else {
                selected.join(", ")
            },
            info.table,
            order.join(", "),
            plan.limit,
            plan.offset
        );
        let count = format!("SELECT COUNT(*) FROM {}{filter}", info.table);
        let kinds: Vec<FieldType> = plan.columns.iter().map(|c| kind_of(*c)).collect();
        let found = read!(&self.db, conn => {
            let mut query = sqlx::query(&select);
            for (kind, cell) in &binds {
                query = bind_cell!(query, *kind, cell);
            }
            let fetched = query.fetch_all(conn).await?;
            let rows = read_rows!(fetched, kinds);
            let total = if plan.include_total {
                let mut query = sqlx::query_scalar::<_, i64>(&count);
                for (kind, cell) in &binds {
                    query = bind_cell!(query, *kind, cell);
                }
                Some(query.fetch_one(conn).await?)
            } else {
                None
            };
            Found { rows, total }
        });
        Ok(found)
    }

    /// Rows after `_id` `after`, in `_id` order, every field: a page of a dump.
    pub async fn page(
        &self,
        info: &TableInfo,
        after: i64,
        limit: u32,
    ) -> Result<Vec<Vec<Cell>>, StoreError> {
        checked(info)?;
        let columns: Vec<String> = std::iter::once("_id".to_owned())
            .chain((0..info.fields.len()).map(|i| format!("c{i}")))
            .collect();
        let sql = format!(
            "SELECT {} FROM {} WHERE _id > $1 ORDER BY _id LIMIT {limit}",
            columns.join(", "),
            info.table
        );
        let kinds: Vec<FieldType> = std::iter::once(FieldType::Int)
            .chain(info.fields.iter().map(|f| f.kind))
            .collect();
        let rows = read!(&self.db, conn => {
            let fetched = sqlx::query(&sql).bind(after).fetch_all(conn).await?;
            let rows = read_rows!(fetched, kinds);
            rows
        });
        Ok(rows)
    }
}

fn checked(info: &TableInfo) -> Result<(), StoreError> {
    if is_ours(&info.table) {
        Ok(())
    } else {
        Err(StoreError::Corrupt(format!(
            "datastore table name of {}",
            info.resource_id
        )))
    }
}

/// A table name this store made: `opendata_ds_` and 32 lower-case hex digits. Checked before
/// a name read from the database is put into SQL.
pub fn is_ours(table: &str) -> bool {
    table.strip_prefix("opendata_ds_").is_some_and(|hex| {
        hex.len() == 32 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    })
}
