//! The scheduled sweeper: hands off events whose webhook attempt died after storing them.
//! Everything it does lives in `hookline::sweeper`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), hookline::runtime::Error> {
    hookline::sweeper::run().await
}
