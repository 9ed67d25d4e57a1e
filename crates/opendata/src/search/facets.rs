//! Facet counts: for each field asked, how many matching datasets carry each value. Counted
//! on the fields' columnar term ordinals, segment by segment, then merged by value.

use std::collections::BTreeMap;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::StrColumn;
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

/// The fields `facet.field` may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FacetField {
    Organization,
    Groups,
    Tags,
    ResFormat,
    LicenseId,
}

impl FacetField {
    pub const ALL: [FacetField; 5] = [
        FacetField::Organization,
        FacetField::Groups,
        FacetField::Tags,
        FacetField::ResFormat,
        FacetField::LicenseId,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            FacetField::Organization => "organization",
            FacetField::Groups => "groups",
            FacetField::Tags => "tags",
            FacetField::ResFormat => "res_format",
            FacetField::LicenseId => "license_id",
        }
    }

    pub fn parse(name: &str) -> Option<FacetField> {
        FacetField::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// Counts, per field, of each value among the matching documents.
pub struct FacetCollector {
    fields: Vec<FacetField>,
}

impl FacetCollector {
    pub fn new(fields: &[FacetField]) -> FacetCollector {
        FacetCollector {
            fields: fields.to_vec(),
        }
    }
}

pub struct SegmentFacets {
    /// Per field: its column in this segment (absent if no document has the field) and a count
    /// per term ordinal.
    columns: Vec<(Option<StrColumn>, Vec<u64>)>,
}

/// Per field asked, each value's count.
pub type Counts = Vec<BTreeMap<String, u64>>;

impl Collector for FacetCollector {
    type Fruit = Counts;
    type Child = SegmentFacets;

    fn for_segment(
        &self,
        _segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<SegmentFacets> {
        let mut columns = Vec::with_capacity(self.fields.len());
        for field in &self.fields {
            let column = reader.fast_fields().str(field.name())?;
            let terms = column.as_ref().map_or(0, |c| c.num_terms());
            columns.push((column, vec![0; terms]));
        }
        Ok(SegmentFacets { columns })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Counts>) -> tantivy::Result<Counts> {
        let mut merged: Counts = vec![BTreeMap::new(); self.fields.len()];
        for fruit in fruits {
            for (into, from) in merged.iter_mut().zip(fruit) {
                for (name, count) in from {
                    *into.entry(name).or_default() += count;
                }
            }
        }
        Ok(merged)
    }
}

impl SegmentCollector for SegmentFacets {
    type Fruit = Counts;

    fn collect(&mut self, doc: DocId, _score: Score) {
        for (column, counts) in &mut self.columns {
            let Some(column) = column else { continue };
            for ord in column.term_ords(doc) {
                if let Some(count) = usize::try_from(ord).ok().and_then(|o| counts.get_mut(o)) {
                    *count += 1;
                }
            }
        }
    }

    fn harvest(self) -> Counts {
        self.columns
            .into_iter()
            .map(|(column, counts)| {
                let mut out = BTreeMap::new();
                let Some(column) = column else { return out };
                let mut name = String::new();
                for (ord, count) in (0_u64..).zip(counts) {
                    if count > 0 && matches!(column.ord_to_str(ord, &mut name), Ok(true)) {
                        out.insert(name.clone(), count);
                    }
                }
                out
            })
            .collect()
    }
}
