//! A tabular resource as the datastore keeps it: named fields with inferred types, and rows of
//! typed cells. Parsed from a CSV or JSON file — outside input — with every limit checked and
//! every fault named with where it is (a line, a record, a column). Pure: no I/O, no SQL.
//!
//! Types are inferred from the whole column, CKAN DataStore's names: a column is `int` when
//! every non-empty value is an integer without leading zeros (so codes like `00123` stay
//! text), `numeric` when every one is a decimal number, `timestamp` when every one is an ISO
//! 8601 date or date-time, `bool` when every one is `true` or `false`, and `text` otherwise.
//! An empty value is null. JSON nested values are `json`.

use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime};

/// At most this many fields (columns) in one table.
pub const FIELDS_MAX: usize = 500;
/// At most this many rows in one table.
pub const ROWS_MAX: usize = 2_000_000;
/// A field name: 1 to this many characters.
pub const FIELD_NAME_LENGTH_MAX: usize = 63;
/// One cell's text: at most this many bytes.
pub const CELL_BYTES_MAX: usize = 1 << 20;

/// CKAN DataStore's column types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldType {
    Text,
    Int,
    Numeric,
    Timestamp,
    Bool,
    Json,
}

impl FieldType {
    pub const fn as_str(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::Int => "int",
            FieldType::Numeric => "numeric",
            FieldType::Timestamp => "timestamp",
            FieldType::Bool => "bool",
            FieldType::Json => "json",
        }
    }

    pub fn parse(text: &str) -> Option<FieldType> {
        [
            FieldType::Text,
            FieldType::Int,
            FieldType::Numeric,
            FieldType::Timestamp,
            FieldType::Bool,
            FieldType::Json,
        ]
        .into_iter()
        .find(|t| t.as_str() == text)
    }
}

/// One column of the data dictionary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The name callers use (the file's header): never used as an SQL identifier.
    pub id: String,
    pub kind: FieldType,
}

/// One cell. Timestamps are kept in one normal form, `YYYY-MM-DDTHH:MM:SS` (UTC when the
/// input had an offset), which sorts as time does.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Text(String),
    Int(i64),
    Numeric(f64),
    Timestamp(String),
    Bool(bool),
}

impl Cell {
    /// The cell as CKAN's `records` give it.
    pub fn to_json(&self, kind: FieldType) -> Value {
        match self {
            Cell::Null => Value::Null,
            Cell::Text(text) if kind == FieldType::Json => {
                serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.clone()))
            }
            Cell::Text(text) | Cell::Timestamp(text) => Value::String(text.clone()),
            Cell::Int(n) => Value::from(*n),
            Cell::Numeric(x) => serde_json::Number::from_f64(*x).map_or(Value::Null, Value::Number),
            Cell::Bool(b) => Value::Bool(*b),
        }
    }

    /// The cell as a CSV field.
    pub fn to_text(&self) -> String {
        match self {
            Cell::Null => String::new(),
            Cell::Text(text) | Cell::Timestamp(text) => text.clone(),
            Cell::Int(n) => n.to_string(),
            Cell::Numeric(x) => x.to_string(),
            Cell::Bool(b) => b.to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub fields: Vec<Field>,
    pub rows: Vec<Vec<Cell>>,
}

/// What is wrong with a file, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TableError {
    pub message: String,
}

fn fault(message: impl Into<String>) -> TableError {
    TableError {
        message: message.into(),
    }
}

/// A field name as CKAN's DataStore allows: 1–63 characters, no leading `_` (the datastore's
/// own `_id`), no `"` and no control characters, after trimming spaces.
pub fn field_name(raw: &str, column: usize) -> Result<String, TableError> {
    let name = raw.trim();
    let length = name.chars().count();
    if length == 0 {
        return Err(fault(format!("column {column} has no name")));
    }
    if length > FIELD_NAME_LENGTH_MAX {
        return Err(fault(format!(
            "column {column}'s name is longer than {FIELD_NAME_LENGTH_MAX} characters"
        )));
    }
    if name.starts_with('_') {
        return Err(fault(format!(
            "column {column}'s name \"{name}\" starts with _, which the datastore keeps for itself"
        )));
    }
    if name.chars().any(|c| c == '"' || c.is_control()) {
        return Err(fault(format!(
            "column {column}'s name has a \" or a control character"
        )));
    }
    Ok(name.to_owned())
}

fn check_names(names: &[String]) -> Result<(), TableError> {
    if names.is_empty() {
        return Err(fault("the file has no columns"));
    }
    if names.len() > FIELDS_MAX {
        return Err(fault(format!(
            "the file has {} columns; at most {FIELDS_MAX} are kept",
            names.len()
        )));
    }
    for (i, name) in names.iter().enumerate() {
        if names.iter().take(i).any(|earlier| earlier == name) {
            return Err(fault(format!(
                "column {} repeats the name \"{name}\"",
                i + 1
            )));
        }
    }
    Ok(())
}

