//! `/calls`: the call feed, newest first, filtered by the URL.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_location;

use crate::api::calls::{load_feed, load_filter_choices, FeedOutcome, FeedView};
use crate::components::failure::Failure;
use crate::components::figures::{self, count};
use crate::components::filter_bar::FilterBar;
use crate::components::verdict::{VerdictBadge, VerdictTabs};
use crate::model::{
    encode_query, feed_href, with_query, CallFilter, CallSummary, FilterChoices, FilterError,
};

#[component]
pub fn FeedPage() -> impl IntoView {
    let location = use_location();
    let feed = Resource::new(move || location.search.get(), load_feed);
    let choices = Resource::new(|| (), |_| load_filter_choices());
    let (pending, set_pending) = signal(false);
    let content = move || {
        Suspend::new(async move {
            let choices = choices.await.unwrap_or_default();
            match feed.await {
                Ok(FeedOutcome::Ready(view)) => view! { <FeedBody view choices/> }.into_any(),
                Ok(FeedOutcome::BadFilter(error)) => {
                    view! { <BadFilter error choices/> }.into_any()
                }
                Err(error) => view! { <FeedFailed error/> }.into_any(),
            }
        })
    };
    // "Pending" (the dimmed page while the next one loads) only exists in the browser. On the
    // server the Transition's pending effect could fire after the page was disposed, under
    // concurrent renders ("accessed a disposed reactive value": a 500), so it is not wired.
    #[cfg(feature = "hydrate")]
    let body = view! { <Transition fallback=FeedSkeleton set_pending>{content}</Transition> };
    #[cfg(not(feature = "hydrate"))]
    let body = {
        let _ = set_pending;
        view! { <Transition fallback=FeedSkeleton>{content}</Transition> }
    };

    view! {
        <Title text="Calls"/>
        <div class="page feed-page" class:pending=pending>
            {body}
        </div>
    }
}

#[component]
fn FeedHeader(filter: CallFilter, choices: FilterChoices) -> impl IntoView {
    view! {
        <div class="page-head">
            <h1>"Calls"</h1>
            <p class="subtle">"Newest first · times in UTC · "<kbd>"?"</kbd>" keyboard shortcuts"</p>
        </div>
        <FilterBar filter choices/>
    }
}

#[component]
fn FeedBody(view: FeedView, choices: FilterChoices) -> impl IntoView {
    let FeedView {
        query,
        page,
        counts,
        can_export,
    } = view;
    let filter = query.filter.clone();
    let filter_text = encode_query(&filter.to_pairs());
    let queue_href = with_query(
        "/review",
        &encode_query(&filter.with_verdict(None).to_pairs()),
    );
    let shown = page.calls.len();
    let is_first_page = query.cursor.is_none();
    let newest_href = feed_href(&filter, None);
    let older_href = page
        .next_cursor
        .as_deref()
        .map(|c| feed_href(&filter, Some(c)));
    let has_calls = !page.calls.is_empty();
    // A search that stopped looking to stay fast says how far back it read.
    let stopped = page.searched_back_to.map(|at| {
        let older = older_href.clone().unwrap_or_default();
        view! {
            <p class="search-stopped" role="status" data-testid="search-stopped">
                "This search read the calls back to "
                <time datetime=at.to_rfc3339()>{figures::full_time(&at)}</time>
                " and stopped there to stay fast. "
                <a href=older>"Search older calls →"</a>
                " · or narrow it with an operation or a date range."
            </p>
        }
    });
    let empty_db = counts.total() == 0 && filter.is_empty();
    let rows = page
        .calls
        .into_iter()
        .map(|call| view! { <CallRow call filter=filter_text.clone()/> })
        .collect_view();

    view! {
        <FeedHeader filter=filter.clone() choices/>
        <div class="tabs-row">
            <VerdictTabs filter=filter.clone() counts=counts.clone()/>
            <div class="tab-actions">
                {can_export.then(|| {
                    let href = with_query("/exports", &encode_query(&filter.to_pairs()));
                    view! {
                        <a class="button" href=href data-testid="export-view"
                            title="A training set or data file of the calls under these filters">"Export this view"</a>
                    }
                })}
                <a class="button primary" href=queue_href data-testid="open-queue"
                    title="Unreviewed calls under these filters, drawn at random">"Review queue →"</a>
            </div>
        </div>
        {stopped}
        {if has_calls {
            view! {
                <div class="table-wrap">
                    <table class="feed" data-testid="feed">
                        <thead>
                            <tr>
                                <th scope="col">"Time"</th>
                                <th scope="col">"Operation"</th>
                                <th scope="col">"Model"</th>
                                <th scope="col">"Verdict"</th>
                                <th scope="col" class="col-preview">"Output"</th>
                                <th scope="col" class="num">"Latency"</th>
                                <th scope="col" class="num">"Tokens"</th>
                                <th scope="col" class="num">"Cost"</th>
                            </tr>
                        </thead>
                        <tbody>{rows}</tbody>
                    </table>
                </div>
                <nav class="pager" aria-label="Pages">
                    <span class="subtle" data-testid="page-info">
                        {format!("{} calls on this page", count(shown as u64))}
                    </span>
                    <span class="pager-links">
                        {(!is_first_page).then(|| view! {
                            <a class="button ghost" href=newest_href data-testid="newest">"← Newest"</a>
                        })}
                        {older_href.map(|href| view! {
                            <a class="button" rel="next" href=href data-testid="older">"Older →"</a>
                        })}
                    </span>
                </nav>
            }.into_any()
        } else if empty_db {
            view! {
                <section class="panel empty" data-testid="empty">
                    <h2>"No calls yet"</h2>
                    <p>"Send your production LLM calls to "<code>"POST /api/v1/calls"</code>
                       " and they appear here, newest first. The README shows a curl example; "
                       <code>"redline demo"</code>" fills a database with sample traffic."</p>
                </section>
            }.into_any()
        } else if older_href.is_some() {
            view! {
                <section class="panel empty" data-testid="empty">
                    <h2>"No matches among the newest calls"</h2>
                    <p>"The search goes on with older calls from the link above."</p>
                </section>
            }.into_any()
        } else {
            view! {
                <section class="panel empty" data-testid="empty">
                    <h2>"No calls match these filters"</h2>
                    <p>"Try a wider date range or fewer filters."</p>
                    <a class="button" href="/calls">"Clear all filters"</a>
                </section>
            }.into_any()
        }}
    }
}

