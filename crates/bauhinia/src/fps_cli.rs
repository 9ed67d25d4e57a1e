//! `bauhinia fps qr decode|encode`: the Hong Kong common QR code for FPS from the command line,
//! through the same codec and the same request validation as the API.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use bauhinia_fps::qr::wire::{
    CurrencyWire, DecodedQr, EncodeRequest, InitiationWire, RawFieldWire,
};
use bauhinia_fps::qr::{self, render};
use clap::{ArgGroup, Args, Subcommand, ValueEnum};

#[derive(Debug, Subcommand)]
pub enum FpsCommand {
    /// The Hong Kong common QR code for FPS (EMVCo merchant-presented mode).
    #[command(subcommand)]
    Qr(QrCommand),
}

#[derive(Debug, Subcommand)]
pub enum QrCommand {
    /// Decode a payload and print its fields. An invalid payload exits non-zero with exactly
    /// what is wrong and where.
    Decode {
        /// The payload text; '-' reads it from standard input (one trailing newline dropped).
        payload: String,
        #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
        format: OutputFormat,
    },
    /// Write a payload from fields and print it; optionally draw it as PNG or SVG.
    Encode(Box<EncodeArgs>),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CurrencyArg {
    #[value(name = "HKD", alias = "hkd")]
    Hkd,
    #[value(name = "CNY", alias = "cny")]
    Cny,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum InitiationArg {
    Static,
    Dynamic,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("payee").required(true).args(["fps_id", "mobile", "email"])))]
pub struct EncodeArgs {
    /// The payee's FPS participant code, 3 digits (e.g. 004).
    #[arg(long, value_name = "CODE")]
    participant: Option<String>,
    /// Pay this FPS ID (7 or 9 digits).
    #[arg(long, value_name = "ID")]
    fps_id: Option<String>,
    /// Pay this Hong Kong mobile number (91234567, +852-91234567, …).
    #[arg(long, value_name = "NUMBER")]
    mobile: Option<String>,
    /// Pay this email address.
    #[arg(long, value_name = "ADDRESS")]
    email: Option<String>,
    /// The amount, a decimal with at most 2 places (e.g. 12.30); makes the code dynamic.
    #[arg(long, value_name = "DECIMAL")]
    amount: Option<String>,
    #[arg(long, value_enum, default_value_t = CurrencyArg::Hkd)]
    currency: CurrencyArg,
    /// Default: dynamic with an amount, else static.
    #[arg(long, value_enum)]
    initiation: Option<InitiationArg>,
    /// The reference label passed on to the payee (up to 25 characters).
    #[arg(long, value_name = "TEXT")]
    reference: Option<String>,
    /// Up to 25 characters of printable ASCII [default: NA].
    #[arg(long, value_name = "TEXT")]
    merchant_name: Option<String>,
    /// Up to 15 characters of printable ASCII [default: HK].
    #[arg(long, value_name = "TEXT")]
    merchant_city: Option<String>,
    /// Merchant category code, 4 digits [default: 0000].
    #[arg(long, value_name = "MCC")]
    mcc: Option<String>,
    /// Also draw the code as a PNG file.
    #[arg(long, value_name = "FILE")]
    png: Option<PathBuf>,
    /// Also draw the code as an SVG file.
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,
}

pub fn run(command: FpsCommand) -> anyhow::Result<()> {
    match command {
        FpsCommand::Qr(QrCommand::Decode { payload, format }) => decode(&payload, format),
        FpsCommand::Qr(QrCommand::Encode(args)) => encode(*args),
    }
}

/// A payload is at most 512 characters; standard input is read at most this far.
const STDIN_PAYLOAD_BYTES_MAX: u64 = 4096;

fn decode(payload: &str, format: OutputFormat) -> anyhow::Result<()> {
    let payload = if payload == "-" {
        let mut text = String::new();
        std::io::stdin()
            .take(STDIN_PAYLOAD_BYTES_MAX)
            .read_to_string(&mut text)
            .context("reading the payload from standard input")?;
        let trimmed = text.strip_suffix('\n').unwrap_or(&text);
        trimmed.strip_suffix('\r').unwrap_or(trimmed).to_owned()
    } else {
        payload.to_owned()
    };
    let decoded = match qr::decode(&payload) {
        Ok(decoded) => decoded,
        Err(error) => {
            if let OutputFormat::Json = format {
                let problem = qr::http::QrProblem(error.clone()).document();
                println!("{}", serde_json::to_string_pretty(&problem)?);
            }
            let field = error
                .field()
                .map(|f| format!(", field {f}"))
                .unwrap_or_default();
            let position = error
                .position()
                .map(|p| format!(", position {p}"))
                .unwrap_or_default();
            anyhow::bail!(
                "not a valid FPS QR payload ({}{field}{position}): {error}",
                error.code()
            );
        }
    };
    let wire = DecodedQr::from(&decoded);
    match format {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&wire)?),
        OutputFormat::Text => print!("{}", text(&wire)),
    }
    Ok(())
}

