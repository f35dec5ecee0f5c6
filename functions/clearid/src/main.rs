//! The ClearId webhook receiver. Everything it does lives in `hookline::providers::clearid`.

use hookline::providers::ClearId;

// One invocation at a time per Lambda instance: a single-threaded runtime starts faster and
// uses less memory than a worker pool.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), hookline::runtime::Error> {
    hookline::run::<ClearId>().await
}
