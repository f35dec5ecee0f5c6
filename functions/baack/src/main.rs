//! The Baack webhook receiver. Everything it does lives in `hookline::providers::baack`.

use hookline::providers::Baack;

#[tokio::main]
async fn main() -> Result<(), hookline::runtime::Error> {
    hookline::run::<Baack>().await
}
