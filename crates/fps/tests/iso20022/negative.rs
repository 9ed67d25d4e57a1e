//! Malformed documents and the exact error each one gets. Each case edits the pacs.008 sample
//! (or another sample) by replacing text that must be present, so a case cannot pass on a
//! stale fixture.

use bauhinia_fps::iso20022::{self as iso, Iso20022Error as E};

use crate::{TestResult, SAMPLES};

const TX: &str = "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[1]";
const HEADER: &str = "/Document/FIToFICstmrCdtTrf/GrpHdr";

fn base() -> Result<String, String> {
    let (_, bytes) = SAMPLES.first().ok_or("no samples")?;
    String::from_utf8(bytes.to_vec()).map_err(|e| e.to_string())
}

/// The pacs.008 sample with each `(from, to)` replacement made once; `from` must occur.
fn edited(edits: &[(&str, &str)]) -> Result<Vec<u8>, String> {
    let mut text = base()?;
    for (from, to) in edits {
        if !text.contains(from) {
            return Err(format!("the sample has no {from:?}"));
        }
        text = text.replacen(from, to, 1);
    }
    Ok(text.into_bytes())
}

/// The sample cut at the end of the first occurrence of `at`.
fn truncated_after(at: &str) -> Result<Vec<u8>, String> {
    let text = base()?;
    let end = text.find(at).ok_or(format!("the sample has no {at:?}"))? + at.len();
    Ok(text.as_bytes().get(..end).ok_or("cut")?.to_vec())
}

fn invalid(path: &str, value: &str, reason: &str) -> E {
    E::InvalidValue {
        path: path.to_owned(),
        value: value.to_owned(),
        reason: reason.to_owned(),
    }
}

fn missing(path: &str) -> E {
    E::MissingElement {
        path: path.to_owned(),
    }
}

fn unexpected(path: &str, found: &str, expected: &str) -> E {
    E::UnexpectedElement {
        path: path.to_owned(),
        found: found.to_owned(),
        expected: expected.to_owned(),
    }
}

