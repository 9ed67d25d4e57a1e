//! Reading a consumer's consent request (JSON) into [`ConsentTerms`], every field checked and
//! every failure named by JSON Pointer, and the rules between the terms' fields. Pure.

use bauhinia_core::FieldError;
use bauhinia_identity::oidc::clients::check_uri;
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::domain::{
    CompanyId, ConsentTerms, DataLife, FetchType, Frequency, Mode, Owner, ParticipantId, ProductId,
    Purpose, PurposeCode, ResidentId, Span, TimeUnit, DATA_LIFE_VALUE_MAX, DATA_RANGE_FROM_MIN_S,
    FREQUENCY_VALUE_MAX, PRODUCTS_MAX, PROVIDERS_MAX, PURPOSE_TEXT_CHARS_MAX, RETURN_URL_LEN_MAX,
    RFC3339_UTC_RANGE_S, VALIDITY_MAX_S,
};

/// The members of a consent request.
pub const REQUEST_FIELDS: [&str; 11] = [
    "purpose",
    "products",
    "owner",
    "providers",
    "data_range",
    "frequency",
    "validity",
    "mode",
    "fetch_type",
    "data_life",
    "return_url",
];

/// Reads a consumer's consent request (JSON) into terms, checking every field and reporting
/// every failure by JSON Pointer. `consumer` is the authenticated caller; `known_products` the
/// catalogue; `now_s` the time of the request.
///
/// ```json
/// {"purpose": {"code": "102", "text": "…"}, "products": ["iads.balance"],
///  "owner": {"resident": "…"} | {"company": "…", "representative": "…"},
///  "providers": ["…"], "data_range": {"from": "RFC 3339", "to": "…"},
///  "frequency": {"unit": "DAY", "value": 4}, "validity": {"from": "…", "until": "…"},
///  "mode": "VIEW" | "STORE", "fetch_type": "ONETIME" | "PERIODIC",
///  "data_life": {"unit": "MONTH", "value": 3},
///  "return_url": "https://bank.example/consent-done"}
/// ```
///
/// `return_url` is optional: where the portal sends the owner back after approving or
/// rejecting (https, or http on localhost, 127.0.0.1 or \[::1\]; no fragment, no credentials).
pub fn parse_request(
    json: &Value,
    consumer: &ParticipantId,
    known_products: &[&str],
    now_s: i64,
) -> Result<ConsentTerms, Vec<FieldError>> {
    let mut r = Reader::default();
    let Some(object) = json.as_object() else {
        return Err(vec![FieldError::new("", "must be a JSON object")]);
    };
    for key in object
        .keys()
        .filter(|k| !REQUEST_FIELDS.contains(&k.as_str()))
    {
        r.fail(
            format!("/{}", escape(key)),
            "is not a field of a consent request",
        );
    }
    let purpose = r.purpose(json);
    let products = r.list(json, "/products", PRODUCTS_MAX, ProductId::parse);
    let owner = r.owner(json);
    let providers = r.list(json, "/providers", PROVIDERS_MAX, ParticipantId::parse);
    let data_range = r.span(json, "/data_range", "to");
    let frequency = r.amount(json, "/frequency", FREQUENCY_VALUE_MAX);
    let validity = r.span(json, "/validity", "until");
    let mode = r.word(json, "/mode", |t| match t {
        "VIEW" => Some(Mode::View),
        "STORE" => Some(Mode::Store),
        _ => None,
    });
    let fetch_type = r.word(json, "/fetch_type", |t| match t {
        "ONETIME" => Some(FetchType::Onetime),
        "PERIODIC" => Some(FetchType::Periodic),
        _ => None,
    });
    let return_url = r.return_url(json);
    let data_life = match json.pointer("/data_life") {
        None | Some(Value::Null) => Some(None),
        Some(_) => r.amount(json, "/data_life", DATA_LIFE_VALUE_MAX).map(Some),
    };
    let (
        Some(purpose),
        Some(products),
        Some(owner),
        Some(providers),
        Some(data_range),
        Some((unit, value)),
        Some(validity),
        Some(mode),
        Some(fetch_type),
        Some(data_life),
        Some(return_url),
    ) = (
        purpose, products, owner, providers, data_range, frequency, validity, mode, fetch_type,
        data_life, return_url,
    )
    else {
        return Err(r.errors);
    };
    let terms = ConsentTerms {
        purpose,
        products,
        owner,
        consumer: consumer.clone(),
        providers,
        data_range,
        frequency: Frequency { unit, value },
        validity,
        mode,
        fetch_type,
        data_life: data_life.map(|(unit, value)| DataLife { unit, value }),
        return_url,
    };
    r.errors.extend(check_terms(&terms, known_products, now_s));
    if r.errors.is_empty() {
        Ok(terms)
    } else {
        Err(r.errors)
    }
}

