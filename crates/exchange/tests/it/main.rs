//! The exchange crate's integration tests: one binary.

/// Each scenario (an `async fn(&Database)` of the module) on a fresh database of each
/// dialect; the module imports `TestDb` and `Error`.
macro_rules! on_both_dialects {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $scenario() -> Result<(), super::Error> {
                    let db = super::TestDb::sqlite().await?;
                    super::$scenario(&db.db).await?;
                    db.cleanup().await?;
                    Ok(())
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $scenario() -> Result<(), super::Error> {
                    let Some(db) = super::TestDb::postgres().await? else {
                        return Ok(());
                    };
                    super::$scenario(&db.db).await?;
                    db.cleanup().await?;
                    println!("store conformance: postgres exchange {} {} ok", module_path!(), stringify!($scenario));
                    Ok(())
                }
            )*
        }
    };
}

mod chain;
mod consents;
mod crypto_store;
mod directory;
mod interop;
mod sandbox;
mod service;
mod webhooks;

pub type Error = Box<dyn std::error::Error + Send + Sync>;
