//! `/calls/{id}`: one call in full — its input as a conversation, its output, its metadata and
//! its review history. (Editing a review comes with the review issue.)

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::calls::load_call;
use crate::components::figures;
use crate::components::verdict::VerdictBadge;
use crate::model::{input_turns, CallDetail, ChatTurn, Review};

#[component]
pub fn CallPage() -> impl IntoView {
    let params = use_params_map();
    let call = Resource::new(
        move || params.read().get("id").unwrap_or_default(),
        load_call,
    );
    view! {
        <div class="page call-page">
            <Transition fallback=|| view! { <p class="subtle">"Loading call…"</p> }>
                {move || Suspend::new(async move {
                    match call.await {
                        Ok(Some(call)) => view! { <CallView call/> }.into_any(),
                        Ok(None) => view! {
                            <Title text="Call not found"/>
                            <section class="panel empty" data-testid="call-missing">
                                <h1>"No such call"</h1>
                                <p>"There is no call with this id. It may have been mistyped."</p>
                                <a class="button" href="/calls">"Back to the feed"</a>
                            </section>
                        }.into_any(),
                        Err(error) => view! {
                            <section class="panel error" role="alert">
                                <h1>"The call could not be loaded"</h1>
                                <p>{error.to_string()}</p>
                            </section>
                        }.into_any(),
                    }
                })}
            </Transition>
        </div>
    }
}

#[component]
fn CallView(call: CallDetail) -> impl IntoView {
    let turns = input_turns(&call.input);
    let metadata = serde_json::to_string_pretty(&call.metadata).unwrap_or_default();
    let back = format!("/calls?operation={}", call.operation);
    let review = call.review.clone();
    view! {
        <Title text=format!("{} call", call.operation)/>
        <nav class="crumbs"><a href="/calls">"Calls"</a>" / "<a href=back>{call.operation.clone()}</a></nav>
        <div class="page-head call-head">
            <h1><span class="chip">{call.operation.clone()}</span></h1>
            <VerdictBadge verdict=call.verdict/>
            <span class="subtle mono" data-testid="call-id">{call.id.clone()}</span>
        </div>
        <dl class="facts">
            <div><dt>"Model"</dt><dd>{call.model.clone()}" · "{call.model_version.clone()}</dd></div>
            <div><dt>"Time"</dt><dd>{figures::full_time(&call.created_at)}</dd></div>
            <div><dt>"Latency"</dt><dd>{figures::latency(call.latency_ms)}</dd></div>
            <div><dt>"Tokens"</dt><dd>{figures::tokens(call.input_tokens, call.output_tokens)}</dd></div>
            <div><dt>"Cost"</dt><dd>{figures::cost(call.cost_usd)}</dd></div>
            <div><dt>"Source"</dt><dd>{if call.source.is_empty() { "—".to_string() } else { call.source.clone() }}</dd></div>
            <div><dt>"External id"</dt><dd class="mono">{call.external_id.clone().unwrap_or_else(|| "—".into())}</dd></div>
            <div><dt>"Received"</dt><dd>{figures::full_time(&call.received_at)}</dd></div>
        </dl>
        <div class="panes">
            <section class="pane">
                <h2 class="pane-title">"Input"</h2>
                <div class="pane-body conversation">
                    {turns.into_iter().map(|turn| view! { <Turn turn/> }).collect_view()}
                </div>
            </section>
            <section class="pane">
                <h2 class="pane-title">"Output"</h2>
                <pre class="pane-body text" dir="auto" data-testid="call-output">{call.output.clone()}</pre>
            </section>
            {review.map(|review| view! { <ReviewPane review/> })}
        </div>
        {(call.history.len() > 1).then(|| view! {
            <section class="history">
                <h2>"Revision history"</h2>
                <ol class="revisions">
                    {call.history.iter().map(|r| view! {
                        <li>
                            <span class="mono">"#"{r.revision}</span>" "
                            <VerdictBadge verdict=r.verdict/>" by "{r.reviewer.clone()}
                            " · "{figures::full_time(&r.created_at)}
                        </li>
                    }).collect_view()}
                </ol>
            </section>
        })}
        <details class="metadata">
            <summary>"Metadata"</summary>
            <pre class="text mono">{metadata}</pre>
        </details>
    }
}

#[component]
fn Turn(turn: ChatTurn) -> impl IntoView {
    view! {
        <div class=format!("turn turn-{}", turn.role)>
            <div class="turn-role">{turn.role.clone()}</div>
            {(!turn.content.is_empty()).then(|| view! { <div class="turn-text" dir="auto">{turn.content.clone()}</div> })}
            {turn.tool_calls.into_iter().map(|(name, arguments)| view! {
                <div class="tool-call">
                    <div class="tool-name mono">{name}"()"</div>
                    <pre class="mono">{arguments}</pre>
                </div>
            }).collect_view()}
        </div>
    }
}

#[component]
fn ReviewPane(review: Review) -> impl IntoView {
    view! {
        <section class="pane">
            <h2 class="pane-title">"Review #"{review.revision}" · "{review.reviewer.clone()}</h2>
            <div class="pane-body">
                <p class="review-line">
                    <VerdictBadge verdict=review.verdict/>
                    <span class="subtle">{figures::full_time(&review.created_at)}</span>
                    {review.sampled.then(|| view! { <span class="chip">"sampled"</span> })}
                </p>
                {review.corrected_output.is_none().then(|| view! {
                    <p class="subtle">"The output was accepted as it is; no correction."</p>
                })}
                {review.corrected_output.clone().map(|text| view! {
                    <div class="field-label">"Corrected output"</div>
                    <pre class="text" dir="auto">{text}</pre>
                })}
                {(!review.tags.is_empty()).then(|| view! {
                    <div class="tags">{review.tags.iter().map(|t| view! { <span class="chip tag">{t.clone()}</span> }).collect_view()}</div>
                })}
                {(!review.note.is_empty()).then(|| view! { <p class="note" dir="auto">{review.note.clone()}</p> })}
            </div>
        </section>
    }
}
