//! The one integration-test binary of the FPS crate.

mod events;
mod flows_store;
mod proxy_http;
mod proxy_store;
mod qr_http;
mod qr_interop;
mod webhooks;