/// A case: its name, the document, and the error it must get.
type Case = (&'static str, Vec<u8>, E);

fn cases() -> Result<Vec<Case>, String> {
    let e2e = "<EndToEndId>E2E-20260301-0001</EndToEndId>";
    let amount = "<IntrBkSttlmAmt Ccy=\"HKD\">1234.50</IntrBkSttlmAmt>";
    let cdtr = "<Cdtr><Nm>CHAN T*** M***</Nm></Cdtr>";
    let cdtr_agt =
        "<CdtrAgt><FinInstnId><ClrSysMmbId><MmbId>012</MmbId></ClrSysMmbId></FinInstnId></CdtrAgt>";
    let decl = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    let amt = |text: &str| format!("<IntrBkSttlmAmt Ccy=\"HKD\">{text}</IntrBkSttlmAmt>");
    let amount_path = format!("{TX}/IntrBkSttlmAmt");
    Ok(vec![
        ("missing EndToEndId", edited(&[(e2e, "")])?, missing(&format!("{TX}/PmtId/EndToEndId"))),
        ("missing Dbtr", edited(&[("<Dbtr><Nm>陳大文</Nm></Dbtr>", "")])?, missing(&format!("{TX}/Dbtr"))),
        (
            "no transaction",
            {
                let text = base()?;
                let start = text.find("<CdtTrfTxInf>").ok_or("start")?;
                let end = text.find("</CdtTrfTxInf>").ok_or("end")? + "</CdtTrfTxInf>".len();
                let mut bytes = text.into_bytes();
                bytes.drain(start..end);
                bytes
            },
            missing("/Document/FIToFICstmrCdtTrf/CdtTrfTxInf"),
        ),
        (
            "wrong namespace",
            edited(&[("pacs.008.001.08\"", "pacs.008.001.02\"")])?,
            E::WrongNamespace {
                path: "/Document".to_owned(),
                expected: iso::PACS_008_NAMESPACE.to_owned(),
                found: "urn:iso:std:iso:20022:tech:xsd:pacs.008.001.02".to_owned(),
            },
        ),
        (
            "no namespace",
            edited(&[(" xmlns=\"urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08\"", "")])?,
            E::WrongNamespace {
                path: "/Document".to_owned(),
                expected: iso::PACS_008_NAMESPACE.to_owned(),
                found: String::new(),
            },
        ),
        (
            "an element of another namespace",
            edited(&[("<NbOfTxs>", "<x:Foo xmlns:x=\"urn:other\"/><NbOfTxs>")])?,
            E::WrongNamespace {
                path: format!("{HEADER}/Foo"),
                expected: "the document's namespace".to_owned(),
                found: "urn:other".to_owned(),
            },
        ),
        (
            "three decimals",
            edited(&[(amount, &amt("1234.505"))])?,
            invalid(&amount_path, "1234.505", "HKD and CNY amounts have at most 2 decimal places"),
        ),
        (
            "negative amount",
            edited(&[(amount, &amt("-1.00"))])?,
            invalid(&amount_path, "-1.00", "an amount must not be negative"),
        ),
        (
            "exponent",
            edited(&[(amount, &amt("1.2E3"))])?,
            invalid(&amount_path, "1.2E3", "not a decimal number"),
        ),
        (
            "too many digits",
            edited(&[(amount, &amt("12345678901234567"))])?,
            invalid(&amount_path, "12345678901234567", "an amount is at most 9999999999999999.99"),
        ),
        (
            "currency FPS does not settle",
            edited(&[(amount, "<IntrBkSttlmAmt Ccy=\"USD\">1.00</IntrBkSttlmAmt>")])?,
            invalid(&format!("{amount_path}/@Ccy"), "USD", "FPS settles HKD and CNY only"),
        ),
        (
            "not a currency code",
            edited(&[(amount, "<IntrBkSttlmAmt Ccy=\"hkd\">1.00</IntrBkSttlmAmt>")])?,
            invalid(
                &format!("{amount_path}/@Ccy"),
                "hkd",
                "a currency code is three capital letters (ISO 4217)",
            ),
        ),
        (
            "no currency",
            edited(&[(amount, "<IntrBkSttlmAmt>1.00</IntrBkSttlmAmt>")])?,
            E::MissingAttribute {
                path: amount_path.clone(),
                name: "Ccy".to_owned(),
            },
        ),
        (
            "NbOfTxs does not match",
            edited(&[("<NbOfTxs>1</NbOfTxs>", "<NbOfTxs>2</NbOfTxs>")])?,
            invalid(&format!("{HEADER}/NbOfTxs"), "2", "the message carries 1 transaction(s)"),
        ),
        (
            "NbOfTxs not numeric",
            edited(&[("<NbOfTxs>1</NbOfTxs>", "<NbOfTxs>one</NbOfTxs>")])?,
            invalid(&format!("{HEADER}/NbOfTxs"), "one", "must be 1 to 15 digits"),
        ),
        (
            "settlement not by clearing",
            edited(&[("<SttlmMtd>CLRG</SttlmMtd>", "<SttlmMtd>INDA</SttlmMtd>")])?,
            invalid(&format!("{HEADER}/SttlmInf/SttlmMtd"), "INDA", "FPS settles by clearing: CLRG"),
        ),
        (
            "participant code of 2 digits",
            edited(&[("<MmbId>012</MmbId>", "<MmbId>12</MmbId>")])?,
            invalid(
                &format!("{TX}/CdtrAgt/FinInstnId/ClrSysMmbId/MmbId"),
                "12",
                "an FPS participant code is 3 digits",
            ),
        ),
        (
            "another clearing system",
            edited(&[("<Cd>HKNCC</Cd>", "<Cd>USABA</Cd>")])?,
            invalid(
                &format!("{TX}/DbtrAgt/FinInstnId/ClrSysMmbId/ClrSysId/Cd"),
                "USABA",
                "FPS participants are members of Cd HKNCC",
            ),
        ),
        (
            "Max35Text too long",
            edited(&[(e2e, &format!("<EndToEndId>{}</EndToEndId>", "X".repeat(36)))])?,
            invalid(
                &format!("{TX}/PmtId/EndToEndId"),
                &"X".repeat(36),
                "has 36 characters; Max35Text allows 35",
            ),
        ),
        (
            "empty text",
            edited(&[(e2e, "<EndToEndId></EndToEndId>")])?,
            invalid(&format!("{TX}/PmtId/EndToEndId"), "", "must not be empty"),
        ),
        (
            "no such date",
            edited(&[("2026-03-01T10:15:30.123+08:00", "2026-02-30T10:15:30+08:00")])?,
            invalid(&format!("{HEADER}/CreDtTm"), "2026-02-30T10:15:30+08:00", "no such date"),
        ),
        (
            "time zone too far",
            edited(&[("2026-03-01T10:15:30.123+08:00", "2026-03-01T10:15:30+15:00")])?,
            invalid(
                &format!("{HEADER}/CreDtTm"),
                "2026-03-01T10:15:30+15:00",
                "a time zone is at most 14 hours from UTC",
            ),
        ),
        (
            "element out of order",
            edited(&[(cdtr_agt, cdtr), (&format!("{cdtr}\n      <CdtrAcct>"), &format!("{cdtr_agt}\n      <CdtrAcct>"))])?,
            unexpected(TX, "Cdtr", "CdtrAgt"),
        ),
        (
            "element outside the profile",
            edited(&[("<Dbtr>", "<UltmtDbtr><Nm>X</Nm></UltmtDbtr><Dbtr>")])?,
            unexpected(TX, "UltmtDbtr", "InstgAgt, InstdAgt or Dbtr"),
        ),
        (
            "duplicate MsgId",
            edited(&[("<MsgId>", "<MsgId>A</MsgId><MsgId>")])?,
            E::DuplicateElement {
                path: format!("{HEADER}/MsgId"),
            },
        ),
        (
            "two elements of a choice",
            edited(&[("<Tp><Cd>MBNO</Cd></Tp>", "<Tp><Cd>MBNO</Cd><Prtry>X</Prtry></Tp>")])?,
            unexpected(&format!("{TX}/CdtrAcct/Prxy/Tp"), "Prtry", "the end of Tp"),
        ),
        (
            "unknown proxy type",
            edited(&[("<Tp><Cd>MBNO</Cd></Tp>", "<Tp><Cd>TELE</Cd></Tp>")])?,
            invalid(
                &format!("{TX}/CdtrAcct/Prxy/Tp"),
                "TELE",
                "an FPS proxy type is Cd MBNO, EMAL or NIDN, or Prtry FPSID",
            ),
        ),
        (
            "unknown charge bearer",
            edited(&[("<ChrgBr>SLEV</ChrgBr>", "<ChrgBr>BOTH</ChrgBr>")])?,
            invalid(&format!("{TX}/ChrgBr"), "BOTH", "a charge bearer is one of DEBT, CRED, SHAR, SLEV"),
        ),
        (
            "attribute on a plain element",
            edited(&[("<MsgId>", "<MsgId foo=\"1\">")])?,
            E::UnexpectedAttribute {
                path: format!("{HEADER}/MsgId"),
                name: "foo".to_owned(),
            },
        ),
        (
            "text inside a complex element",
            edited(&[("<PmtId>", "<PmtId>oops")])?,
            E::UnexpectedText {
                path: format!("{TX}/PmtId"),
            },
        ),
        (
            "element inside a simple one",
            edited(&[("<TxId>FPS2026030100000001</TxId>", "<TxId><B>x</B></TxId>")])?,
            unexpected(&format!("{TX}/PmtId/TxId"), "B", "text only"),
        ),
        (
            "root not Document",
            edited(&[("<Document ", "<Doc "), ("</Document>", "</Doc>")])?,
            unexpected("/", "Doc", "Document"),
        ),
        (
            "DTD",
            edited(&[(decl, &format!("{decl}<!DOCTYPE Document [<!ENTITY x \"y\">]>\n"))])?,
            E::DtdRefused { line: 2, column: 1 },
        ),
        (
            "billion laughs",
            edited(&[(
                decl,
                &format!(
                    "{decl}<!DOCTYPE l [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]>\n"
                ),
            ), ("drinks", "&b;")])?,
            E::DtdRefused { line: 2, column: 1 },
        ),
        (
            "external entity",
            edited(&[("&lt;Sat&gt;", "&xxe;")])?,
            E::NotWellFormed {
                line: 32,
                column: 42,
                message: "undeclared entity &xxe;".to_owned(),
            },
        ),
        (
            "truncated",
            truncated_after("<CdtTrfTxInf>")?,
            E::NotWellFormed {
                line: 15,
                column: 18,
                message: "the document ends inside <CdtTrfTxInf>".to_owned(),
            },
        ),
        (
            "mismatched end tag",
            edited(&[("</TxId>", "</TxID>")])?,
            E::NotWellFormed {
                line: 19,
                column: 34,
                message: "ill-formed document: expected `</TxId>`, but `</TxID>` was found".to_owned(),
            },
        ),
        (
            "not UTF-8",
            {
                let mut bytes = edited(&[("陳大文", "X")])?;
                let at = bytes.iter().position(|&b| b == b'X').ok_or("X")?;
                if let Some(b) = bytes.get_mut(at) {
                    *b = 0xFF;
                }
                bytes
            },
            E::NotWellFormed {
                line: 23,
                column: 17,
                message: "the document is not valid UTF-8".to_owned(),
            },
        ),
        (
            "an encoding other than UTF-8",
            edited(&[("encoding=\"UTF-8\"", "encoding=\"ISO-8859-1\"")])?,
            E::UnsupportedEncoding {
                found: "ISO-8859-1".to_owned(),
            },
        ),
        (
            "too deep",
            {
                let depth = iso::DEPTH_MAX + 1;
                let mut text = String::from("<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08\">");
                text.push_str(&"<A>".repeat(depth));
                text.into_bytes()
            },
            E::TooDeep {
                path: format!("/Document{}", "/A".repeat(iso::DEPTH_MAX)),
                max: iso::DEPTH_MAX,
            },
        ),
        (
            "too large",
            vec![b' '; iso::INPUT_BYTES_MAX + 1],
            E::TooLarge {
                size: iso::INPUT_BYTES_MAX + 1,
                max: iso::INPUT_BYTES_MAX,
            },
        ),
    ])
}

#[test]
fn each_malformed_document_gets_its_exact_error() -> TestResult {
    let mut failures = Vec::new();
    for (name, document, expected) in cases()? {
        match iso::parse_credit_transfer(&document) {
            Ok(_) => failures.push(format!("{name}: accepted")),
            Err(error) if error == expected => {}
            Err(error) => failures.push(format!(
                "{name}:\n  got      {error:?}\n  expected {expected:?}"
            )),
        }
        // The generic entry point refuses it with the same kind (its namespace message lists
        // every supported namespace).
        let generic = iso::parse(&document).err().map(|e| e.kind());
        if generic != Some(expected.kind()) {
            failures.push(format!(
                "{name}: parse gave {generic:?}, expected {}",
                expected.kind()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    Ok(())
}

#[test]
fn an_unknown_namespace_lists_the_supported_ones() -> TestResult {
    let document = edited(&[("pacs.008.001.08\"", "pacs.999.001.01\"")])?;
    let Err(E::WrongNamespace {
        expected, found, ..
    }) = iso::parse(&document)
    else {
        return Err("a wrong-namespace error expected".into());
    };
    assert_eq!(found, "urn:iso:std:iso:20022:tech:xsd:pacs.999.001.01");
    assert!(
        expected.contains(iso::CAMT_054_NAMESPACE) && expected.contains(iso::PAIN_009_NAMESPACE)
    );
    Ok(())
}

#[test]
fn quoted_values_are_cut() -> TestResult {
    let long = "9".repeat(1000);
    let document = edited(&[(
        "<NbOfTxs>1</NbOfTxs>",
        &format!("<NbOfTxs>{long}</NbOfTxs>"),
    )])?;
    let Err(E::InvalidValue { value, .. }) = iso::parse(&document) else {
        return Err("an invalid-value error expected".into());
    };
    assert_eq!(value.chars().count(), iso::QUOTED_VALUE_CHARS_MAX + 1);
    assert!(value.ends_with('…'));
    Ok(())
}
