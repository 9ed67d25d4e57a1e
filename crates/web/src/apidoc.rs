//! Turns the OpenAPI document into the rows of the API reference page, so the page and
//! `/openapi.json` can never disagree.

use serde_json::Value;

#[derive(Debug)]
pub struct Parameter {
    pub name: String,
    pub location: String,
    pub required: bool,
    pub description: String,
}

#[derive(Debug)]
pub struct ResponseRow {
    pub status: String,
    pub description: String,
    pub body: String,
}

#[derive(Debug)]
pub struct Operation {
    pub anchor: String,
    pub method: String,
    pub method_lower: String,
    pub path: String,
    pub summary: String,
    pub description: String,
    pub parameters: Vec<Parameter>,
    pub request_body: Option<String>,
    pub responses: Vec<ResponseRow>,
}

#[derive(Debug)]
pub struct SchemaView {
    pub name: String,
    pub json: String,
}

fn text(value: Option<&Value>) -> String {
    value.and_then(Value::as_str).unwrap_or("").to_owned()
}

/// The schema a body refers to, as `Name` (for `$ref`) or its inline type.
fn body_schema(content: Option<&Value>) -> String {
    let Some(content) = content.and_then(Value::as_object) else {
        return String::new();
    };
    content
        .iter()
        .map(|(media, item)| {
            let schema = item.get("schema");
            let name = schema
                .and_then(|s| s.get("$ref"))
                .and_then(Value::as_str)
                .and_then(|r| r.rsplit('/').next())
                .map(str::to_owned)
                .or_else(|| schema.and_then(|s| s.get("type")).map(|t| t.to_string()))
                .unwrap_or_default();
            format!("{media}: {name}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn operations(doc: &Value) -> Vec<Operation> {
    let mut out = Vec::new();
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return out;
    };
    for (path, item) in paths {
        let Some(item) = item.as_object() else {
            continue;
        };
        for (method, op) in item {
            let parameters = op
                .get("parameters")
                .and_then(Value::as_array)
                .map(|ps| {
                    ps.iter()
                        .map(|p| Parameter {
                            name: text(p.get("name")),
                            location: text(p.get("in")),
                            required: p.get("required").and_then(Value::as_bool).unwrap_or(false),
                            description: text(p.get("description")),
                        })
                        .collect()
                })
                .unwrap_or_default();
            let responses = op
                .get("responses")
                .and_then(Value::as_object)
                .map(|rs| {
                    rs.iter()
                        .map(|(status, r)| ResponseRow {
                            status: status.clone(),
                            description: text(r.get("description")),
                            body: body_schema(r.get("content")),
                        })
                        .collect()
                })
                .unwrap_or_default();
            let anchor: String = format!("{method}-{path}")
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() {
                        c.to_ascii_lowercase()
                    } else {
                        '-'
                    }
                })
                .collect();
            out.push(Operation {
                anchor,
                method: method.to_uppercase(),
                method_lower: method.to_lowercase(),
                path: path.clone(),
                summary: text(op.get("summary")),
                description: text(op.get("description")),
                parameters,
                request_body: op.get("requestBody").map(|b| body_schema(b.get("content"))),
                responses,
            });
        }
    }
    out
}

pub fn schemas(doc: &Value) -> Vec<SchemaView> {
    doc.pointer("/components/schemas")
        .and_then(Value::as_object)
        .map(|schemas| {
            schemas
                .iter()
                .map(|(name, schema)| SchemaView {
                    name: name.clone(),
                    json: serde_json::to_string_pretty(schema).unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default()
}
