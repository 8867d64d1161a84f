//! Server functions behind the call feed and the call page.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
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
use crate::api::guard::store;

/// Every read of calls checks its caller itself, not only through the middleware: a route
/// the policy table missed still gives nothing away.
#[cfg(feature = "ssr")]
fn reader() -> Result<crate::auth::Caller, AppError> {
    crate::api::guard::require(crate::model::auth::Capability::Review).map(|(caller, _)| caller)
}

/// The feed for a URL query string (`operation=…&verdict=…&cursor=…`).
#[server(endpoint = "load_feed")]
pub async fn load_feed(search: String) -> Result<FeedOutcome, AppError> {
    reader()?;
    let query = match FeedQuery::from_search(&search) {
        Ok(query) => query,
        Err(error) => return Ok(FeedOutcome::BadFilter(error)),
    };
    let store = store()?;
    let (page, counts) = tokio::try_join!(
        store.list_calls(&query),
        store.count_verdicts(&query.filter)
    )?;
    Ok(FeedOutcome::Ready(FeedView {
        query,
        page,
        counts,
    }))
}

/// Operations, model versions and tags for the filter bar.
#[server(endpoint = "load_filter_choices")]
pub async fn load_filter_choices() -> Result<FilterChoices, AppError> {
    reader()?;
    Ok(store()?.filter_choices().await?)
}

/// One call in full; `None` when no call has that id.
#[server(endpoint = "load_call")]
pub async fn load_call(id: String) -> Result<Option<CallDetail>, AppError> {
    reader()?;
    let Ok(uuid) = uuid::Uuid::parse_str(&id) else {
        return Ok(None);
    };
    Ok(store()?.get_call(&uuid).await?)
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
pub async fn draw_call(search: String) -> Result<QueueOutcome, AppError> {
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
        return Ok(match store.get_call(&uuid).await? {
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
    if let (Some(skipped), crate::auth::Caller::Person(person)) = (skip, &caller) {
        store.forget_draw(&skipped, &person.name).await?;
    }
    let mut bytes = [0u8; 8];
    getrandom::getrandom(&mut bytes).map_err(|error| {
        tracing::error!(%error, "no randomness for the queue's draw");
        AppError::Internal
    })?;
    let point = i64::from_le_bytes(bytes);
    let drawn = store.draw_unreviewed(&query.filter, point, skip).await?;
    let Some(id) = drawn else {
        return Ok(QueueOutcome::Empty);
    };
    // The draw is what makes this reviewer's save of the call a sampled one.
    if let crate::auth::Caller::Person(person) = &caller {
        store
            .record_draw(&id, &person.name, chrono::Utc::now())
            .await?;
    }
    Ok(match store.get_call(&id).await? {
        Some(call) => QueueOutcome::Ready { call, drawn: true },
        None => QueueOutcome::Empty,
    })
}

/// The call after `id` in the feed under the filter of `search` (the next older one), for
/// the call page's next and save-and-next; `None` at the end of the feed.
#[server(endpoint = "next_call")]
pub async fn next_call(id: String, search: String) -> Result<Option<String>, AppError> {
    reader()?;
    let Ok(uuid) = uuid::Uuid::parse_str(&id) else {
        return Ok(None);
    };
    let filter = FeedQuery::from_search(&search)
        .map(|query| query.filter)
        .unwrap_or_default();
    let next = store()?.next_in_feed(&filter, &uuid).await?;
    Ok(next.map(|id| id.hyphenated().to_string()))
}