/// The rules between fields (and against the catalogue and the clock), for terms however made.
pub fn check_terms(terms: &ConsentTerms, known_products: &[&str], now_s: i64) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut fail = |pointer: String, detail: &str| errors.push(FieldError::new(pointer, detail));
    for (i, product) in terms.products.iter().enumerate() {
        if !known_products.contains(&product.as_str()) {
            fail(
                format!("/products/{i}"),
                "is not a data product of the catalogue",
            );
        } else if terms.products.iter().take(i).any(|p| p == product) {
            fail(format!("/products/{i}"), "is named twice");
        }
    }
    for (i, provider) in terms.providers.iter().enumerate() {
        if *provider == terms.consumer {
            fail(
                format!("/providers/{i}"),
                "the consumer cannot be its own provider",
            );
        } else if terms.providers.iter().take(i).any(|p| p == provider) {
            fail(format!("/providers/{i}"), "is named twice");
        }
    }
    if terms.data_range.from_s < DATA_RANGE_FROM_MIN_S {
        fail("/data_range/from".into(), "must not be before 1970");
    }
    if terms.data_range.from_s > terms.data_range.to_s {
        fail("/data_range/to".into(), "must not be before `from`");
    }
    let validity = terms.validity;
    if validity.from_s >= validity.to_s {
        fail("/validity/until".into(), "must be after `from`");
    } else if validity.to_s - validity.from_s > VALIDITY_MAX_S {
        fail(
            "/validity/until".into(),
            "must be at most 365 days after `from`",
        );
    } else if validity.to_s <= now_s {
        fail("/validity/until".into(), "must be in the future");
    }
    if terms.frequency.value == 0 {
        fail("/frequency/value".into(), "must be at least 1");
    }
    if terms.fetch_type == FetchType::Onetime && terms.frequency.value != 1 {
        fail("/frequency/value".into(), "must be 1 for a ONETIME consent");
    }
    match (terms.mode, terms.data_life) {
        (Mode::Store, None) => fail("/data_life".into(), "is required when `mode` is STORE"),
        (Mode::View, Some(_)) => fail("/data_life".into(), "must be absent when `mode` is VIEW"),
        (Mode::Store, Some(life)) if life.value == 0 => {
            fail("/data_life/value".into(), "must be at least 1")
        }
        _ => {}
    }
    errors
}

const ID_RULE: &str = "must be an id (1–64 of A–Z a–z 0–9 . _ : -)";

/// RFC 6901 escaping of one reference token.
fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Reads fields of a JSON document, collecting a [`FieldError`] for each that is missing or
/// wrong and returning `None` for it.
#[derive(Debug, Default)]
struct Reader {
    errors: Vec<FieldError>,
}

impl Reader {
    fn fail(&mut self, pointer: impl Into<String>, detail: &str) {
        self.errors.push(FieldError::new(pointer, detail));
    }

