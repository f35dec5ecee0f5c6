//! The Midbound webhook receiver. Everything it does lives in `hookline::providers::midbound`.

use hookline::providers::Midbound;

#[tokio::main]
async fn main() -> Result<(), hookline::runtime::Error> {
    hookline::run::<Midbound>().await
}
