//! The Midbound webhook receiver. Everything it does lives in `hookline::providers::midbound`.

use hookline::providers::Midbound;

// One invocation at a time per Lambda instance: a single-threaded runtime starts faster and
// uses less memory than a worker pool.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), hookline::runtime::Error> {
    hookline::run::<Midbound>().await
}
