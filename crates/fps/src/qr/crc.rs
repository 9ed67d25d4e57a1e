//! The payload's checksum: CRC-16/CCITT-FALSE (polynomial 0x1021, initial value 0xFFFF, no
//! reflection, no final XOR — the catalogue calls it CRC-16/IBM-3740), over the UTF-8 bytes of
//! the payload up to and including the characters `6304`, written as 4 upper-case hex digits.

use crc::{Crc, CRC_16_IBM_3740};

const CCITT_FALSE: Crc<u16> = Crc::<u16>::new(&CRC_16_IBM_3740);

/// The CRC of `bytes`.
pub fn checksum(bytes: &[u8]) -> u16 {
    CCITT_FALSE.checksum(bytes)
}

/// The CRC of `bytes` as field 63 writes it: 4 upper-case hex digits, zero-padded.
pub fn checksum_hex(bytes: &[u8]) -> String {
    format!("{:04X}", checksum(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_value() {
        assert_eq!(checksum(b"123456789"), 0x29B1);
        assert_eq!(checksum_hex(b"123456789"), "29B1");
    }

    #[test]
    fn pads_to_four_digits() {
        // Found by search: a short input whose CRC is below 0x1000.
        let small = (0u32..100_000)
            .map(|n| n.to_string())
            .find(|s| checksum(s.as_bytes()) < 0x1000)
            .expect("some input has a small CRC");
        let hex = checksum_hex(small.as_bytes());
        assert_eq!(hex.len(), 4);
        assert!(hex.starts_with('0'), "{small}: {hex}");
    }
}
