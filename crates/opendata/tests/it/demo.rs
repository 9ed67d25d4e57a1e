//! The demo catalogue: every dataset validates; every sentence it quotes is the fact sheet's;
//! every number of every table is one its row's sentence states; every table ingests with its
//! types; and loading twice adds nothing, while a table whose rows went missing is ingested
//! again.

use bauhinia_opendata::datastore::table::{parse_csv, Cell, FieldType, Table};
use bauhinia_opendata::demo::{
    canonical, draft, dump_url, figures, load, load_with, record_link, DemoTable, FACT_DATASETS,
    FUNDING_DATASET, FUNDING_TABLE_NAME, PROVIDERS,
};
use bauhinia_opendata::domain::Format;
use bauhinia_opendata::OpenData;
use bauhinia_store::testing::TestDb;

const FACT_SHEET: &str = include_str!("../../../funding/data/factsheet-2026-02.zh-Hans.txt");

const NOW: i64 = 1_700_000_000;

fn fact_sheet() -> String {
    FACT_SHEET.replace("**", "")
}

fn tables() -> impl Iterator<Item = (&'static str, DemoTable)> {
    FACT_DATASETS
        .iter()
        .filter_map(|f| f.table.map(|t| (f.name, t)))
}

fn parsed(t: &DemoTable) -> Table {
    parse_csv(t.csv.as_bytes()).unwrap_or_else(|e| panic!("{}: {e:?}", t.file))
}

fn column(table: &Table, id: &str) -> Option<usize> {
    table.fields.iter().position(|f| f.id == id)
}

fn text(cell: &Cell) -> String {
    cell.to_text()
}

#[test]
fn every_source_sentence_is_in_the_fact_sheet() {
    let sheet = fact_sheet();
    for f in &FACT_DATASETS {
        assert!(sheet.contains(f.source), "{}: {}", f.name, f.source);
        let d = draft(f);
        for notes in [&d.notes.en, &d.notes.zh_hant, &d.notes.zh_hans] {
            assert!(notes.contains(f.source), "{}", f.name);
        }
    }
    let mut rows = 0;
    for (name, t) in tables() {
        let table = parsed(&t);
        let source = column(&table, "source").unwrap_or_else(|| panic!("{}: source", t.file));
        for row in &table.rows {
            let sentence = text(&row[source]);
            assert!(
                sentence.ends_with('。') && sheet.contains(&sentence),
                "{name}: {sentence}"
            );
            rows += 1;
        }
    }
    assert!(rows >= 50, "{rows} rows");
}

#[test]
fn every_number_of_every_table_is_stated_by_its_sentence() {
    let mut checked = 0;
    for (name, t) in tables() {
        let table = parsed(&t);
        let source = column(&table, "source").unwrap();
        for row in &table.rows {
            let sentence = text(&row[source]);
            let stated = figures(&sentence);
            // Every cell that is a number, whatever its column's type: none escapes the check.
            for (field, cell) in table.fields.iter().zip(row) {
                let value = text(cell);
                if let Some(number) = canonical(&value) {
                    assert!(
                        stated.contains(&number),
                        "{name} ({}): {} = {value} is not in 「{sentence}」 (it states {stated:?})",
                        t.file,
                        field.id
                    );
                    checked += 1;
                }
            }
            if let Some(q) = column(&table, "qualifier") {
                let markers: &[&str] = match text(&row[q]).as_str() {
                    "over" => &["超过", "逾"],
                    "about" => &["约"],
                    "nearly" => &["近"],
                    "" => &[""],
                    other => panic!("{name}: qualifier {other:?}"),
                };
                assert!(
                    markers.iter().any(|m| sentence.contains(m)),
                    "{name}: {sentence}"
                );
            }
        }
    }
    assert!(checked >= 100, "{checked} numbers checked");
}