/// Parses a CSV file: a header row, then records of the same length. A UTF-8 byte order mark
/// is skipped; any other byte that is not UTF-8 is a fault.
pub fn parse_csv(bytes: &[u8]) -> Result<Table, TableError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(bytes);
    let headers = reader
        .headers()
        .map_err(|e| fault(format!("the header row: {}", csv_error(&e))))?
        .clone();
    let names = headers
        .iter()
        .enumerate()
        .map(|(i, raw)| field_name(raw, i + 1))
        .collect::<Result<Vec<_>, _>>()?;
    check_names(&names)?;
    let mut columns: Vec<Vec<String>> = vec![Vec::new(); names.len()];
    for (index, record) in reader.records().enumerate() {
        let record = record.map_err(|e| fault(csv_error(&e)))?;
        if index >= ROWS_MAX {
            return Err(fault(format!("the file has more than {ROWS_MAX} rows")));
        }
        for (column, value) in columns.iter_mut().zip(record.iter()) {
            if value.len() > CELL_BYTES_MAX {
                return Err(fault(format!(
                    "line {}: a value is longer than {CELL_BYTES_MAX} bytes",
                    record.position().map_or(0, csv::Position::line)
                )));
            }
            column.push(value.to_owned());
        }
    }
    Ok(typed(names, columns))
}

fn csv_error(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            pos,
            expected_len,
            len,
        } => format!(
            "line {}: {len} fields where the header has {expected_len}",
            pos.as_ref().map_or(0, csv::Position::line)
        ),
        csv::ErrorKind::Utf8 { pos, .. } => format!(
            "line {}: the text is not UTF-8",
            pos.as_ref().map_or(0, csv::Position::line)
        ),
        _ => format!("the file is not valid CSV: {e}"),
    }
}

/// One JSON record with its keys in the file's order (serde_json's map sorts them).
#[derive(Debug)]
struct Record(Vec<(String, Value)>);

