//! The ClearId webhook receiver. Everything it does lives in `hookline::providers::clearid`.

use hookline::providers::ClearId;

#[tokio::main]
async fn main() -> Result<(), hookline::runtime::Error> {
    hookline::run::<ClearId>().await
}
