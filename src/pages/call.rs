//! `/calls/{id}`: one call in full — its input as a conversation, its output, the review
//! editor (verdict, correction, tags, note; a plain form post before hydration), its metadata
//! and its review history.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::calls::load_call;
use crate::api::reviews::{SaveResult, SaveReview};
use crate::components::diff::DiffView;
use crate::components::figures;
use crate::components::verdict::VerdictBadge;
use crate::model::{input_turns, CallDetail, ChatTurn, OutputKind, Review, Verdict};

#[component]
pub fn CallPage() -> impl IntoView {
    let params = use_params_map();
    let save = ServerAction::<SaveReview>::new();
    // The call is read again after a save that went through; after a conflict it is not, so
    // the reviewer's text stays in the editor.
    let saves = RwSignal::new(0u32);
    Effect::new(move |_| {
        if let Some(Ok(SaveResult::Saved { .. })) = save.value().get() {
            saves.update(|n| *n += 1);
        }
    });
    let call = Resource::new(
        move || (params.read().get("id").unwrap_or_default(), saves.get()),
        |(id, _)| load_call(id),
    );
    view! {
        <div class="page call-page">
            <Transition fallback=|| view! { <p class="subtle">"Loading call…"</p> }>
                {move || Suspend::new(async move {
                    match call.await {
                        Ok(Some(call)) => view! { <CallView call save/> }.into_any(),
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
fn CallView(call: CallDetail, save: ServerAction<SaveReview>) -> impl IntoView {
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
            <EditorPane
                call_id=call.id.clone()
                original=call.output.clone()
                kind=call.output_kind
                review=review
                save
            />
        </div>
        {(!call.history.is_empty()).then(|| view! {
            <section class="history">
                <h2>"Revision history"</h2>
                <ol class="revisions">
                    {call.history.iter().map(|r| {
                        let correction = r.corrected_output.clone();
                        let original = call.output.clone();
                        let kind = call.output_kind;
                        view! {
                            <li>
                                <span class="mono">"#"{r.revision}</span>" "
                                <VerdictBadge verdict=r.verdict/>" by "{r.reviewer.clone()}
                                " · "{figures::full_time(&r.created_at)}
                                {correction.map(|new| view! {
                                    <details class="revision-diff">
                                        <summary>"Correction against the original"</summary>
                                        <DiffView old=original new kind/>
                                    </details>
                                })}
                            </li>
                        }
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

/// The review editor: verdict, the corrected output (prefilled with the current correction,
/// else the original), failure tags and a note. Saves name the revision they were based on; a
/// stale one is refused, and the editor keeps the text and rebases on the newer revision.
#[component]
fn EditorPane(
    call_id: String,
    original: String,
    kind: OutputKind,
    review: Option<Review>,
    save: ServerAction<SaveReview>,
) -> impl IntoView {
    let base = RwSignal::new(review.as_ref().map_or(0, |r| r.revision));
    Effect::new(move |_| {
        if let Some(Ok(SaveResult::Conflict {
            current_revision, ..
        })) = save.value().get()
        {
            base.set(current_revision);
        }
    });
    let text = review
        .as_ref()
        .and_then(|r| r.corrected_output.clone())
        .unwrap_or_else(|| original.clone());
    // What the editor holds now, for the diff beside it.
    let draft = RwSignal::new(text.clone());
    let show_diff = RwSignal::new(false);
    let verdict = review.as_ref().map(|r| r.verdict);
    let tags = review
        .as_ref()
        .map(|r| r.tags.join(", "))
        .unwrap_or_default();
    let note = review.as_ref().map(|r| r.note.clone()).unwrap_or_default();
    let heading = match &review {
        Some(r) => format!("Review #{} · {}", r.revision, r.reviewer),
        None => "Review".to_string(),
    };
    view! {
        <section class="pane editor" data-testid="editor-pane">
            <h2 class="pane-title">{heading}</h2>
            <ActionForm action=save>
                <div class="pane-body review-form">
                    {review.as_ref().map(|r| view! {
                        <p class="review-line">
                            <VerdictBadge verdict=r.verdict/>
                            <span class="subtle">{figures::full_time(&r.created_at)}</span>
                            {r.sampled.then(|| view! { <span class="chip">"sampled"</span> })}
                        </p>
                    })}
                    <input type="hidden" name="id" value=call_id/>
                    <input type="hidden" name="base_revision" value=base.get_untracked().to_string() prop:value=move || base.get().to_string() data-testid="editor-base"/>
                    <fieldset class="verdict-choice">
                        <legend class="field-label">"Verdict"</legend>
                        <label class="check"><input type="radio" name="verdict" value="correct" checked=verdict == Some(Verdict::Correct) data-testid="verdict-correct"/>"Correct"</label>
                        <label class="check"><input type="radio" name="verdict" value="incorrect" checked=verdict == Some(Verdict::Incorrect) data-testid="verdict-incorrect"/>"Incorrect"</label>
                    </fieldset>
                    <label class="field">
                        <span class="field-label">"Corrected output (for an incorrect verdict)"</span>
                        <textarea name="corrected_output" rows="12" dir="auto" spellcheck="false" data-testid="editor"
                            on:input=move |ev| draft.set(event_target_value(&ev))>{text}</textarea>
                    </label>
                    <div class="diff-toggle">
                        <button class="button ghost" type="button" data-testid="diff-toggle"
                            aria-pressed=move || show_diff.get().to_string()
                            on:click=move |_| show_diff.update(|on| *on = !*on)>
                            {move || if show_diff.get() { "Hide diff" } else { "Show diff against the original" }}
                        </button>
                    </div>
                    {move || show_diff.get().then(|| {
                        let original = original.clone();
                        view! { <DiffView old=original new=draft.get() kind/> }
                    })}
                    <label class="field">
                        <span class="field-label">"Failure tags, comma-separated"</span>
                        <input name="tags" value=tags placeholder="wrong_amount, hallucination" data-testid="editor-tags"/>
                    </label>
                    <label class="field">
                        <span class="field-label">"Note"</span>
                        <textarea name="note" rows="2" dir="auto" data-testid="editor-note">{note}</textarea>
                    </label>
                    <div class="editor-actions">
                        <button class="button primary" type="submit" data-testid="editor-save" disabled=move || save.pending().get()>"Save review"</button>
                        {move || match save.value().get() {
                            Some(Ok(SaveResult::Saved { revision })) => view! {
                                <span class="saved" role="status" data-testid="editor-result">{format!("Saved as revision {revision}.")}</span>
                            }.into_any(),
                            Some(Ok(SaveResult::Conflict { message, .. })) => view! {
                                <span class="form-error" role="alert" data-testid="editor-result">
                                    {format!("Not saved: {message}. Your text is kept; save again to replace it.")}
                                </span>
                            }.into_any(),
                            Some(Ok(SaveResult::Invalid { reason, .. })) => view! {
                                <span class="form-error" role="alert" data-testid="editor-result">{reason}</span>
                            }.into_any(),
                            Some(Err(error)) => view! {
                                <span class="form-error" role="alert" data-testid="editor-result">{error.to_string()}</span>
                            }.into_any(),
                            None => ().into_any(),
                        }}
                    </div>
                </div>
            </ActionForm>
        </section>
    }
}