#[test]
fn figures_reads_numbers_as_the_fact_sheet_writes_them() {
    let stated =
        figures("每个项目最多 1,500 万元，两亿元，约 5.1 亿元，全球二十大，八个牌照，99%人口");
    for n in [
        "1500",
        "15000000",
        "2",
        "200000000",
        "5.1",
        "510000000",
        "20",
        "8",
        "99",
    ] {
        assert!(stated.contains(n), "{n} in {stated:?}");
    }
    for n in ["1600", "150000", "51", "5100000000"] {
        assert!(!stated.contains(n), "{n} in {stated:?}");
    }
    assert_eq!(canonical("66400000000"), Some("66400000000".into()));
    assert_eq!(canonical("5.10"), Some("5.1".into()));
    assert_eq!(canonical("2025-12"), None);
    assert_eq!(canonical("over"), None);
}

/// A file, its row count, and the types the datastore infers for the columns that carry figures.
type Expected = (&'static str, usize, &'static [(&'static str, &'static str)]);

const EXPECTED: &[Expected] = &[
    ("opendata-datasets-opened.csv", 1, &[("value", "int")]),
    ("smart-lampposts-installed.csv", 1, &[("value", "int")]),
    ("smart-traffic-fund.csv", 1, &[("value", "int")]),
    (
        "digital-government-initiatives.csv",
        1,
        &[
            ("value", "int"),
            ("period_from_year", "int"),
            ("period_to_year", "int"),
        ],
    ),
    (
        "cdi-loan-applications.csv",
        2,
        &[
            ("value", "int"),
            ("period_to_year", "int"),
            ("period_to_month", "int"),
        ],
    ),
    (
        "international-rankings.csv",
        8,
        &[
            ("edition_year", "int"),
            ("regional_rank", "int"),
            ("global_rank", "int"),
            ("ranking_zh_hant", "text"),
        ],
    ),
    ("digital-government-figures.csv", 5, &[("value", "int")]),
    (
        "telecommunications-infrastructure.csv",
        3,
        &[("value", "int")],
    ),
    ("fintech-licences.csv", 4, &[("licences_issued", "int")]),
    (
        "faster-payment-system.csv",
        3,
        &[("value", "int"), ("period_to_month", "int")],
    ),
    ("innovation-stakeholders.csv", 12, &[("value", "int")]),
    (
        "startup-survey.csv",
        4,
        &[("value", "int"), ("period_to_year", "int")],
    ),
    (
        "funding-programme-results.csv",
        12,
        &[
            ("value", "int"),
            ("period_to_year", "int"),
            ("unit_en", "text"),
        ],
    ),
];

#[test]
fn every_demo_table_parses_with_its_types_and_rows() {
    assert_eq!(tables().count(), EXPECTED.len());
    for (name, t) in tables() {
        let (_, rows, types) = EXPECTED
            .iter()
            .find(|(file, _, _)| *file == t.file)
            .unwrap_or_else(|| panic!("{name}: {} has no expectation", t.file));
        let table = parsed(&t);
        assert_eq!(table.rows.len(), *rows, "{}", t.file);
        for (id, kind) in *types {
            let field = &table.fields[column(&table, id).unwrap_or_else(|| panic!("{id}"))];
            assert_eq!(field.kind.as_str(), *kind, "{} {id}", t.file);
        }
        assert_eq!(
            table.fields[column(&table, "source").unwrap()].kind,
            FieldType::Text
        );
        for texts in [t.name, t.description] {
            assert!(texts.iter().all(|s| !s.is_empty()), "{name}");
        }
    }
}

#[test]
fn every_demo_dataset_validates_and_names_a_demo_provider() {
    for f in &FACT_DATASETS {
        let resources = [record_link("http://localhost:8080", f.name)];
        let d = draft(f)
            .validate(&resources, || "id".to_owned(), 0)
            .unwrap_or_else(|e| panic!("{}: {e:?}", f.name));
        assert!(PROVIDERS.iter().any(|p| p.0 == d.organization.as_str()));
        assert!(d.name.as_str().starts_with(&format!("{}-", f.organization)));
        assert_eq!(f.table.is_none(), f.name == FUNDING_DATASET, "{}", f.name);
    }
    assert!((10..=15).contains(&FACT_DATASETS.len()));
    assert!(PROVIDERS.len() >= 12);
    assert!(PROVIDERS
        .iter()
        .any(|p| p.0 == "hk-td" && p.3 == "運輸署" && p.4 == "运输署"));
    for (i, p) in PROVIDERS.iter().enumerate() {
        assert!(PROVIDERS.iter().skip(i + 1).all(|q| q.0 != p.0), "{}", p.0);
    }
}

