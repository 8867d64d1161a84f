//! `/review?…`: the review queue. Takes the feed's filters and serves an unreviewed call
//! drawn at random within them; reviews saved here are marked sampled. Once a call is drawn
//! the URL names it (`call=…`), so reload and back return to it; "skip" and "Save and next"
//! draw again.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::NavigateOptions;

use crate::api::calls::{draw_call, load_filter_choices, QueueOutcome};
use crate::api::reviews::SaveReview;
use crate::components::call_view::{follow_saves, CallView, Flow};
use crate::components::failure::Failure;
use crate::components::filter_bar::FilterBar;
use crate::model::{encode_query, filter_query, with_query, CallFilter, FeedQuery};

/// The queue's URL for a filter (normalised query string), naming a call: `skip` (passed
/// over: draw another), `after` (just saved: draw another) or `call` (show this one).
fn queue_href(filter: &str, call: Option<(&str, &str)>) -> String {
    let call = call
        .map(|(param, id)| encode_query(&[(param, id.to_string())]))
        .unwrap_or_default();
    let query = [filter, call.as_str()]
        .into_iter()
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("&");
    with_query("/review", &query)
}

#[component]
pub fn QueuePage() -> impl IntoView {
    let location = use_location();
    let search = Memo::new(move |_| location.search.get());
    let filter = Memo::new(move |_| filter_query(&search.get()));
    let save = ServerAction::<SaveReview>::new();
    let advance = RwSignal::new(false);
    let saves = RwSignal::new(0u32);
    let queue = Resource::new(
        move || (search.get(), saves.get()),
        |(search, _)| draw_call(search),
    );
    let choices = Resource::new(|| (), |_| load_filter_choices());
    let current = move || match queue.get_untracked() {
        Some(Ok(QueueOutcome::Ready { call, .. })) => Some(call.id),
        _ => None,
    };
    follow_saves(
        save,
        advance,
        move || {
            let current = current();
            // The call just saved is passed over as reviewed, not skipped.
            Some(queue_href(
                &filter.get_untracked(),
                current.as_deref().map(|id| ("after", id)),
            ))
        },
        move || saves.update(|n| *n += 1),
        search,
    );
    // A fresh draw: the URL is made to name the call (replacing the entry), so that reload
    // and back show this call again instead of drawing another.
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(QueueOutcome::Ready { call, drawn: true })) = queue.get() {
            navigate(
                &queue_href(&filter.get_untracked(), Some(("call", &call.id))),
                NavigateOptions {
                    replace: true,
                    scroll: false,
                    ..Default::default()
                },
            );
        }
    });

    view! {
        <Title text="Review queue"/>
        <div class="page queue-page">
            <Transition fallback=|| view! { <p class="subtle">"Drawing a call…"</p> }>
                {move || Suspend::new(async move {
                    let choices = choices.await.unwrap_or_default();
                    let filter_text = filter.get_untracked();
                    let parsed = FeedQuery::from_search(&filter_text)
                        .map(|q| q.filter)
                        .unwrap_or_default();
                    let head = view! { <QueueHead filter=parsed choices/> };
                    match queue.await {
                        Ok(QueueOutcome::Ready { call, .. }) => {
                            let flow = Flow {
                                next_href: queue_href(&filter_text, Some(("skip", &call.id))),
                                next_label: "Skip",
                                next_title: "Draw another call. Skip only calls you cannot judge: skipping hard ones biases the sample",
                                back_href: with_query("/calls", &filter_text),
                                back_label: "Calls",
                                prev_href: None,
                                prev_label: "Previous",
                                skip_href: Some(queue_href(&filter_text, Some(("skip", &call.id)))),
                            };
                            view! { {head} <CallView call save flow advance/> }.into_any()
                        }
                        Ok(QueueOutcome::Empty) => view! {
                            {head}
                            <section class="panel empty" data-testid="queue-empty">
                                <h2>"Nothing left to review here"</h2>
                                <p>"Every call that matches these filters has a verdict, or is one you skipped today (others are still served it). Widen the filters, or look at what was reviewed in the feed."</p>
                                <a class="button" href=with_query("/calls", &filter_text)>"Open the feed"</a>
                            </section>
                        }.into_any(),
                        Ok(QueueOutcome::BadFilter(error)) => view! {
                            <section class="panel error" role="alert" data-testid="bad-filter">
                                <h2>"This queue link has a mistake"</h2>
                                <p>{error.to_string()}</p>
                                <a class="button" href="/review">"Review all unreviewed calls"</a>
                            </section>
                        }.into_any(),
                        Err(error) => view! {
                            <Failure title="No call could be drawn" error/>
                        }.into_any(),
                    }
                })}
            </Transition>
        </div>
    }
}

#[component]
fn QueueHead(filter: CallFilter, choices: crate::model::FilterChoices) -> impl IntoView {
    let filter = filter.with_verdict(None);
    view! {
        <div class="page-head">
            <h1>"Review queue"</h1>
            <p class="subtle">"Unreviewed calls drawn at random within the filters · reviews saved here are marked sampled"</p>
        </div>
        <details class="queue-filters">
            <summary>"Filters"</summary>
            <FilterBar filter choices base="/review"/>
        </details>
    }
}

#[cfg(test)]
mod tests {
    use super::queue_href;

    #[test]
    fn queue_links_keep_the_filter_and_name_the_call_passed_over() {
        assert_eq!(queue_href("", None), "/review");
        assert_eq!(
            queue_href("operation=a", Some(("skip", "x-1"))),
            "/review?operation=a&skip=x-1"
        );
        assert_eq!(queue_href("", Some(("call", "x"))), "/review?call=x");
    }
}
