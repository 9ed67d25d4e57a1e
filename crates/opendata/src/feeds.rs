//! The catalogue for harvesters and feed readers: a DCAT catalogue in JSON-LD (W3C DCAT 3 with
//! DCAT-AP's vocabularies, as ckanext-dcat publishes one, paged with Hydra), and an Atom feed of
//! the latest changed datasets (CKAN's `/feeds/dataset.atom`). Shapes only: the datasets are
//! given, public and active.

use serde_json::{json, Value};

use crate::domain::quality::{self, Quality};
use crate::domain::{Dataset, Frequency, Licence, Organization};

/// Datasets on one page of the catalogue.
pub const CATALOG_PAGE_SIZE: u32 = 100;
/// Entries in the change feed.
pub const FEED_ENTRIES: u32 = 50;

const CONTEXT: &str = r#"{
  "dcat": "http://www.w3.org/ns/dcat#",
  "dct": "http://purl.org/dc/terms/",
  "foaf": "http://xmlns.com/foaf/0.1/",
  "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
  "xsd": "http://www.w3.org/2001/XMLSchema#",
  "hydra": "http://www.w3.org/ns/hydra/core#",
  "dqv": "http://www.w3.org/ns/dqv#"
}"#;

/// A dataset with its provider, as the exports need it.
#[derive(Debug)]
pub struct Entry<'a> {
    pub dataset: &'a Dataset,
    pub organization: &'a Organization,
}

pub fn entries(datasets: &[(Dataset, Organization)]) -> Vec<Entry<'_>> {
    datasets
        .iter()
        .map(|(dataset, organization)| Entry {
            dataset,
            organization,
        })
        .collect()
}

pub fn dataset_uri(site: &str, dataset: &Dataset) -> String {
    format!("{site}/opendata/dataset/{}", dataset.name.as_str())
}

fn organization_uri(site: &str, organization: &Organization) -> String {
    format!(
        "{site}/opendata?organization={}",
        organization.name.as_str()
    )
}

fn texts(text: &bauhinia_core::Localized) -> Value {
    json!([
        {"@value": text.en, "@language": "en"},
        {"@value": text.zh_hant, "@language": "zh-Hant"},
        {"@value": text.zh_hans, "@language": "zh-Hans"},
    ])
}