const FUNDING_CSV: &str = "id,cap_hkd,source\nx,15000000,\"最多 1,500 万元。\"\n";

async fn load_suite(test: &TestDb) {
    let open = OpenData::start(&test.db, "http://localhost:8080", &test.files, NOW)
        .await
        .unwrap();
    let added = load_with(&open, NOW, Some(FUNDING_CSV.as_bytes()))
        .await
        .unwrap();
    assert_eq!(added, FACT_DATASETS.len());
    assert_eq!(load(&open, NOW + 1).await.unwrap(), 0, "idempotent");
    assert_eq!(
        load_with(&open, NOW + 1, Some(FUNDING_CSV.as_bytes()))
            .await
            .unwrap(),
        0
    );

    for f in &FACT_DATASETS {
        let dataset = open.store().dataset(f.name).await.unwrap().unwrap();
        assert_eq!(dataset.resources.len(), 1, "{}", f.name);
        let resource = &dataset.resources[0];
        assert_eq!(resource.format, Format::Csv, "{}", f.name);
        assert_eq!(
            resource.url,
            dump_url("http://localhost:8080", &resource.id)
        );
        let info = open
            .datastore()
            .store()
            .info(&resource.id)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{}: no rows", f.name));
        let expected = match f.table {
            Some(t) => parsed(&t).rows.len(),
            None => {
                assert_eq!(resource.name.en, FUNDING_TABLE_NAME[0]);
                1
            }
        };
        assert_eq!(info.rows, i64::try_from(expected).unwrap(), "{}", f.name);
    }

    // Rows lost between the two writes of a start are ingested on the next.
    let rankings = open
        .store()
        .dataset("hk-itib-international-rankings")
        .await
        .unwrap()
        .unwrap();
    let id = rankings.resources[0].id.clone();
    assert!(open.datastore().store().delete(&id, "test").await.unwrap());
    assert!(open.datastore().store().info(&id).await.unwrap().is_none());
    assert_eq!(load(&open, NOW + 2).await.unwrap(), 0);
    let info = open.datastore().store().info(&id).await.unwrap().unwrap();
    assert_eq!(info.rows, 8);
}

#[tokio::test]
async fn the_demo_loads_once_with_its_tables_sqlite() {
    let test = TestDb::sqlite().await.unwrap();
    load_suite(&test).await;
    test.cleanup().await.unwrap();
}

#[tokio::test]
async fn the_demo_loads_once_with_its_tables_postgres() {
    let Some(test) = TestDb::postgres().await.unwrap() else {
        eprintln!("demo: postgres not run (DATABASE_URL unset; scripts/test always sets it)");
        return;
    };
    load_suite(&test).await;
    test.cleanup().await.unwrap();
    println!("demo: postgres passed");
}

/// `n` with grouping commas, as the fact sheet writes numbers.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

proptest::proptest! {
    #[test]
    fn figures_reads_any_grouped_number_and_its_unit(
        n in 0_u64..100_000_000_000,
        unit in 0_usize..3,
        space in proptest::bool::ANY,
    ) {
        let (mark, scale) = [("", 1_u128), ("万", 10_000), ("亿", 100_000_000)][unit];
        let gap = if space { " " } else { "" };
        let sentence = format!("共有约 {}{gap}{mark}元。", grouped(n));
        let stated = figures(&sentence);
        proptest::prop_assert!(stated.contains(&n.to_string()), "{sentence}: {stated:?}");
        let scaled = (u128::from(n) * scale).to_string();
        proptest::prop_assert!(stated.contains(&scaled), "{sentence}: {stated:?}");
        proptest::prop_assert_eq!(canonical(&n.to_string()), Some(n.to_string()));
    }

    #[test]
    fn figures_takes_any_text(text in ".{0,200}") {
        for figure in figures(&text) {
            proptest::prop_assert!(canonical(&figure).is_some(), "{figure}");
        }
    }
}
