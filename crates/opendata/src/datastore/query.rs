//! `datastore_search`'s parameters — outside input — and the plan they become once checked
//! against a table's data dictionary. A plan names columns only by their position, so no
//! caller's text ever becomes an SQL identifier; values are bound, never spliced.

use bauhinia_core::FieldError;
use serde_json::Value;

use super::table::{self, Cell, Field, FieldType};
use crate::action::{boolean, natural, string, Params};

/// CKAN's default page.
pub const LIMIT_DEFAULT: u32 = 100;
/// CKAN's `ckan.datastore.search.rows_max`: larger limits are silently capped.
pub const LIMIT_MAX: u32 = 32_000;
/// At most this many fields filtered at once, values per filter, sort keys, and characters of
/// a `q`.
pub const FILTERS_MAX: usize = 50;
pub const FILTER_VALUES_MAX: usize = 1_000;
pub const SORT_KEYS_MAX: usize = 10;
pub const Q_LENGTH_MAX: usize = 500;

/// The datastore's own row number, a field of every table.
pub const ROW_ID: &str = "_id";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordsFormat {
    /// A list of objects keyed by field (CKAN's default).
    Objects,
    /// A list of lists in the order of `fields`.
    Lists,
}

/// `q`: one text searched in every field, or a text per field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Q {
    All(String),
    Fields(Vec<(String, String)>),
}

/// The parameters as given, not yet checked against a table.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchArgs {
    pub resource_id: String,
    pub filters: Vec<(String, Vec<Value>)>,
    pub q: Option<Q>,
    pub fields: Option<Vec<String>>,
    pub sort: Vec<(String, bool)>,
    pub limit: u32,
    pub offset: u32,
    pub include_total: bool,
    pub records_format: RecordsFormat,
}

/// A column of a plan: the row number or the table's field at this position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    RowId,
    Field(usize),
}

/// A checked search: every name resolved, every filter value typed.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub columns: Vec<Column>,
    pub filters: Vec<(Column, Vec<Cell>)>,
    /// `(None, text)` searches every field; LIKE patterns are built by the store.
    pub q: Vec<(Option<Column>, String)>,
    pub sort: Vec<(Column, bool)>,
    pub limit: u32,
    pub offset: u32,
    pub include_total: bool,
    pub records_format: RecordsFormat,
}

fn fault(key: &str, detail: impl Into<String>) -> FieldError {
    FieldError::new(format!("/{key}"), detail)
}

fn take<T>(faults: &mut Vec<FieldError>, key: &str, result: Result<T, String>) -> Option<T> {
    result.map_err(|d| faults.push(fault(key, d))).ok()
}

/// A JSON value given as itself, or as JSON text (a GET's query string carries text only).
fn decoded(value: &Value) -> Value {
    match value {
        Value::String(text) if text.trim_start().starts_with(['{', '[']) => {
            serde_json::from_str(text).unwrap_or_else(|_| value.clone())
        }
        other => other.clone(),
    }
}

fn filters(value: Option<&Value>) -> Result<Vec<(String, Vec<Value>)>, String> {
    let Some(value) = value.map(decoded) else {
        return Ok(Vec::new());
    };
    let Value::Object(object) = value else {
        return Err("Must be a dictionary of field names and values".into());
    };
    if object.len() > FILTERS_MAX {
        return Err(format!("At most {FILTERS_MAX} fields are filtered at once"));
    }
    object
        .into_iter()
        .map(|(key, value)| {
            let values = match value {
                Value::Array(items) => items,
                single => vec![single],
            };
            if values.is_empty() || values.len() > FILTER_VALUES_MAX {
                return Err(format!(
                    "The filter of \"{key}\" must have 1 to {FILTER_VALUES_MAX} values"
                ));
            }
            if values
                .iter()
                .any(|v| matches!(v, Value::Array(_) | Value::Object(_)))
            {
                return Err(format!(
                    "The filter of \"{key}\" has a value that is not a scalar"
                ));
            }
            Ok((key, values))
        })
        .collect()
}

fn q(value: Option<&Value>) -> Result<Option<Q>, String> {
    let too_long = |text: &str| text.chars().count() > Q_LENGTH_MAX;
    match value.map(decoded) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(object)) => {
            let mut pairs = Vec::with_capacity(object.len());
            if object.len() > FILTERS_MAX {
                return Err(format!("At most {FILTERS_MAX} fields are searched at once"));
            }
            for (key, value) in object {
                let Some(text) = string(Some(&value)).ok().flatten() else {
                    return Err(format!("The search of \"{key}\" must be a string"));
                };
                if too_long(&text) {
                    return Err(format!("At most {Q_LENGTH_MAX} characters"));
                }
                pairs.push((key, text));
            }
            Ok(Some(Q::Fields(pairs)))
        }
        Some(other) => match string(Some(&other)) {
            Ok(Some(text)) if too_long(&text) => Err(format!("At most {Q_LENGTH_MAX} characters")),
            Ok(Some(text)) if text.trim().is_empty() => Ok(None),
            Ok(Some(text)) => Ok(Some(Q::All(text))),
            Ok(None) => Ok(None),
            Err(detail) => Err(detail.into()),
        },
    }
}

