//! The enrichment consumer: reads the events queue in batches and records, for every event, the
//! provider's full data (or a tombstone). Everything it does lives in `hookline::enrich`.

// One batch at a time per Lambda instance: a single-threaded runtime starts faster.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), hookline::runtime::Error> {
    hookline::enrich::run().await
}
