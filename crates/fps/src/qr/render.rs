//! A payload as a QR code picture: SVG (scalable, for pages and print) or PNG (for apps and
//! chat). Error correction level M (15 % of the code may be damaged), the 4-module quiet zone
//! the QR standard asks for, black on white.

use qrcode::{Color, EcLevel, QrCode};

/// The quiet zone around the code, in modules (ISO/IEC 18004 asks for 4).
pub const QUIET_ZONE_MODULES: usize = 4;

/// Pixels per module in a PNG: a version-10 code (57 modules) with its quiet zone is 520 px.
pub const PNG_MODULE_PX: usize = 8;

/// The smallest side of an SVG, in its own units (pixels when shown at 100 %).
pub const SVG_SIZE_MIN: u32 = 256;

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The text does not fit in a QR code (far beyond EMVCo's 512 characters).
    #[error("the payload does not fit in a QR code: {0}")]
    TooLong(qrcode::types::QrError),
    #[error("PNG encoding failed: {0}")]
    Png(#[from] png::EncodingError),
    #[error("the picture would be too large")]
    TooLarge,
}

fn code(payload: &str) -> Result<QrCode, RenderError> {
    QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M)
        .map_err(RenderError::TooLong)
}

/// The code as an SVG document.
pub fn svg(payload: &str) -> Result<String, RenderError> {
    Ok(code(payload)?
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(SVG_SIZE_MIN, SVG_SIZE_MIN)
        .quiet_zone(true)
        .dark_color(qrcode::render::svg::Color("#000000"))
        .light_color(qrcode::render::svg::Color("#ffffff"))
        .build())
}

/// The code as a 1-bit greyscale PNG.
pub fn png(payload: &str) -> Result<Vec<u8>, RenderError> {
    let code = code(payload)?;
    let modules = code.width();
    let colors = code.to_colors();
    let side_modules = modules + 2 * QUIET_ZONE_MODULES;
    let side_px = side_modules * PNG_MODULE_PX;
    let side = u32::try_from(side_px).map_err(|_| RenderError::TooLarge)?;
    // One bit per pixel, rows padded to whole bytes; 1 is white, 0 black.
    let row_bytes = side_px.div_ceil(8);
    let mut pixels = vec![0xFF_u8; row_bytes * side_px];
    let dark = |x: usize, y: usize| {
        let (Some(column), Some(row)) = (
            (x / PNG_MODULE_PX).checked_sub(QUIET_ZONE_MODULES),
            (y / PNG_MODULE_PX).checked_sub(QUIET_ZONE_MODULES),
        ) else {
            return false;
        };
        column < modules
            && row < modules
            && colors.get(row * modules + column) == Some(&Color::Dark)
    };
    for y in 0..side_px {
        for x in (0..side_px).filter(|x| dark(*x, y)) {
            if let Some(byte) = pixels.get_mut(y * row_bytes + x / 8) {
                *byte &= !(0x80 >> (x % 8));
            }
        }
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::One);
    encoder.set_compression(png::Compression::High);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&pixels)?;
    writer.finish()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAYLOAD: &str = "00020101021126270012hk.com.hkicl02071234567520400005303344\
                           5802HK5902NA6002HK6304ABCD";

    #[test]
    fn svg_is_a_document() {
        let svg = svg(PAYLOAD).unwrap();
        assert!(svg.starts_with("<?xml"), "{}", &svg[..40]);
        assert!(svg.contains("<svg"));
    }

    #[test]
    fn png_has_the_quiet_zone_and_the_modules() {
        let bytes = png(PAYLOAD).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().unwrap();
        let info = reader.info().clone();
        let modules = code(PAYLOAD).unwrap().width();
        let side = (modules + 8) * PNG_MODULE_PX;
        assert_eq!((info.width as usize, info.height as usize), (side, side));
        assert_eq!(info.bit_depth, png::BitDepth::One);
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        reader.next_frame(&mut buf).unwrap();
        let row_bytes = side.div_ceil(8);
        let pixel = |x: usize, y: usize| buf[y * row_bytes + x / 8] & (0x80 >> (x % 8)) != 0;
        // White quiet zone; the finder pattern's dark corner just inside it.
        assert!(pixel(0, 0));
        assert!(pixel(4 * PNG_MODULE_PX - 1, 4 * PNG_MODULE_PX - 1));
        assert!(!pixel(4 * PNG_MODULE_PX, 4 * PNG_MODULE_PX));
        assert!(!pixel(side - 4 * PNG_MODULE_PX - 1, 4 * PNG_MODULE_PX));
        assert!(pixel(side - 1, side - 1));
    }
}
