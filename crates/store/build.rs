//! Rebuilds this crate when a migration is added or changed: `sqlx::migrate!` embeds the files
//! when the crate compiles, and Cargo does not otherwise watch the directory (a new migration
//! would be missing from an incremental build).

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
