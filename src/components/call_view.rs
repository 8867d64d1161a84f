//! A call as a reviewer works on it — the input as a conversation, the output, the editor,
//! metadata and the revision history — and how the page moves on after a save. Shared by
//! the call page and the review queue.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;

use crate::api::reviews::SaveReview;
use crate::components::diff::DiffView;
use crate::components::editor::{EditorPane, EditorState};
use crate::components::figures;
use crate::components::long_text::LongText;
use crate::components::verdict::VerdictBadge;
use crate::model::review::SaveOutcome;
use crate::model::skips::{skips_line, SkipReason};
use crate::model::{input_turns, with_query, CallDetail, ChatTurn, Review};

/// How the page moves on from a call.
#[derive(Clone, Debug, PartialEq)]
pub struct Flow {
    /// Where `j`, the next link and "Save and next" go.
    pub next_href: String,
    pub next_label: &'static str,
    pub next_title: &'static str,
    /// Where `k` and the previous link go (the newer call of the feed); `None`: back in the
    /// browser's history (the queue).
    pub prev_href: Option<String>,
    pub prev_label: &'static str,
    /// The feed (or queue) this call was reached from, for the crumbs.
    pub back_href: String,
    pub back_label: &'static str,
    /// In the queue: the skip link, to which `&reason=…` adds why.
    pub skip_href: Option<String>,
}

/// What happens after a save: "Save and next" goes to `next()` (when known), a plain save
/// reads the call again. A save that did not go through changes nothing. When `page` changes
/// (another call), the last save's message, which belonged to the call before, is cleared.
pub fn follow_saves(
    save: ServerAction<SaveReview>,
    advance: RwSignal<bool>,
    next: impl Fn() -> Option<String> + Send + Sync + 'static,
    reload: impl Fn() + Send + Sync + 'static,
    page: Memo<String>,
) {
    Effect::watch(
        move || page.get(),
        move |_, _, _| save.value().set(None),
        false,
    );
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(SaveOutcome::Saved { .. })) = save.value().get() {
            match next().filter(|_| advance.get_untracked()) {
                Some(href) => {
                    advance.set(false);
                    save.value().set(None);
                    navigate(&href, Default::default());
                }
                None => reload(),
            }
        }
    });
}

/// A call with its editor and history, as the call page and the review queue show it.
#[component]
pub fn CallView(
    call: CallDetail,
    save: ServerAction<SaveReview>,
    flow: Flow,
    advance: RwSignal<bool>,
) -> impl IntoView {
    let turns = input_turns(&call.input);
    let metadata = serde_json::to_string_pretty(&call.metadata).unwrap_or_default();
    let editor = EditorState::new(&call.output, call.review.as_ref());
    let operation_href = with_query(
        "/calls",
        &crate::model::encode_query(&[("operation", call.operation.clone())]),
    );
    view! {
        <Title text=format!("{} call", call.operation)/>
        <div class="call-nav">
            <nav class="crumbs"><a href=flow.back_href.clone() data-testid="back">{flow.back_label}</a>" / "<a href=operation_href>{call.operation.clone()}</a></nav>
            <div class="call-nav-links">
                {match flow.prev_href.clone() {
                    Some(href) => view! {
                        <a class="button ghost" href=href data-key="prev" data-testid="prev">
                            "← "{flow.prev_label}<kbd>"k"</kbd>
                        </a>
                    }.into_any(),
                    None => view! {
                        <button type="button" class="button ghost" data-key="prev" data-testid="prev"
                            on:click=move |_| { let _ = window().history().and_then(|h| h.back()); }>
                            "← "{flow.prev_label}<kbd>"k"</kbd>
                        </button>
                    }.into_any(),
                }}
                <a class="button" href=flow.next_href.clone() title=flow.next_title data-key="next" data-testid="next">
                    {flow.next_label}" →"<kbd>"j"</kbd>
                </a>
                {flow.skip_href.clone().map(|href| view! { <SkipMenu href/> })}
            </div>
        </div>
        <div class="page-head call-head">
            <h1><span class="chip">{call.operation.clone()}</span></h1>
            <VerdictBadge verdict=call.verdict/>
            <span class="subtle mono" data-testid="call-id">{call.id.clone()}</span>
            {skips_line(&call.skips).map(|line| view! {
                <span class="chip skips" data-testid="skips" title="Times reviewers passed over this call in the review queue">{line}</span>
            })}
        </div>
        <Guidelines
            operation=call.operation.clone()
            description=call.operation_description.clone()
            html=call.guidelines_html.clone()
        />
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
                <LongText text=call.output.clone() class="pane-body text" testid="call-output"/>
            </section>
            <EditorPane
                call_id=call.id.clone()
                operation=call.operation.clone()
                has_schema=call.has_schema
                original=call.output.clone()
                kind=call.output_kind
                review=call.review.clone()
                operation_tags=call.operation_tags.clone()
                editor
                save
                advance
            />
        </div>
        {(!call.history.is_empty()).then(|| view! {
            <History history=call.history.clone() original=call.output.clone() kind=call.output_kind editor/>
        })}
        <details class="metadata">
            <summary>"Metadata"</summary>
            <pre class="text mono">{metadata}</pre>
        </details>
    }
}

