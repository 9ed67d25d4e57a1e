//! The CKAN Action API's readers of outside input on arbitrary bytes: the first byte says
//! whether the rest is a GET's query string or a POST's body. Whatever the input, parsing
//! answers without panicking, and every fault names a parameter (`/limit`, `/id`, …).
#![no_main]

use bauhinia_opendata::action::{
    help_name, GroupListArgs, PackageListArgs, Params, ShowArgs, TagListArgs,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(params) = Params::from_tagged_bytes(data) else {
        return;
    };
    let faults = [
        PackageListArgs::parse(&params).err(),
        GroupListArgs::parse(&params).err(),
        ShowArgs::parse(&params).err(),
        TagListArgs::parse(&params).err(),
        help_name(&params).err(),
    ];
    for fault in faults.into_iter().flatten().flatten() {
        assert!(fault.pointer.starts_with('/'), "{fault:?}");
        assert!(!fault.detail.is_empty(), "{fault:?}");
    }
    if let Ok(args) = PackageListArgs::parse(&params) {
        assert!(args.limit <= bauhinia_opendata::action::PACKAGE_LIST_MAX);
    }
    if let Ok(args) = GroupListArgs::parse(&params) {
        assert!(args.limit <= bauhinia_opendata::action::GROUP_LIST_MAX);
    }
});