fn date_time(at_s: i64) -> Value {
    let text = time::OffsetDateTime::from_unix_timestamp(at_s)
        .ok()
        .and_then(|at| {
            at.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default();
    json!({"@value": text, "@type": "xsd:dateTime"})
}

/// The EU Publications Office's frequency vocabulary, which DCAT-AP names.
fn frequency_uri(frequency: Frequency) -> String {
    let code = match frequency {
        Frequency::Realtime => "UPDATE_CONT",
        Frequency::Hourly => "HOURLY",
        Frequency::Daily => "DAILY",
        Frequency::Weekly => "WEEKLY",
        Frequency::Monthly => "MONTHLY",
        Frequency::Quarterly => "QUARTERLY",
        Frequency::HalfYearly => "ANNUAL_2",
        Frequency::Yearly => "ANNUAL",
        Frequency::Irregular => "IRREG",
        Frequency::NotUpdated => "NEVER",
    };
    format!("http://publications.europa.eu/resource/authority/frequency/{code}")
}

fn licence(licence: Licence) -> Value {
    match licence.url() {
        "" => json!({"@type": "dct:LicenseDocument", "rdfs:label": licence.title()}),
        url => json!({"@id": url, "@type": "dct:LicenseDocument", "rdfs:label": licence.title()}),
    }
}

fn quality_measurements(quality: &Quality, uri: &str) -> Value {
    let mut measurements: Vec<Value> = quality
        .checks
        .iter()
        .filter_map(|check| {
            check.passed.map(|passed| {
                json!({
                    "@type": "dqv:QualityMeasurement",
                    "dqv:isMeasurementOf": {"@id": format!("{uri}#quality-{}", check.criterion.as_str())},
                    "dqv:value": {"@value": passed, "@type": "xsd:boolean"},
                })
            })
        })
        .collect();
    measurements.push(json!({
        "@type": "dqv:QualityMeasurement",
        "dqv:isMeasurementOf": {"@id": format!("{uri}#quality-score")},
        "dqv:value": {"@value": quality.score(), "@type": "xsd:double"},
    }));
    Value::Array(measurements)
}

fn dataset_node(site: &str, entry: &Entry<'_>, now_s: i64) -> Value {
    let d = entry.dataset;
    let uri = dataset_uri(site, d);
    let distributions: Vec<Value> = d
        .resources
        .iter()
        .map(|r| {
            let mut node = json!({
                "@id": format!("{uri}#resource-{}", r.id),
                "@type": "dcat:Distribution",
                "dct:identifier": r.id,
                "dct:title": texts(&r.name),
                "dct:description": texts(&r.description),
                "dcat:accessURL": {"@id": r.url},
                "dct:format": r.format.as_str(),
                "dct:modified": date_time(r.modified_s),
            });
            if let Value::Object(map) = &mut node {
                if let Some(media) = r.format.mimetype() {
                    map.insert("dcat:mediaType".into(), json!(media));
                }
                if let Some(size) = r.size_bytes {
                    map.insert(
                        "dcat:byteSize".into(),
                        json!({"@value": size.to_string(), "@type": "xsd:nonNegativeInteger"}),
                    );
                }
            }
            node
        })
        .collect();
    let mut node = json!({
        "@id": uri,
        "@type": "dcat:Dataset",
        "dct:identifier": d.id,
        "dct:title": texts(&d.title),
        "dct:description": texts(&d.notes),
        "dcat:keyword": d.tags.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
        "dct:publisher": {"@id": organization_uri(site, entry.organization)},
        "dcat:theme": d.groups.iter().map(|g| json!({"@id": format!("{site}/opendata?groups={}", g.as_str())})).collect::<Vec<_>>(),
        "dct:license": licence(d.licence),
        "dct:accrualPeriodicity": {"@id": frequency_uri(d.frequency)},
        "dct:issued": date_time(d.created_s),
        "dct:modified": date_time(d.modified_s),
        "dcat:landingPage": {"@id": uri},
        "dcat:distribution": distributions,
        "dqv:hasQualityMeasurement": quality_measurements(&quality::assess(d, now_s), &uri),
    });
    if let Value::Object(map) = &mut node {
        if let Some(t) = d.temporal {
            let mut period = json!({
                "@type": "dct:PeriodOfTime",
                "dcat:startDate": {"@value": t.from.to_string(), "@type": "xsd:date"},
            });
            if let (Some(to), Value::Object(p)) = (t.to, &mut period) {
                p.insert(
                    "dcat:endDate".into(),
                    json!({"@value": to.to_string(), "@type": "xsd:date"}),
                );
            }
            map.insert("dct:temporal".into(), period);
        }
        if !d.spatial.trim().is_empty() {
            map.insert(
                "dct:spatial".into(),
                json!({"@type": "dct:Location", "rdfs:label": d.spatial}),
            );
        }
    }
    node
}

/// One page (1-based) of the DCAT catalogue. `total` is the number of public datasets.
pub fn catalog(site: &str, entries: &[Entry<'_>], page: u32, total: i64, now_s: i64) -> Value {
    let catalog_uri = format!("{site}/catalog.jsonld");
    let last = u32::try_from(
        (total.max(1) + i64::from(CATALOG_PAGE_SIZE) - 1) / i64::from(CATALOG_PAGE_SIZE),
    )
    .unwrap_or(u32::MAX);
    let page_uri = |n: u32| format!("{catalog_uri}?page={n}");
    let mut graph = vec![json!({
        "@id": catalog_uri,
        "@type": "dcat:Catalog",
        "dct:title": texts(&bauhinia_core::Localized {
            en: "Bauhinia open data catalogue".into(),
            zh_hant: "洋紫荊開放數據目錄".into(),
            zh_hans: "洋紫荆开放数据目录".into(),
        }),
        "dct:description": texts(&bauhinia_core::Localized {
            en: "Datasets opened by government departments, public bodies and other organisations.".into(),
            zh_hant: "政府部門、公營機構及其他機構開放的數據集。".into(),
            zh_hans: "政府部门、公营机构及其他机构开放的数据集。".into(),
        }),
        "foaf:homepage": {"@id": format!("{site}/opendata")},
        "dct:language": ["en", "zh-Hant", "zh-Hans"],
        "dcat:dataset": entries.iter().map(|e| json!({"@id": dataset_uri(site, e.dataset)})).collect::<Vec<_>>(),
    })];
    let mut publishers: Vec<&Organization> = Vec::new();
    for entry in entries {
        graph.push(dataset_node(site, entry, now_s));
        if !publishers.iter().any(|o| o.id == entry.organization.id) {
            publishers.push(entry.organization);
        }
    }
    for o in publishers {
        graph.push(json!({
            "@id": organization_uri(site, o),
            "@type": "foaf:Organization",
            "foaf:name": texts(&o.title),
        }));
    }
    let mut paging = json!({
        "@id": page_uri(page),
        "@type": "hydra:PagedCollection",
        "hydra:totalItems": total,
        "hydra:itemsPerPage": CATALOG_PAGE_SIZE,
        "hydra:firstPage": page_uri(1),
        "hydra:lastPage": page_uri(last),
    });
    if let Value::Object(map) = &mut paging {
        if page < last {
            map.insert("hydra:nextPage".into(), json!(page_uri(page + 1)));
        }
        if page > 1 {
            map.insert("hydra:previousPage".into(), json!(page_uri(page - 1)));
        }
    }
    graph.push(paging);
    let context: Value = serde_json::from_str(CONTEXT).unwrap_or(Value::Null);
    json!({"@context": context, "@graph": graph})
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 forbids most control characters, even escaped.
            c if c.is_control() && !matches!(c, '\n' | '\r' | '\t') => {}
            c => out.push(c),
        }
    }
    out
}

fn rfc3339(at_s: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(at_s)
        .ok()
        .and_then(|at| {
            at.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_owned())
}

/// An Atom 1.0 feed (RFC 4287) of the latest changed datasets, most recent first, in English
/// with the Chinese titles in each entry's summary.
pub fn atom(site: &str, entries: &[Entry<'_>]) -> String {
    let updated = entries
        .iter()
        .map(|e| e.dataset.modified_s)
        .max()
        .unwrap_or(0);
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    xml.push_str("<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"en\">\n");
    xml.push_str("  <title>Bauhinia open data: recently changed datasets</title>\n");
    xml.push_str(&format!("  <id>{}/feeds/dataset.atom</id>\n", escape(site)));
    xml.push_str(&format!(
        "  <link rel=\"self\" type=\"application/atom+xml\" href=\"{}/feeds/dataset.atom\"/>\n",
        escape(site)
    ));
    xml.push_str(&format!(
        "  <link rel=\"alternate\" type=\"text/html\" href=\"{}/opendata\"/>\n",
        escape(site)
    ));
    xml.push_str(&format!("  <updated>{}</updated>\n", rfc3339(updated)));
    xml.push_str("  <generator>Bauhinia</generator>\n");
    for entry in entries {
        let d = entry.dataset;
        let uri = dataset_uri(site, d);
        xml.push_str("  <entry>\n");
        xml.push_str(&format!("    <id>urn:uuid:{}</id>\n", escape(&d.id)));
        xml.push_str(&format!("    <title>{}</title>\n", escape(&d.title.en)));
        xml.push_str(&format!(
            "    <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n",
            escape(&uri)
        ));
        xml.push_str(&format!(
            "    <link rel=\"enclosure\" type=\"application/json\" href=\"{}/api/3/action/package_show?id={}\"/>\n",
            escape(site),
            escape(d.name.as_str())
        ));
        xml.push_str(&format!(
            "    <updated>{}</updated>\n",
            rfc3339(d.modified_s)
        ));
        xml.push_str(&format!(
            "    <published>{}</published>\n",
            rfc3339(d.created_s)
        ));
        xml.push_str(&format!(
            "    <author><name>{}</name></author>\n",
            escape(&entry.organization.title.en)
        ));
        for group in &d.groups {
            xml.push_str(&format!(
                "    <category term=\"{}\"/>\n",
                escape(group.as_str())
            ));
        }
        xml.push_str(&format!(
            "    <summary>{} · {} · {}</summary>\n",
            escape(&d.title.zh_hant),
            escape(&d.title.zh_hans),
            escape(&d.notes.en)
        ));
        xml.push_str("  </entry>\n");
    }
    xml.push_str("</feed>\n");
    xml
}