/// Skipping with a reason: links that say why, so leads see what makes calls hard to judge.
#[component]
fn SkipMenu(href: String) -> impl IntoView {
    view! {
        <details class="skip-menu" data-testid="skip-menu">
            <summary class="button ghost">"Skip because…"</summary>
            <ul class="menu">
                {SkipReason::ALL.into_iter().map(|reason| {
                    let link = format!("{href}&reason={}", reason.as_str());
                    view! { <li><a href=link data-reason=reason.as_str()>{reason.label()}</a></li> }
                }).collect_view()}
            </ul>
        </details>
    }
}

/// The operation's description and review guidelines, so every reviewer judges by the same
/// rules; collapsible. `html` was rendered from Markdown and sanitized on the server.
#[component]
fn Guidelines(operation: String, description: String, html: String) -> impl IntoView {
    if description.is_empty() && html.is_empty() {
        return ().into_any();
    }
    let has_rules = !html.is_empty();
    view! {
        <details class="guidelines" open=has_rules data-testid="guidelines">
            <summary>
                <strong>{if has_rules { "Review guidelines" } else { "About this operation" }}</strong>
                <span class="subtle">" · "{operation}</span>
                {(!description.is_empty()).then(|| view! { <span class="guidelines-description" dir="auto">" — "{description}</span> })}
            </summary>
            {has_rules.then(|| view! { <div class="guidelines-body prose" inner_html=html></div> })}
        </details>
    }
    .into_any()
}

/// The revisions, newest first: who, when, the verdict, what changed against the revision
/// before (the first against the original), and a button that copies it into the editor.
#[component]
fn History(
    history: Vec<Review>,
    original: String,
    kind: crate::model::OutputKind,
    editor: EditorState,
) -> impl IntoView {
    // Newest first: the revision before entry i is entry i + 1.
    let outputs: Vec<String> = history
        .iter()
        .map(|r| {
            r.corrected_output
                .clone()
                .unwrap_or_else(|| original.clone())
        })
        .collect();
    let items = history
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let (before, against) = match history.get(i + 1) {
                Some(prev) => (outputs[i + 1].clone(), format!("Output against revision #{}", prev.revision)),
                None => (original.clone(), "Output against the original".to_string()),
            };
            let after = outputs[i].clone();
            let changed = before != after;
            let restore = {
                let review = r.clone();
                let original = original.clone();
                move |_| {
                    editor.restore(&review, &original);
                    #[cfg(feature = "hydrate")]
                    if let Some(field) = document().query_selector("[data-key=editor]").ok().flatten() {
                        use leptos::wasm_bindgen::JsCast;
                        if let Ok(field) = field.dyn_into::<leptos::web_sys::HtmlElement>() {
                            let _ = field.focus();
                        }
                    }
                }
            };
            let tags = r.tags.join(", ");
            view! {
                <li data-testid="revision">
                    <div class="revision-line">
                        <span class="mono">"#"{r.revision}</span>
                        <VerdictBadge verdict=r.verdict/>
                        <span>"by "<strong>{r.reviewer.clone()}</strong></span>
                        <span class="subtle">{figures::full_time(&r.created_at)}</span>
                        {r.sampled.then(|| view! { <span class="chip">"sampled"</span> })}
                        {(!tags.is_empty()).then(|| view! { <span class="subtle">"tags: "{tags}</span> })}
                        {(i > 0).then(|| view! {
                            <button type="button" class="link-button" data-testid="restore" on:click=restore>
                                "Restore as new revision"
                            </button>
                        })}
                    </div>
                    {(!r.note.is_empty()).then(|| view! { <p class="revision-note" dir="auto">{r.note.clone()}</p> })}
                    {if changed {
                        // Compared only when opened, in the browser: a page with many long
                        // revisions costs the server no diff at all.
                        let opened = RwSignal::new(false);
                        view! {
                            <details class="revision-diff" on:toggle=move |_| opened.set(true)>
                                <summary>{against}</summary>
                                {move || if opened.get() {
                                    view! { <DiffView old=before.clone() new=after.clone() kind/> }.into_any()
                                } else {
                                    view! { <p class="subtle">"The comparison appears once the page has loaded."</p> }.into_any()
                                }}
                            </details>
                        }.into_any()
                    } else {
                        view! { <p class="subtle revision-same">{format!("{against}: unchanged")}</p> }.into_any()
                    }}
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="history">
            <h2>"Revision history"</h2>
            <ol class="revisions">{items}</ol>
        </section>
    }
}

#[component]
fn Turn(turn: ChatTurn) -> impl IntoView {
    view! {
        <div class=format!("turn turn-{}", turn.role)>
            <div class="turn-role">{turn.role.clone()}</div>
            {(!turn.content.is_empty()).then(|| view! { <div class="turn-text" dir=crate::components::long_text::direction(&turn.content)>{turn.content.clone()}</div> })}
            {turn.tool_calls.into_iter().map(|(name, arguments)| view! {
                <div class="tool-call">
                    <div class="tool-name mono">{name}"()"</div>
                    <pre class="mono">{arguments}</pre>
                </div>
            }).collect_view()}
        </div>
    }
}
