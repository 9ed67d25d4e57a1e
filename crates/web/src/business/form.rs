//! Reading the business pages' forms: a bounded list of fields from the urlencoded body, and
//! the delegation's dates as the page asks for them (calendar days in Hong Kong Time) turned
//! into the directory's instants. Every fault is named by the same JSON Pointer the JSON API
//! uses, so one table turns it into the page's words.

use bauhinia_corpid::domain::{parse_date, FieldFault};

/// Pairs read from a form body at most: the longest form (a licence) has nine.
pub const FORM_PAIRS_MAX: usize = 16;
/// Characters kept of one value: more than any field accepts, so a longer value is refused by
/// the field's own rule, yet a huge body is not copied into the page that answers it.
pub const VALUE_CHARS_MAX: usize = 400;

const HKT: time::UtcOffset = time::macros::offset!(+8);

/// A form's fields in the order sent; the first of a repeated name wins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fields(Vec<(String, String)>);

impl Fields {
    pub fn parse(body: &[u8]) -> Fields {
        Fields(
            form_urlencoded::parse(body)
                .take(FORM_PAIRS_MAX)
                .map(|(k, v)| (k.into_owned(), v.chars().take(VALUE_CHARS_MAX).collect()))
                .collect(),
        )
    }

    /// The value of `name`; empty when absent.
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// The fields that may be shown again in the form after a refusal: never the anti-forgery
    /// token, never an HKID (looked up and dropped, not echoed).
    pub fn refillable(self) -> Fields {
        Fields(
            self.0
                .into_iter()
                .filter(|(k, _)| k != "csrf" && k != "hkid")
                .collect(),
        )
    }
}

/// Midnight at the start of `date` in Hong Kong, as Unix seconds.
fn hk_midnight(date: time::Date) -> i64 {
    date.midnight().assume_offset(HKT).unix_timestamp()
}

/// A delegation's first and last days (`YYYY-MM-DD`, Hong Kong Time) as the instants it runs
/// between: from the first day's start until the end of the last day. The rules on the
/// period itself (after the start, in the future, at most three years) are the directory's.
pub fn delegation_span(first: &str, last: &str) -> Result<(i64, i64), Vec<FieldFault>> {
    let mut faults = Vec::new();
    let from = parse_date(first).map(hk_midnight);
    if from.is_none() {
        faults.push(FieldFault::new("/valid_from", "a date, YYYY-MM-DD"));
    }
    let until = parse_date(last).and_then(|d| d.next_day()).map(hk_midnight);
    if until.is_none() {
        faults.push(FieldFault::new("/valid_until", "a date, YYYY-MM-DD"));
    }
    match (from, until) {
        (Some(from), Some(until)) => Ok((from, until)),
        _ => Err(faults),
    }
}

/// The last day a delegation ending at `until_s` covers, `YYYY-MM-DD` in Hong Kong Time (the
/// day before the instant it stops).
pub fn last_day(until_s: i64) -> String {
    crate::exchange::views::shown_date(until_s.saturating_sub(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_delegation_runs_from_the_first_days_start_to_the_last_days_end() {
        let (from, until) = delegation_span("2027-01-01", "2027-01-31").expect("dates");
        // 2027-01-01T00:00+08:00 and 2027-02-01T00:00+08:00.
        assert_eq!(from, 1_798_732_800);
        assert_eq!(until, 1_801_411_200);
        assert_eq!(last_day(until), "2027-01-31");
        let fields = |r: Result<(i64, i64), Vec<FieldFault>>| {
            r.expect_err("refused")
                .into_iter()
                .map(|f| f.field)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            fields(delegation_span("", "2027-02-30")),
            ["/valid_from", "/valid_until"]
        );
        assert_eq!(
            fields(delegation_span("2027-01-01", "9999-12-31")),
            ["/valid_until"]
        );
    }

    #[test]
    fn fields_keep_the_first_value_and_drop_what_must_not_be_echoed() {
        let fields = Fields::parse(b"csrf=t&hkid=A123456%283%29&role=user&role=administrator");
        assert_eq!(fields.get("role"), "user");
        assert_eq!(fields.get("hkid"), "A123456(3)");
        assert_eq!(fields.get("absent"), "");
        let kept = fields.refillable();
        assert_eq!((kept.get("csrf"), kept.get("hkid")), ("", ""));
        assert_eq!(kept.get("role"), "user");
        let long = format!("number={}", "9".repeat(VALUE_CHARS_MAX * 2));
        assert_eq!(
            Fields::parse(long.as_bytes()).get("number").len(),
            VALUE_CHARS_MAX
        );
        let many: String = (0..100).map(|i| format!("k{i}=v&")).collect();
        assert_eq!(Fields::parse(many.as_bytes()).0.len(), FORM_PAIRS_MAX);
    }

    proptest! {
        #[test]
        fn any_body_is_read_within_bounds(body in proptest::collection::vec(any::<u8>(), 0..2_000)) {
            let fields = Fields::parse(&body);
            prop_assert!(fields.0.len() <= FORM_PAIRS_MAX);
            prop_assert!(fields.0.iter().all(|(_, v)| v.chars().count() <= VALUE_CHARS_MAX));
            let kept = fields.refillable();
            prop_assert_eq!(kept.get("hkid"), "");
            prop_assert_eq!(kept.get("csrf"), "");
        }

        #[test]
        fn any_dates_are_read_or_named_and_a_span_is_ordered_by_its_days(
            first in "\\PC{0,12}|[0-9]{4}-[0-9]{2}-[0-9]{2}",
            last in "\\PC{0,12}|[0-9]{4}-[0-9]{2}-[0-9]{2}",
        ) {
            match delegation_span(&first, &last) {
                Ok((from, until)) => {
                    let (a, b) = (parse_date(&first), parse_date(&last));
                    prop_assert!(a.is_some() && b.is_some());
                    // The span holds the last day whole: it ends a day after that day starts.
                    prop_assert_eq!(until - from > 0, b >= a);
                    prop_assert_eq!(last_day(until), last.trim().to_owned());
                }
                Err(faults) => {
                    prop_assert!(!faults.is_empty());
                    prop_assert!(faults.iter().all(|f| f.field == "/valid_from" || f.field == "/valid_until"));
                }
            }
        }
    }
}