/// A list of names: a JSON list of strings, or one text of names separated by commas.
fn names(value: Option<&Value>) -> Result<Option<Vec<String>>, String> {
    let list: Vec<String> = match value.map(decoded) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(s.trim().to_owned()),
                _ => Err("Must be a list of field names".to_owned()),
            })
            .collect::<Result<_, _>>()?,
        Some(Value::String(text)) => text.split(',').map(|s| s.trim().to_owned()).collect(),
        Some(_) => return Err("Must be a list of field names".into()),
    };
    let list: Vec<String> = list.into_iter().filter(|s| !s.is_empty()).collect();
    if list.len() > table::FIELDS_MAX + 1 {
        return Err("Too many field names".into());
    }
    Ok(Some(list))
}

/// `sort`: `"a, b desc"` or a list of such terms; a name with spaces may be quoted.
fn sort(value: Option<&Value>) -> Result<Vec<(String, bool)>, String> {
    let Some(terms) = names(value)? else {
        return Ok(Vec::new());
    };
    if terms.len() > SORT_KEYS_MAX {
        return Err(format!("At most {SORT_KEYS_MAX} sort keys"));
    }
    terms
        .iter()
        .map(|term| {
            let (name, descending) = if let Some(name) = term.strip_suffix(" desc") {
                (name, true)
            } else if let Some(name) = term.strip_suffix(" asc") {
                (name, false)
            } else {
                (term.as_str(), false)
            };
            let name = name.trim();
            let name = name
                .strip_prefix('"')
                .and_then(|n| n.strip_suffix('"'))
                .unwrap_or(name);
            if name.is_empty() {
                return Err(format!("Cannot sort by \"{term}\""));
            }
            Ok((name.to_owned(), descending))
        })
        .collect()
}

impl SearchArgs {
    pub fn parse(params: &Params) -> Result<SearchArgs, Vec<FieldError>> {
        let mut faults = Vec::new();
        let resource_id = take(
            &mut faults,
            "resource_id",
            match string(params.get("resource_id").or_else(|| params.get("id"))) {
                Ok(Some(id)) if !id.trim().is_empty() => Ok(id.trim().to_owned()),
                Ok(_) => Err("Missing value".into()),
                Err(d) => Err(d.into()),
            },
        );
        let filters = take(&mut faults, "filters", filters(params.get("filters")));
        let q = take(&mut faults, "q", q(params.get("q")));
        let fields = take(&mut faults, "fields", names(params.get("fields")));
        let sort = take(&mut faults, "sort", sort(params.get("sort")));
        let limit = take(
            &mut faults,
            "limit",
            natural(params.get("limit")).map_err(str::to_owned),
        );
        let offset = take(
            &mut faults,
            "offset",
            natural(params.get("offset")).map_err(str::to_owned),
        );
        let include_total = take(
            &mut faults,
            "include_total",
            boolean(params.get("include_total")).map_err(str::to_owned),
        );
        let records_format = take(
            &mut faults,
            "records_format",
            match string(params.get("records_format")) {
                Ok(None) => Ok(RecordsFormat::Objects),
                Ok(Some(f)) if f == "objects" => Ok(RecordsFormat::Objects),
                Ok(Some(f)) if f == "lists" => Ok(RecordsFormat::Lists),
                _ => Err("The formats are objects and lists".into()),
            },
        );
        if !faults.is_empty() {
            return Err(faults);
        }
        Ok(SearchArgs {
            resource_id: resource_id.unwrap_or_default(),
            filters: filters.unwrap_or_default(),
            q: q.flatten(),
            fields: fields.flatten(),
            sort: sort.unwrap_or_default(),
            limit: limit.flatten().map_or(LIMIT_DEFAULT, |l| l.min(LIMIT_MAX)),
            offset: offset.flatten().unwrap_or(0),
            include_total: include_total.flatten().unwrap_or(true),
            records_format: records_format.unwrap_or(RecordsFormat::Objects),
        })
    }