    fn str<'a>(&mut self, json: &'a Value, pointer: &str) -> Option<&'a str> {
        match json.pointer(pointer) {
            Some(Value::String(text)) => Some(text),
            None | Some(Value::Null) => {
                self.fail(pointer, "is required");
                None
            }
            Some(_) => {
                self.fail(pointer, "must be a string");
                None
            }
        }
    }

    /// A string `parse` accepts; `wrong` says what it must be.
    fn parsed<T>(
        &mut self,
        json: &Value,
        pointer: &str,
        parse: impl Fn(&str) -> Option<T>,
        wrong: &str,
    ) -> Option<T> {
        let text = self.str(json, pointer)?;
        let out = parse(text);
        if out.is_none() {
            self.fail(pointer, wrong);
        }
        out
    }

    fn word<T>(
        &mut self,
        json: &Value,
        pointer: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Option<T> {
        self.parsed(json, pointer, parse, "is not one of the allowed values")
    }

    fn id<T>(
        &mut self,
        json: &Value,
        pointer: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Option<T> {
        self.parsed(json, pointer, parse, ID_RULE)
    }

    /// A date-time whose instant RFC 3339 can also write in UTC: `9999-12-31T23:00:00-02:00`
    /// is in year 10000 there, which [`super::domain::rfc3339`] (and so a receipt) cannot show.
    fn time(&mut self, json: &Value, pointer: &str) -> Option<i64> {
        self.parsed(
            json,
            pointer,
            |text| {
                OffsetDateTime::parse(text, &Rfc3339)
                    .ok()
                    .map(|t| t.unix_timestamp())
                    .filter(|at_s| RFC3339_UTC_RANGE_S.contains(at_s))
            },
            "must be an RFC 3339 date-time in years 0000 to 9999 in UTC, e.g. 2026-01-31T00:00:00+08:00",
        )
    }

    fn span(&mut self, json: &Value, pointer: &str, end: &str) -> Option<Span> {
        let from = self.time(json, &format!("{pointer}/from"));
        let to = self.time(json, &format!("{pointer}/{end}"));
        Some(Span {
            from_s: from?,
            to_s: to?,
        })
    }

    fn amount(&mut self, json: &Value, pointer: &str, max: u32) -> Option<(TimeUnit, u32)> {
        let unit = self.word(json, &format!("{pointer}/unit"), TimeUnit::parse);
        let value_pointer = format!("{pointer}/value");
        let value = match json.pointer(&value_pointer) {
            Some(Value::Number(n)) => match n.as_u64().and_then(|v| u32::try_from(v).ok()) {
                Some(v) if v <= max => Some(v),
                _ => {
                    let detail = format!("must be a whole number from 1 to {max}");
                    self.errors.push(FieldError::new(value_pointer, detail));
                    None
                }
            },
            None | Some(Value::Null) => {
                self.fail(value_pointer, "is required");
                None
            }
            Some(_) => {
                self.fail(value_pointer, "must be a number");
                None
            }
        };
        Some((unit?, value?))
    }

    fn list<T>(
        &mut self,
        json: &Value,
        pointer: &str,
        max: usize,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Option<Vec<T>> {
        let Some(Value::Array(items)) = json.pointer(pointer) else {
            self.fail(pointer, "must be a list of ids");
            return None;
        };
        if items.is_empty() || items.len() > max {
            self.errors.push(FieldError::new(
                pointer,
                format!("must name 1 to {max} ids"),
            ));
            return None;
        }
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            match item.as_str().and_then(&parse) {
                Some(value) => out.push(value),
                None => self.fail(format!("{pointer}/{i}"), ID_RULE),
            }
        }
        (out.len() == items.len()).then_some(out)
    }

    fn purpose(&mut self, json: &Value) -> Option<Purpose> {
        let code = self.word(json, "/purpose/code", PurposeCode::parse);
        let text = self.str(json, "/purpose/text").and_then(|text| {
            let count = text.trim().chars().count();
            if count == 0 || count > PURPOSE_TEXT_CHARS_MAX {
                self.fail("/purpose/text", "must be 1 to 500 characters");
                return None;
            }
            Some(text.trim().to_owned())
        });
        Some(Purpose {
            code: code?,
            text: text?,
        })
    }

    /// The optional return URL: `Some(None)` when absent, `None` when wrong.
    fn return_url(&mut self, json: &Value) -> Option<Option<String>> {
        const POINTER: &str = "/return_url";
        match json.pointer(POINTER) {
            None | Some(Value::Null) => Some(None),
            Some(Value::String(text)) if text.len() > RETURN_URL_LEN_MAX => {
                self.fail(POINTER, "must be at most 2048 bytes");
                None
            }
            Some(Value::String(text)) => match check_uri(text) {
                // The limit holds for the URL as kept, too: parsing percent-encodes, so a
                // non-ASCII character's 2 bytes become 6.
                Ok(url) if url.as_str().len() > RETURN_URL_LEN_MAX => {
                    self.fail(POINTER, "must be at most 2048 bytes once percent-encoded");
                    None
                }
                Ok(url) => Some(Some(url.to_string())),
                Err(why) => {
                    self.fail(POINTER, why);
                    None
                }
            },
            Some(_) => {
                self.fail(POINTER, "must be a string");
                None
            }
        }
    }

    fn owner(&mut self, json: &Value) -> Option<Owner> {
        match json.pointer("/owner") {
            Some(Value::Object(o)) if o.contains_key("resident") && o.len() == 1 => self
                .id(json, "/owner/resident", ResidentId::parse)
                .map(Owner::Resident),
            Some(Value::Object(o))
                if o.len() == 2
                    && o.contains_key("company")
                    && o.contains_key("representative") =>
            {
                let company = self.id(json, "/owner/company", CompanyId::parse);
                let representative = self.id(json, "/owner/representative", ResidentId::parse);
                Some(Owner::Company {
                    company: company?,
                    representative: representative?,
                })
            }
            _ => {
                self.fail(
                    "/owner",
                    "must be {\"resident\": id} or {\"company\": id, \"representative\": id}",
                );
                None
            }
        }
    }
}
