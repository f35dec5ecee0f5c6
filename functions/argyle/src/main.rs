//! The Argyle webhook receiver. Everything it does lives in `hookline::providers::argyle`.

use hookline::providers::Argyle;

#[tokio::main]
async fn main() -> Result<(), hookline::runtime::Error> {
    hookline::run::<Argyle>().await
}