#[component]
fn CallRow(call: CallSummary, filter: String) -> impl IntoView {
    // The feed's filter rides along, so the call page's "next" walks this feed.
    let href = with_query(&format!("/calls/{}", call.id), &filter);
    let preview = figures::one_line(&call.output_preview);
    view! {
        <tr class="call-row" data-testid="call-row" data-id=call.id.clone()>
            <td class="col-time">
                <time datetime=call.created_at.to_rfc3339() title=figures::full_time(&call.created_at)>
                    {figures::short_time(&call.created_at)}
                </time>
            </td>
            <td class="col-op"><span class="chip">{call.operation}</span></td>
            <td class="col-model">
                <span class="model">{call.model}</span>
                <span class="version">{call.model_version}</span>
            </td>
            <td class="col-verdict">
                <VerdictBadge verdict=call.verdict/>
                {call.reviewer.map(|r| view! { <span class="reviewer" title="Reviewer">{r}</span> })}
            </td>
            <td class="col-preview">
                <a class="preview" href=href dir="auto" data-testid="preview">{preview}</a>
            </td>
            <td class="num">{figures::latency(call.latency_ms)}</td>
            <td class="num">{figures::tokens(call.input_tokens, call.output_tokens)}</td>
            <td class="num">{figures::cost(call.cost_usd)}</td>
        </tr>
    }
}

#[component]
fn BadFilter(error: FilterError, choices: FilterChoices) -> impl IntoView {
    view! {
        <FeedHeader filter=CallFilter::default() choices/>
        <section class="panel error" role="alert" data-testid="bad-filter">
            <h2>"This link has a filter Redline cannot read"</h2>
            <p><code>{error.param.clone()}</code>" — "{error.reason.clone()}</p>
            <a class="button" href="/calls">"Show all calls"</a>
        </section>
    }
}

#[component]
fn FeedFailed(error: crate::error::AppError) -> impl IntoView {
    view! {
        <div class="page-head"><h1>"Calls"</h1></div>
        <Failure title="The feed could not be loaded" error>
            <a class="button" href="">"Try again"</a>
        </Failure>
    }
}

#[component]
fn FeedSkeleton() -> impl IntoView {
    view! {
        <div class="page-head"><h1>"Calls"</h1><p class="subtle">"Loading…"</p></div>
        <div class="skeleton" aria-busy="true" aria-label="Loading calls">
            {(0..8).map(|_| view! { <div class="skeleton-row"></div> }).collect_view()}
        </div>
    }
}
