//! The open data write side's readers of outside input on arbitrary bytes: the first byte says
//! which — a CKAN package dictionary, a resource dictionary, an organisation dictionary (JSON
//! bodies of the write actions), or a historical archive query string. Whatever the input,
//! reading answers without panicking, and every fault names a field.
#![no_main]

use bauhinia_opendata::archive::{GetFile, ListFiles, ListVersions};
use bauhinia_opendata::package_input;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((first, rest)) = data.split_first() else {
        return;
    };
    let mut faults = Vec::new();
    if first % 2 == 0 {
        let query = String::from_utf8_lossy(rest);
        faults.extend(ListFiles::parse(&query).err().into_iter().flatten());
        faults.extend(ListVersions::parse(&query).err().into_iter().flatten());
        faults.extend(GetFile::parse(&query).err().into_iter().flatten());
    } else {
        let Ok(serde_json::Value::Object(dict)) = serde_json::from_slice(rest) else {
            return;
        };
        let found = match first % 6 {
            1 => package_input::package(&dict).err(),
            3 => package_input::resource(&dict, "").err(),
            _ => package_input::organization(&dict, 0).err(),
        };
        faults.extend(found.into_iter().flatten());
    }
    for fault in faults {
        assert!(fault.pointer.starts_with('/'), "{fault:?}");
        assert!(!fault.detail.is_empty(), "{fault:?}");
    }
});