fn text(qr: &DecodedQr) -> String {
    let mut out = String::new();
    let mut line = |label: &str, value: &str| out.push_str(&format!("{label:<16}{value}\n"));
    let proxy = match qr.proxy.kind {
        qr::wire::ProxyKind::FpsId => "FPS ID",
        qr::wire::ProxyKind::Mobile => "mobile",
        qr::wire::ProxyKind::Email => "email",
    };
    let participant = qr
        .participant
        .as_ref()
        .map(|p| format!(" at participant {p}"))
        .unwrap_or_default();
    line("Payee", &format!("{proxy} {}{participant}", qr.proxy.value));
    let currency = match qr.currency {
        CurrencyWire::Hkd => "HKD",
        CurrencyWire::Cny => "CNY",
    };
    let amount = match (&qr.amount, qr.amount_minor) {
        (Some(text), Some(minor)) => format!("{currency} {text} ({minor} minor units)"),
        _ => format!("{currency}, entered by the payer"),
    };
    line("Amount", &amount);
    let initiation = match qr.initiation {
        Some(InitiationWire::Static) => "static (11)",
        Some(InitiationWire::Dynamic) => "dynamic (12)",
        None => "not stated",
    };
    line("Initiation", initiation);
    line(
        "Merchant",
        &format!(
            "{}, {} (category {})",
            qr.merchant_name, qr.merchant_city, qr.merchant_category_code
        ),
    );
    if let Some(alternate) = &qr.alternate_language {
        let city = alternate
            .merchant_city
            .as_ref()
            .map(|c| format!(", {c}"))
            .unwrap_or_default();
        line(
            "Merchant (alt.)",
            &format!("{}{city} [{}]", alternate.merchant_name, alternate.language),
        );
    }
    if let Some(reference) = &qr.reference_label {
        line("Reference", reference);
    }
    line("CRC", &format!("{} (checked)", qr.crc));
    out.push_str("Fields (id, position, length, value):\n");
    for field in &qr.fields {
        out.push_str(&field_line(field));
    }
    out
}

fn field_line(field: &RawFieldWire) -> String {
    let mut out = format!(
        "  {} @{:<4} {:>2}  {}\n",
        field.id, field.position, field.length, field.value
    );
    for sub in &field.sub_fields {
        out.push_str(&format!(
            "    {} @{:<4} {:>2}  {}\n",
            sub.id, sub.position, sub.length, sub.value
        ));
    }
    out
}

fn encode(args: EncodeArgs) -> anyhow::Result<()> {
    let request = EncodeRequest {
        participant: args.participant,
        fps_id: args.fps_id,
        mobile: args.mobile,
        email: args.email,
        amount: args.amount,
        currency: Some(match args.currency {
            CurrencyArg::Hkd => CurrencyWire::Hkd,
            CurrencyArg::Cny => CurrencyWire::Cny,
        }),
        initiation: args.initiation.map(|i| match i {
            InitiationArg::Static => InitiationWire::Static,
            InitiationArg::Dynamic => InitiationWire::Dynamic,
        }),
        merchant_category_code: args.mcc,
        merchant_name: args.merchant_name,
        merchant_city: args.merchant_city,
        reference_label: args.reference,
        alternate_language: None,
    };
    let qr = request.into_qr().map_err(|errors| {
        let lines: Vec<String> = errors
            .iter()
            .map(|e| format!("{}: {}", flag(&e.pointer), e.detail))
            .collect();
        anyhow::anyhow!("{}", lines.join("\n"))
    })?;
    let payload = qr::encode(&qr)?;
    if let Some(path) = &args.png {
        write(path, &render::png(&payload)?)?;
    }
    if let Some(path) = &args.svg {
        write(path, render::svg(&payload)?.as_bytes())?;
    }
    println!("{payload}");
    Ok(())
}

/// The command-line flag for a field of the request.
fn flag(pointer: &str) -> &str {
    match pointer {
        "/participant" => "--participant",
        "/fps_id" => "--fps-id",
        "/mobile" => "--mobile",
        "/email" => "--email",
        "/amount" => "--amount",
        "/initiation" => "--initiation",
        "/reference_label" => "--reference",
        "/merchant_name" => "--merchant-name",
        "/merchant_city" => "--merchant-city",
        "/merchant_category_code" => "--mcc",
        other => other,
    }
}

fn write(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}
