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

/// The feed for a URL query string (`operation=…&verdict=…&cursor=…`).
#[server(endpoint = "load_feed")]
pub async fn load_feed(search: String) -> Result<FeedOutcome, ServerFnError> {
    let pairs = crate::model::decode_query(&search);
    let query = match FeedQuery::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
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
    store()?.filter_choices().await.map_err(internal)
}

/// One call in full; `None` when no call has that id.
#[server(endpoint = "load_call")]
pub async fn load_call(id: String) -> Result<Option<CallDetail>, ServerFnError> {
    let Ok(uuid) = uuid::Uuid::parse_str(&id) else {
        return Ok(None);
    };
    store()?.get_call(&uuid).await.map_err(internal)
}