    /// Checks the names and values against the table's fields; every fault is named.
    pub fn plan(&self, fields: &[Field]) -> Result<Plan, Vec<FieldError>> {
        let mut faults = Vec::new();
        let mut column = |key: &str, name: &str| -> Option<Column> {
            if name == ROW_ID {
                return Some(Column::RowId);
            }
            let found = fields.iter().position(|f| f.id == name).map(Column::Field);
            if found.is_none() {
                faults.push(fault(key, format!("field \"{name}\" not in table")));
            }
            found
        };
        let columns: Vec<Column> = match &self.fields {
            Some(names) => names.iter().filter_map(|n| column("fields", n)).collect(),
            None => std::iter::once(Column::RowId)
                .chain((0..fields.len()).map(Column::Field))
                .collect(),
        };
        let sort: Vec<(Column, bool)> = self
            .sort
            .iter()
            .filter_map(|(name, desc)| column("sort", name).map(|c| (c, *desc)))
            .collect();
        let q = match &self.q {
            None => Vec::new(),
            Some(Q::All(text)) => vec![(None, text.clone())],
            Some(Q::Fields(pairs)) => pairs
                .iter()
                .filter_map(|(name, text)| column("q", name).map(|c| (Some(c), text.clone())))
                .collect(),
        };
        let mut typed = Vec::with_capacity(self.filters.len());
        let mut untyped = Vec::new();
        for (name, values) in &self.filters {
            let Some(col) = column("filters", name) else {
                continue;
            };
            let kind = match col {
                Column::RowId => FieldType::Int,
                Column::Field(i) => fields.get(i).map_or(FieldType::Text, |f| f.kind),
            };
            match values.iter().map(|v| filter_value(kind, v)).collect() {
                Some(cells) => typed.push((col, cells)),
                None => untyped.push(fault(
                    "filters",
                    format!("a value of \"{name}\" is not a {}", kind.as_str()),
                )),
            }
        }
        faults.extend(untyped);
        if !faults.is_empty() {
            return Err(faults);
        }
        Ok(Plan {
            columns,
            filters: typed,
            q,
            sort,
            limit: self.limit,
            offset: self.offset,
            include_total: self.include_total,
            records_format: self.records_format,
        })
    }
}

/// A filter's value as a cell of the column's type, or `None` if it is not one.
fn filter_value(kind: FieldType, value: &Value) -> Option<Cell> {
    let text = match value {
        Value::Null => return Some(Cell::Null),
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Array(_) | Value::Object(_) => return None,
    };
    match kind {
        FieldType::Text | FieldType::Json => Some(Cell::Text(text)),
        FieldType::Int => table::integer(text.trim()).map(Cell::Int),
        FieldType::Numeric => table::number(text.trim()).map(Cell::Numeric),
        FieldType::Timestamp => table::timestamp(text.trim()).map(Cell::Timestamp),
        FieldType::Bool => table::boolean(text.trim()).map(Cell::Bool),
    }
}

/// `text` as a LIKE pattern matching it anywhere, with `\` escaping LIKE's wildcards.
pub fn contains_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn params(value: Value) -> Params {
        Params::from_json(value.to_string().as_bytes()).unwrap()
    }

    fn fields() -> Vec<Field> {
        vec![
            Field {
                id: "district".into(),
                kind: FieldType::Text,
            },
            Field {
                id: "count".into(),
                kind: FieldType::Int,
            },
        ]
    }

    #[test]
    fn the_parameters_of_ckan_are_read_in_both_shapes() {
        let args = SearchArgs::parse(&Params::from_query(
            "resource_id=r1&filters=%7B%22district%22%3A%5B%22Sha+Tin%22%2C%22Tai+Po%22%5D%7D\
             &q=park&fields=district,count&sort=count+desc,+district&limit=99999&offset=5\
             &include_total=false",
        ))
        .unwrap();
        assert_eq!(args.resource_id, "r1");
        assert_eq!(
            args.filters,
            vec![("district".into(), vec![json!("Sha Tin"), json!("Tai Po")])]
        );
        assert_eq!(args.q, Some(Q::All("park".into())));
        assert_eq!(
            args.sort,
            vec![("count".into(), true), ("district".into(), false)]
        );
        assert_eq!(
            (args.limit, args.offset, args.include_total),
            (LIMIT_MAX, 5, false)
        );
        let plan = args.plan(&fields()).unwrap();
        assert_eq!(plan.columns, vec![Column::Field(0), Column::Field(1)]);
        assert_eq!(
            plan.sort,
            vec![(Column::Field(1), true), (Column::Field(0), false)]
        );
    }

    #[test]
    fn unknown_fields_and_untyped_values_are_named() {
        let args = SearchArgs::parse(&params(json!({
            "resource_id": "r1",
            "filters": {"count": "many", "nope": 1},
            "sort": "missing desc",
            "fields": ["district", "_id"],
        })))
        .unwrap();
        let faults = args.plan(&fields()).unwrap_err();
        let text = format!("{faults:?}");
        assert!(
            text.contains("field \\\"missing\\\" not in table"),
            "{text}"
        );
        assert!(text.contains("field \\\"nope\\\" not in table"), "{text}");
        assert!(
            text.contains("a value of \\\"count\\\" is not a int"),
            "{text}"
        );
        let missing = SearchArgs::parse(&params(json!({"limit": -1}))).unwrap_err();
        assert_eq!(missing.len(), 2, "{missing:?}");
    }

    #[test]
    fn like_wildcards_are_literal() {
        assert_eq!(contains_pattern("50%_a\\"), "%50\\%\\_a\\\\%");
    }
}
