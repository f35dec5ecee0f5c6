//! The Argyle webhook receiver. Everything it does lives in `hookline::providers::argyle`.

use hookline::providers::Argyle;

// One invocation at a time per Lambda instance: a single-threaded runtime starts faster and
// uses less memory than a worker pool.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), hookline::runtime::Error> {
    hookline::run::<Argyle>().await
}