impl<'de> serde::Deserialize<'de> for Record {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Record, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Record;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a record (a JSON object)")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Record, A::Error> {
                let mut pairs: Vec<(String, Value)> = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, Value>()? {
                    match pairs.iter_mut().find(|(k, _)| *k == key) {
                        Some(pair) => pair.1 = value,
                        None => pairs.push((key, value)),
                    }
                }
                Ok(Record(pairs))
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

#[derive(Debug, serde::Deserialize)]
struct Wrapped {
    #[serde(alias = "data")]
    records: Vec<Record>,
}

/// Parses a JSON file: an array of objects (or an object whose `records` or `data` is one).
/// The fields are the objects' keys in the order first seen; a missing key is null.
pub fn parse_json(bytes: &[u8]) -> Result<Table, TableError> {
    let records: Vec<Record> = match serde_json::from_slice::<Vec<Record>>(bytes) {
        Ok(records) => records,
        Err(list_error) => match serde_json::from_slice::<Wrapped>(bytes) {
            Ok(wrapped) => wrapped.records,
            Err(_) if bytes.trim_ascii_start().starts_with(b"{") => {
                return Err(fault(
                    "a JSON file must be an array of objects, or an object with a \"records\" array of objects",
                ))
            }
            Err(_) => return Err(fault(format!("the file is not an array of JSON records: {list_error}"))),
        },
    };
    if records.len() > ROWS_MAX {
        return Err(fault(format!("the file has more than {ROWS_MAX} records")));
    }
    let mut names: Vec<String> = Vec::new();
    let mut raw_names: Vec<String> = Vec::new();
    for record in &records {
        for (key, _) in &record.0 {
            if !raw_names.contains(key) {
                if raw_names.len() >= FIELDS_MAX {
                    return Err(fault(format!(
                        "the records have more than {FIELDS_MAX} keys"
                    )));
                }
                names.push(field_name(key, raw_names.len() + 1)?);
                raw_names.push(key.clone());
            }
        }
    }
    check_names(&names)?;
    let mut columns: Vec<Vec<Value>> = vec![Vec::with_capacity(records.len()); names.len()];
    for Record(mut pairs) in records {
        for (column, key) in columns.iter_mut().zip(&raw_names) {
            let value = pairs
                .iter()
                .position(|(k, _)| k == key)
                .map_or(Value::Null, |at| pairs.swap_remove(at).1);
            column.push(value);
        }
    }
    let mut fields = Vec::with_capacity(names.len());
    let mut typed_columns = Vec::with_capacity(names.len());
    for (name, column) in names.into_iter().zip(columns) {
        let (kind, cells) = json_column(column)?;
        fields.push(Field { id: name, kind });
        typed_columns.push(cells);
    }
    Ok(Table {
        fields,
        rows: transpose(typed_columns),
    })
}

/// A JSON column: nested values make it `json`; otherwise its scalars are typed as CSV's are
/// (numbers and booleans keep their JSON type).
fn json_column(column: Vec<Value>) -> Result<(FieldType, Vec<Cell>), TableError> {
    let nested = column
        .iter()
        .any(|v| matches!(v, Value::Array(_) | Value::Object(_)));
    if nested {
        let cells = column
            .into_iter()
            .map(|v| match v {
                Value::Null => Cell::Null,
                other => Cell::Text(other.to_string()),
            })
            .collect();
        return Ok((FieldType::Json, cells));
    }
    let mut texts = Vec::with_capacity(column.len());
    for value in column {
        let text = match value {
            Value::Null => String::new(),
            Value::String(s) => s,
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.to_string(),
            Value::Array(_) | Value::Object(_) => String::new(),
        };
        if text.len() > CELL_BYTES_MAX {
            return Err(fault(format!(
                "a value is longer than {CELL_BYTES_MAX} bytes"
            )));
        }
        texts.push(text);
    }
    let kind = infer(&texts);
    Ok((kind, texts.iter().map(|t| cell(kind, t)).collect()))
}

fn typed(names: Vec<String>, columns: Vec<Vec<String>>) -> Table {
    let mut fields = Vec::with_capacity(names.len());
    let mut cells = Vec::with_capacity(names.len());
    for (name, column) in names.into_iter().zip(columns) {
        let kind = infer(&column);
        cells.push(column.iter().map(|text| cell(kind, text)).collect());
        fields.push(Field { id: name, kind });
    }
    Table {
        fields,
        rows: transpose(cells),
    }
}

fn transpose(columns: Vec<Vec<Cell>>) -> Vec<Vec<Cell>> {
    let height = columns.first().map_or(0, Vec::len);
    let mut rows: Vec<Vec<Cell>> = (0..height)
        .map(|_| Vec::with_capacity(columns.len()))
        .collect();
    for column in columns {
        for (row, value) in rows.iter_mut().zip(column) {
            row.push(value);
        }
    }
    rows
}

/// The narrowest type every non-empty value of a column has.
pub fn infer<S: AsRef<str>>(column: &[S]) -> FieldType {
    let values = || {
        column
            .iter()
            .map(|v| v.as_ref().trim())
            .filter(|v| !v.is_empty())
    };
    if values().next().is_none() {
        return FieldType::Text;
    }
    if values().all(|v| integer(v).is_some()) {
        FieldType::Int
    } else if values().all(|v| number(v).is_some()) {
        FieldType::Numeric
    } else if values().all(|v| timestamp(v).is_some()) {
        FieldType::Timestamp
    } else if values().all(|v| boolean(v).is_some()) {
        FieldType::Bool
    } else {
        FieldType::Text
    }
}

/// The cell of `text` in a column of type `kind` (which `infer` chose, so it parses).
pub fn cell(kind: FieldType, text: &str) -> Cell {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Cell::Null;
    }
    let parsed = match kind {
        FieldType::Text | FieldType::Json => None,
        FieldType::Int => integer(trimmed).map(Cell::Int),
        FieldType::Numeric => number(trimmed).map(Cell::Numeric),
        FieldType::Timestamp => timestamp(trimmed).map(Cell::Timestamp),
        FieldType::Bool => boolean(trimmed).map(Cell::Bool),
    };
    parsed.unwrap_or_else(|| Cell::Text(text.to_owned()))
}

/// An integer as a data file writes one: optional sign, digits, no leading zero (`007` is a
/// code, not seven).
pub fn integer(text: &str) -> Option<i64> {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if digits.len() > 1 && digits.starts_with('0') {
        return None;
    }
    text.parse().ok()
}

