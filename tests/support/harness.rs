//! One provider function on its own fresh table and queue.

use crate::aws::Resources;
use crate::events::{invoke, invoke_at, Event, Response};
use crate::samples::Sample;
use hookline::runtime::LivePipeline;

pub struct Harness<S: Sample> {
    pub resources: Resources,
    pub pipeline: LivePipeline<S>,
}

impl<S: Sample> Harness<S> {
    /// The sample's configuration on a standard queue.
    pub async fn new() -> Self {
        Self::with(false, &[]).await
    }

    /// The sample's configuration plus `extra` variables, on a FIFO queue if `fifo`.
    pub async fn with(fifo: bool, extra: &[(&'static str, String)]) -> Self {
        let resources = Resources::create(fifo).await;
        let mut vars = S::vars();
        vars.extend_from_slice(extra);
        let pipeline = resources.pipeline(&resources.config(&vars)).await;
        Self {
            resources,
            pipeline,
        }
    }

    /// A delivery of `body` signed with the newer of the two configured secrets.
    pub fn signed(&self, body: &str) -> Event {
        Event::new(&S::headers(S::SECRETS[1], body), body).query(S::QUERY)
    }

    pub async fn send(&self, event: Event) -> Response {
        invoke(&self.pipeline, event.build()).await
    }

    pub async fn send_at(&self, event: Event, now: i64) -> Response {
        invoke_at(&self.pipeline, event.build(), now).await
    }

    /// Nothing stored, nothing queued: what every refusal must leave behind.
    pub async fn assert_untouched(&self) {
        assert_eq!(self.resources.item_count().await, 0, "items stored");
        assert!(
            self.resources.messages().await.is_empty(),
            "messages queued"
        );
    }
}
