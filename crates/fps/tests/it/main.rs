//! The one integration-test binary of the FPS crate.

mod qr_http;
mod qr_interop;
