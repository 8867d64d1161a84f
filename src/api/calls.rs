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
    /// The viewer may turn this view into a dataset export.
    #[serde(default)]
    pub can_export: bool,
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
    let caller = reader()?;
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
        can_export: caller.can(crate::model::auth::Capability::Export),
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
    Ok(store()?.get_call(&uuid).await?.map(with_guidelines))
}

/// The call with its operation's guidelines rendered and sanitized for the page.
#[cfg(feature = "ssr")]
fn with_guidelines(mut call: CallDetail) -> CallDetail {
    if !call.guidelines.is_empty() {
        call.guidelines_html = crate::operations::markdown::render(&call.guidelines);
    }
    call
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
/// drawn at random within the filter. `skip=…` (with an optional `reason=…`) records that the
/// reviewer passed over that call: it is not drawn for them again that day.
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
            Some(call) => QueueOutcome::Ready {
                call: with_guidelines(call),
                drawn: false,
            },
            None => QueueOutcome::BadFilter(FilterError {
                param: "call".into(),
                reason: format!("no call has the id {id}"),
            }),
        });
    }
    let skip = param("skip").and_then(|id| uuid::Uuid::parse_str(id).ok());
    // The call just saved ("Save and next"): passed over, but not a skip.
    let after = param("after").and_then(|id| uuid::Uuid::parse_str(id).ok());
    use crate::model::skips::SkipReason;
    let reason = match param("reason") {
        None => None,
        Some(text) => match SkipReason::parse(text) {
            Some(reason) => Some(reason),
            None => {
                return Ok(QueueOutcome::BadFilter(FilterError {
                    param: "reason".into(),
                    reason: format!(
                        "\"{}\" is not a skip reason: use {}",
                        text.chars().take(40).collect::<String>(),
                        SkipReason::ALL.map(SkipReason::as_str).join(", ")
                    ),
                }))
            }
        },
    };
    let now = chrono::Utc::now();
    let person = match &caller {
        crate::auth::Caller::Person(person) => Some(person.name.as_str()),
        _ => None,
    };
    // A skipped call is no longer this reviewer's draw: saved later from the feed, it is not
    // sampled (skipping hard calls must not make the sample easier). The skip is counted,
    // and the call is not served to them again today.
    // Only a call the queue served this reviewer (in the last day) counts as skipped, so a
    // hand-made link cannot count skips of calls nobody was served.
    if let (Some(skipped), Some(name)) = (skip, person) {
        let served = store
            .was_drawn_for(skipped, name, now - chrono::Duration::days(1))
            .await?;
        store.forget_draw(&skipped, name).await?;
        if served {
            store.record_skip(&skipped, name, reason, now).await?;
        }
    }
    let mut bytes = [0u8; 8];
    getrandom::getrandom(&mut bytes).map_err(|error| {
        tracing::error!(%error, "no randomness for the queue's draw");
        AppError::Internal
    })?;
    let point = i64::from_le_bytes(bytes);
    let drawn = store
        .draw_unreviewed(
            &query.filter,
            point,
            skip.or(after),
            person.map(|name| (name, now)),
        )
        .await?;
    let Some(id) = drawn else {
        return Ok(QueueOutcome::Empty);
    };
    // The draw is what makes this reviewer's save of the call a sampled one.
    if let Some(name) = person {
        store.record_draw(&id, name, now).await?;
    }
    Ok(match store.get_call(&id).await? {
        Some(call) => QueueOutcome::Ready {
            call: with_guidelines(call),
            drawn: true,
        },
        None => QueueOutcome::Empty,
    })
}

/// The calls beside one in a feed: the next older (`j`, "next", save-and-next) and the next
/// newer (`k`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Neighbours {
    pub older: Option<String>,
    pub newer: Option<String>,
}

/// The calls beside `id` in the feed under the filter of `search`; `None` at either end.
#[server(endpoint = "next_call")]
pub async fn next_call(id: String, search: String) -> Result<Neighbours, AppError> {
    reader()?;
    let Ok(uuid) = uuid::Uuid::parse_str(&id) else {
        return Ok(Neighbours::default());
    };
    let filter = FeedQuery::from_search(&search)
        .map(|query| query.filter)
        .unwrap_or_default();
    let store = store()?;
    // One after the other (a search holds one of the few search slots at a time), and the
    // newer one is a convenience: when a search runs out of time for it, `k` goes back to
    // the feed while "next" still works.
    let older = store.next_in_feed(&filter, &uuid).await?;
    let newer = match store.newer_in_feed(&filter, &uuid).await {
        Ok(newer) => newer,
        Err(error) if error.is_stopped() => None,
        Err(error) => return Err(error.into()),
    };
    let text = |id: uuid::Uuid| id.hyphenated().to_string();
    Ok(Neighbours {
        older: older.map(text),
        newer: newer.map(text),
    })
}