/// A finite decimal number: digits with an optional sign, point and exponent (not `NaN`,
/// `inf` or hexadecimal, which `f64::from_str` would take).
pub fn number(text: &str) -> Option<f64> {
    let ok = text
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'))
        && text.bytes().any(|b| b.is_ascii_digit());
    if !ok {
        return None;
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    // A leading zero before more digits is a code (`0123`), as for integers.
    if digits.len() > 1 && digits.starts_with('0') && !digits.starts_with("0.") {
        return None;
    }
    text.parse::<f64>().ok().filter(|x| x.is_finite())
}

/// An ISO 8601 date (`2024-03-01`) or date-time (`2024-03-01T08:30:00`, a space for `T`,
/// seconds optional, with or without an offset), in the normal form `YYYY-MM-DDTHH:MM:SS`.
pub fn timestamp(text: &str) -> Option<String> {
    let date = format_description!("[year]-[month]-[day]");
    let seconds = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    let minutes = format_description!("[year]-[month]-[day]T[hour]:[minute]");
    let normal = |at: PrimitiveDateTime| at.format(&seconds).ok();
    if text.len() == 10 {
        return Date::parse(text, &date)
            .ok()
            .and_then(|d| normal(d.midnight()));
    }
    let text = text.replacen(' ', "T", 1);
    if let Ok(at) = OffsetDateTime::parse(&text, &Rfc3339) {
        let utc = at.to_offset(time::UtcOffset::UTC);
        return normal(PrimitiveDateTime::new(utc.date(), utc.time()));
    }
    PrimitiveDateTime::parse(&text, &seconds)
        .or_else(|_| PrimitiveDateTime::parse(&text, &minutes))
        .ok()
        .and_then(normal)
}

pub fn boolean(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(table: &Table) -> Vec<&'static str> {
        table.fields.iter().map(|f| f.kind.as_str()).collect()
    }

    #[test]
    fn csv_columns_get_the_narrowest_type() {
        let table = parse_csv(
            "\u{feff}code,count,share,day,open,name,empty\n\
             007,12,1.5,2024-03-01,true,中環,\n\
             010,-3,2,2024-03-02T08:30:00+08:00,FALSE,\"Sha Tin, NT\",\n"
                .as_bytes(),
        )
        .unwrap();
        assert_eq!(
            kinds(&table),
            [
                "text",
                "int",
                "numeric",
                "timestamp",
                "bool",
                "text",
                "text"
            ]
        );
        assert_eq!(table.rows.len(), 2);
        assert_eq!(table.rows[0][0], Cell::Text("007".into()));
        assert_eq!(table.rows[1][1], Cell::Int(-3));
        assert_eq!(table.rows[1][2], Cell::Numeric(2.0));
        assert_eq!(
            table.rows[0][3],
            Cell::Timestamp("2024-03-01T00:00:00".into())
        );
        assert_eq!(
            table.rows[1][3],
            Cell::Timestamp("2024-03-02T00:30:00".into())
        );
        assert_eq!(table.rows[1][5], Cell::Text("Sha Tin, NT".into()));
        assert_eq!(table.rows[0][6], Cell::Null);
    }

    #[test]
    fn malformed_csv_is_named_where() {
        let check = |input: &[u8], expected: &str| {
            let error = parse_csv(input).unwrap_err().message;
            assert!(error.contains(expected), "{error:?} lacks {expected:?}");
        };
        check(b"a,b\n1,2\n3\n", "line 3: 1 fields where the header has 2");
        check(b"a,b\n1,\xff\n", "line 2: the text is not UTF-8");
        check(b"a,a\n1,2\n", "column 2 repeats the name \"a\"");
        check(b"a,\n1,2\n", "column 2 has no name");
        check(b"_id,b\n1,2\n", "starts with _");
        check(b"", "no columns");
    }

    #[test]
    fn json_records_keep_their_keys_in_order() {
        let table = parse_json(
            br#"{"records": [{"b": 1, "a": "x"}, {"a": "y", "c": {"k": [1]}, "b": 2.5}]}"#,
        )
        .unwrap();
        let names: Vec<_> = table.fields.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(names, ["b", "a", "c"]);
        assert_eq!(kinds(&table), ["numeric", "text", "json"]);
        assert_eq!(table.rows[0][2], Cell::Null);
        assert_eq!(
            table.rows[1][2].to_json(FieldType::Json),
            serde_json::json!({"k": [1]})
        );
        assert!(parse_json(b"[1, 2]").is_err());
        assert!(parse_json(b"{\"x\": 1}").is_err());
        assert!(parse_json(b"[{\"a\": 1},").is_err());
    }

    #[test]
    fn numbers_are_decimal_and_finite() {
        for (text, expected) in [
            ("12", Some(12.0)),
            ("-0.5", Some(-0.5)),
            ("1e3", Some(1000.0)),
            ("0.25", Some(0.25)),
            ("NaN", None),
            ("inf", None),
            ("0x10", None),
            ("0123", None),
            ("1e999", None),
            ("--1", None),
        ] {
            assert_eq!(number(text), expected, "{text}");
        }
        assert_eq!(integer("0"), Some(0));
        assert_eq!(integer("+5"), Some(5));
        assert_eq!(integer("99999999999999999999"), None);
    }
}
