//! Server functions behind the call feed and the call page.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::model::{CallDetail, FeedPage, FeedQuery, FilterChoices, FilterError, VerdictCounts};

/// Everything the feed page shows for one URL.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FeedView {
    pub query: FeedQuery,
    pub page: FeedPage,
    pub counts: VerdictCounts,
}

/// A URL the feed cannot show is an expected outcome (a mistyped link), not a failure.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum FeedOutcome {
    Ready(FeedView),
    BadFilter(FilterError),
}

#[cfg(feature = "ssr")]
pub(crate) fn store() -> Result<crate::server::store::Store, ServerFnError> {
    use_context::<crate::server::store::Store>()
        .ok_or_else(|| ServerFnError::new("the store is not available"))
}

#[cfg(feature = "ssr")]
pub(crate) fn internal(error: crate::server::store::StoreError) -> ServerFnError {
    use axum::http::StatusCode;
    if error.is_stopped() {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(StatusCode::UNPROCESSABLE_ENTITY);
        }
        return ServerFnError::new(crate::server::error::SEARCH_STOPPED);
    }
    let unavailable = error.is_unavailable();
    // The page (or the server function's own response) carries the status: 503 tells a
    // load balancer and a reader alike that trying again later can work.
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(if unavailable {
            StatusCode::SERVICE_UNAVAILABLE
        } else {
            StatusCode::INTERNAL_SERVER_ERROR
        });
    }
    tracing::error!(%error, "server function failed");
    ServerFnError::new(if unavailable {
        "the database is unavailable; try again shortly"
    } else {
        "the database could not answer; see the server log"
    })
}

/// Every read of calls checks its caller itself, not only through the middleware: a route
/// the policy table missed still gives nothing away.
#[cfg(feature = "ssr")]
fn reader() -> Result<crate::server::auth::Caller, ServerFnError> {
    crate::api::guard::require(crate::model::auth::Capability::Review).map(|(caller, _)| caller)
}

/// The feed for a URL query string (`operation=…&verdict=…&cursor=…`).
#[server(endpoint = "load_feed")]
pub async fn load_feed(search: String) -> Result<FeedOutcome, ServerFnError> {
    reader()?;
    let query = match FeedQuery::from_search(&search) {
        Ok(query) => query,
        Err(error) => return Ok(FeedOutcome::BadFilter(error)),
    };
    let store = store()?;
    let (page, counts) = tokio::try_join!(
        store.list_calls(&query),
        store.count_verdicts(&query.filter)
    )
    .map_err(internal)?;
    Ok(FeedOutcome::Ready(FeedView {
        query,
        page,
        counts,
    }))
}

/// Operations, model versions and tags for the filter bar.
#[server(endpoint = "load_filter_choices")]
pub async fn load_filter_choices() -> Result<FilterChoices, ServerFnError> {
    reader()?;
    store()?.filter_choices().await.map_err(internal)
}

/// One call in full; `None` when no call has that id.
#[server(endpoint = "load_call")]
pub async fn load_call(id: String) -> Result<Option<CallDetail>, ServerFnError> {
    reader()?;
    let Ok(uuid) = uuid::Uuid::parse_str(&id) else {
        return Ok(None);
    };
    store()?.get_call(&uuid).await.map_err(internal)
}

/// What the review queue shows for one URL.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum QueueOutcome {
    /// A call to review; `drawn` when it was drawn now (not named by the URL's `call`).
    Ready {
        call: CallDetail,
        drawn: bool,
    },
    /// No unreviewed call matches the filter.
    Empty,
    BadFilter(FilterError),
}

/// The review queue for a URL query string: the call named by `call=…` when there is one
/// (the queue's own links, so back and reload return to it), otherwise an unreviewed call
/// drawn at random within the filter, passing over `skip=…` unless nothing else is left.
#[server(endpoint = "draw_call")]
pub async fn draw_call(search: String) -> Result<QueueOutcome, ServerFnError> {
    let caller = reader()?;
    let query = match FeedQuery::from_search(&search) {
        Ok(query) => query,
        Err(error) => return Ok(QueueOutcome::BadFilter(error)),
    };
    let pairs = crate::model::decode_query(&search);
    let param = |name: &str| {
        pairs
            .iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    };
    let store = store()?;
    if let Some(id) = param("call") {
        let Ok(uuid) = uuid::Uuid::parse_str(id) else {
            return Ok(QueueOutcome::BadFilter(FilterError {
                param: "call".into(),
                reason: format!("\"{id}\" is not a call id"),
            }));
        };
        return Ok(match store.get_call(&uuid).await.map_err(internal)? {
            Some(call) => QueueOutcome::Ready { call, drawn: false },
            None => QueueOutcome::BadFilter(FilterError {
                param: "call".into(),
                reason: format!("no call has the id {id}"),
            }),
        });
    }
    let skip = param("skip").and_then(|id| uuid::Uuid::parse_str(id).ok());
    // A skipped call is no longer this reviewer's draw: saved later from the feed, it is not
    // sampled (skipping hard calls must not make the sample easier).
    if let (Some(skipped), crate::server::auth::Caller::Person(person)) = (skip, &caller) {
        store
            .forget_draw(&skipped, &person.name)
            .await
            .map_err(internal)?;
    }
    let mut bytes = [0u8; 8];
    getrandom::getrandom(&mut bytes)
        .map_err(|e| ServerFnError::new(format!("no randomness for the draw: {e}")))?;
    let point = i64::from_le_bytes(bytes);
    let drawn = store
        .draw_unreviewed(&query.filter, point, skip)
        .await
        .map_err(internal)?;
    let Some(id) = drawn else {
        return Ok(QueueOutcome::Empty);
    };
    // The draw is what makes this reviewer's save of the call a sampled one.
    if let crate::server::auth::Caller::Person(person) = &caller {
        store
            .record_draw(&id, &person.name, chrono::Utc::now())
            .await
            .map_err(internal)?;
    }
    Ok(match store.get_call(&id).await.map_err(internal)? {
        Some(call) => QueueOutcome::Ready { call, drawn: true },
        None => QueueOutcome::Empty,
    })
}

/// The call after `id` in the feed under the filter of `search` (the next older one), for
/// the call page's next and save-and-next; `None` at the end of the feed.
#[server(endpoint = "next_call")]
pub async fn next_call(id: String, search: String) -> Result<Option<String>, ServerFnError> {
    reader()?;
    let Ok(uuid) = uuid::Uuid::parse_str(&id) else {
        return Ok(None);
    };
    let filter = FeedQuery::from_search(&search)
        .map(|query| query.filter)
        .unwrap_or_default();
    let next = store()?
        .next_in_feed(&filter, &uuid)
        .await
        .map_err(internal)?;
    Ok(next.map(|id| id.hyphenated().to_string()))
}
