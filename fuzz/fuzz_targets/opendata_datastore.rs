//! The datastore's readers of outside input on arbitrary bytes: the first byte says which —
//! a CSV file, a JSON file, or `datastore_search`'s parameters (a GET's query string or a
//! POST's body) checked against a data dictionary. Whatever the input, nothing panics; a
//! parsed table is rectangular with every cell of its column's type; a plan never reads more
//! than the row cap and names only the dictionary's fields.
#![no_main]

use bauhinia_opendata::action::Params;
use bauhinia_opendata::datastore::query::{Column, SearchArgs, LIMIT_MAX};
use bauhinia_opendata::datastore::table::{self, Cell, Field, FieldType, Table};
use libfuzzer_sys::fuzz_target;

fn check_table(table: &Table) {
    assert!(!table.fields.is_empty() && table.fields.len() <= table::FIELDS_MAX);
    for row in &table.rows {
        assert_eq!(row.len(), table.fields.len());
        for (field, cell) in table.fields.iter().zip(row) {
            let fits = match (field.kind, cell) {
                (_, Cell::Null) => true,
                (FieldType::Int, Cell::Int(_)) => true,
                (FieldType::Numeric, Cell::Numeric(x)) => x.is_finite(),
                (FieldType::Timestamp, Cell::Timestamp(_)) => true,
                (FieldType::Bool, Cell::Bool(_)) => true,
                (FieldType::Text | FieldType::Json, Cell::Text(_)) => true,
                _ => false,
            };
            assert!(fits, "{:?} in a {} column", cell, field.kind.as_str());
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((first, rest)) = data.split_first() else {
        return;
    };
    match first % 4 {
        0 => {
            if let Ok(table) = table::parse_csv(rest) {
                check_table(&table);
            }
        }
        1 => {
            if let Ok(table) = table::parse_json(rest) {
                check_table(&table);
            }
        }
        choice => {
            let params = if choice == 2 {
                Params::from_query(&String::from_utf8_lossy(rest))
            } else {
                match Params::from_json(rest) {
                    Ok(params) => params,
                    Err(_) => return,
                }
            };
            let dictionary = [
                Field {
                    id: "district".into(),
                    kind: FieldType::Text,
                },
                Field {
                    id: "count".into(),
                    kind: FieldType::Int,
                },
                Field {
                    id: "at".into(),
                    kind: FieldType::Timestamp,
                },
            ];
            match SearchArgs::parse(&params) {
                Err(faults) => assert!(faults.iter().all(|f| f.pointer.starts_with('/'))),
                Ok(args) => {
                    assert!(args.limit <= LIMIT_MAX);
                    if let Ok(plan) = args.plan(&dictionary) {
                        let known = |c: &Column| match c {
                            Column::RowId => true,
                            Column::Field(i) => *i < dictionary.len(),
                        };
                        assert!(plan.columns.iter().all(known));
                        assert!(plan.sort.iter().all(|(c, _)| known(c)));
                        assert!(plan.filters.iter().all(|(c, _)| known(c)));
                    }
                }
            }
        }
    }
});
