//! The review editor beside a call's output: verdict, corrected output (prefilled with the
//! current correction, else the original), failure tags picked from the operation's list or
//! typed, and a note. Saves name the revision they were based on; a stale one is refused and
//! the editor keeps the text and rebases on the newer revision. Unsaved text is kept in the
//! browser (see `drafts`) and leaving with it asks first. Before hydration the editor is a
//! plain form post.

use leptos::prelude::*;

use crate::api::reviews::{check_correction, SaveReview};
use crate::components::diff::DiffView;
use crate::components::drafts::{self, Draft};
use crate::components::figures;
use crate::components::verdict::VerdictBadge;
use crate::components::violations::Violations;
use crate::model::operation::TagChoice;
use crate::model::review::{tag_names, SaveOutcome};
use crate::model::{OutputKind, Review, Verdict};

/// The editor's fields as signals, shared with the history (which can restore a revision
/// into them).
#[derive(Clone, Copy)]
pub struct EditorState {
    pub verdict: RwSignal<Option<Verdict>>,
    pub text: RwSignal<String>,
    pub tags: RwSignal<String>,
    pub note: RwSignal<String>,
    /// The revision the next save is based on.
    pub base: RwSignal<i64>,
    /// What the editor held when the page was loaded or last saved.
    pub saved: RwSignal<Draft>,
    /// A line about where the editor's content came from (a restored draft or revision).
    pub notice: RwSignal<Option<String>>,
}

impl EditorState {
    /// The editor for a call whose output is `original` and current review `review`.
    pub fn new(original: &str, review: Option<&Review>) -> EditorState {
        let saved = match review {
            Some(r) => review_draft(r, original),
            None => Draft {
                verdict: None,
                text: original.to_string(),
                tags: String::new(),
                note: String::new(),
            },
        };
        EditorState {
            verdict: RwSignal::new(saved.verdict),
            text: RwSignal::new(saved.text.clone()),
            tags: RwSignal::new(saved.tags.clone()),
            note: RwSignal::new(saved.note.clone()),
            base: RwSignal::new(review.map_or(0, |r| r.revision)),
            saved: RwSignal::new(saved),
            notice: RwSignal::new(None),
        }
    }

    pub fn draft(&self) -> Draft {
        Draft {
            verdict: self.verdict.get(),
            text: self.text.get(),
            tags: self.tags.get(),
            note: self.note.get(),
        }
    }

    pub fn load(&self, draft: Draft) {
        self.verdict.set(draft.verdict);
        self.text.set(draft.text);
        self.tags.set(draft.tags);
        self.note.set(draft.note);
    }

    /// Copies a revision into the editor; saving it makes it the newest revision.
    pub fn restore(&self, review: &Review, original: &str) {
        self.load(review_draft(review, original));
        self.notice.set(Some(format!(
            "Revision #{} is in the editor. Save to make it the newest revision.",
            review.revision
        )));
    }
}

/// A saved revision as editor content (a correct verdict shows the original).
fn review_draft(review: &Review, original: &str) -> Draft {
    Draft {
        verdict: Some(review.verdict),
        text: review
            .corrected_output
            .clone()
            .unwrap_or_else(|| original.to_string()),
        tags: review.tags.join(", "),
        note: review.note.clone(),
    }
}

/// The list with `tag` added, or removed when it is there.
fn toggle_tag(list: &str, tag: &str) -> String {
    let mut names: Vec<&str> = tag_names(list).collect();
    if let Some(at) = names.iter().position(|t| *t == tag) {
        names.remove(at);
    } else {
        names.push(tag);
    }
    names.join(", ")
}

#[component]
pub fn EditorPane(
    call_id: String,
    /// The call's operation, for the live check of a `json` correction.
    operation: String,
    /// The operation has a JSON Schema that corrections must meet.
    has_schema: bool,
    original: String,
    kind: OutputKind,
    review: Option<Review>,
    /// The failure tags the call's operation offers, with what each means.
    operation_tags: Vec<TagChoice>,
    editor: EditorState,
    save: ServerAction<SaveReview>,
    /// Set to where the page goes after a save made with "Save and next".
    advance: RwSignal<bool>,
) -> impl IntoView {
    let dirty = Memo::new(move |_| editor.draft() != editor.saved.get());
    let show_diff = RwSignal::new(false);

    // A conflict rebases the editor on the newer revision, keeping the text; a save clears
    // the kept draft.
    let id = call_id.clone();
    Effect::new(move |_| match save.value().get() {
        Some(Ok(SaveOutcome::Conflict {
            current_revision, ..
        })) => editor.base.set(current_revision),
        Some(Ok(SaveOutcome::Saved { .. })) => {
            drafts::discard(&id);
            editor.saved.set(untrack(|| editor.draft()));
        }
        _ => {}
    });
    // In the browser: bring back a draft kept for this call, then keep every change.
    let id = call_id.clone();
    Effect::new(move |first: Option<()>| {
        if first.is_none() {
            if let Some(kept) = drafts::load(&id).filter(|d| *d != editor.saved.get_untracked()) {
                editor.load(kept);
                editor.notice.set(Some(
                    "Your unsaved changes to this review were restored.".into(),
                ));
            }
        }
        let unsaved = dirty.get();
        if unsaved {
            drafts::keep(&id, &editor.draft());
        } else {
            drafts::discard(&id);
        }
        drafts::mark_unsaved(unsaved);
    });
    on_cleanup(|| drafts::mark_unsaved(false));
    #[cfg(feature = "hydrate")]
    {
        let guard = window_event_listener(leptos::ev::beforeunload, move |ev| {
            if dirty.get_untracked() {
                ev.prevent_default();
                ev.set_return_value("");
            }
        });
        on_cleanup(move || guard.remove());
    }
    let discard = {
        let id = call_id.clone();
        move |_| {
            drafts::discard(&id);
            editor.load(editor.saved.get_untracked());
            editor.notice.set(None);
        }
    };

    // A `json` correction is checked on the server as the reviewer types (once they pause),
    // so every broken rule shows with its path before they save. Browser only: a plain
    // signal set by a task, so the server's render never waits on it.
    let check = RwSignal::new(None::<crate::model::operation::CorrectionCheck>);
    if kind == OutputKind::Json {
        let generation = StoredValue::new(0u64);
        Effect::new(move |_| {
            let text = editor.text.get();
            let incorrect = editor.verdict.get() == Some(Verdict::Incorrect);
            generation.update_value(|g| *g += 1);
            let mine = generation.get_value();
            if !incorrect {
                check.set(None);
                return;
            }
            let operation = operation.clone();
            set_timeout(
                move || {
                    if generation.get_value() != mine {
                        return;
                    }
                    leptos::task::spawn_local(async move {
                        let result = check_correction(operation, text).await.ok();
                        // Only the answer for the text still in the editor is shown.
                        if generation.get_value() == mine {
                            check.set(result);
                        }
                    });
                },
                std::time::Duration::from_millis(350),
            );
        });
    }
    let live_check = move || {
        let result = check.get()?;
        Some(if let Some(reason) = result.not_json {
            view! { <p class="live-check bad" data-testid="live-check">"Not valid JSON yet: "{reason}</p> }.into_any()
        } else if result.count > 0 {
            view! {
                <div class="live-check bad" data-testid="live-check">
                    <p>{format!("Breaks {} rule{} of the operation's JSON Schema:", result.count, if result.count == 1 { "" } else { "s" })}</p>
                    <Violations violations=result.violations/>
                </div>
            }.into_any()
        } else if has_schema {
            view! { <p class="live-check ok" data-testid="live-check">"Meets the operation's JSON Schema."</p> }.into_any()
        } else {
            view! { <p class="live-check ok" data-testid="live-check">"Valid JSON."</p> }.into_any()
        })
    };

    let initial = editor.saved.get_untracked();
    // Fixed for a long text (see `direction`): `auto` would re-scan it on every keystroke.
    let text_dir = crate::components::long_text::direction(&initial.text);
    let heading = match &review {
        Some(r) => format!("Review #{} · {}", r.revision, r.reviewer),
        None => "Review".to_string(),
    };
    let verdict_is = move |v: Verdict| move || editor.verdict.get() == Some(v);
    let chips = operation_tags
        .into_iter()
        .map(|TagChoice { name: tag, description, listed }| {
            let name = tag.clone();
            let title = match (description.is_empty(), listed) {
                (false, _) => Some(description),
                (true, false) => Some("Not on the operation's list: used by past reviews".to_string()),
                (true, true) => None,
            };
            let class = if listed { "tag-chip" } else { "tag-chip unlisted" };
            let on = {
                let name = name.clone();
                move || tag_names(&editor.tags.get()).any(|t| t == name)
            };
            view! {
                <button type="button" class=class aria-pressed=move || on().to_string()
                    data-testid="tag-chip" title=title
                    on:click=move |_| editor.tags.update(|list| *list = toggle_tag(list, &name))>
                    {tag}
                </button>
            }
        })
        .collect_view();
    view! {
        <section class="pane editor" data-testid="editor-pane">
            <h2 class="pane-title">{heading}</h2>
            <ActionForm action=save>
                <div class="pane-body review-form">
                    {review.as_ref().map(|r| view! {
                        <p class="review-line">
                            <VerdictBadge verdict=r.verdict/>
                            <span class="subtle">{figures::full_time(&r.created_at)}</span>
                            {r.sampled.then(|| view! { <span class="chip" title="Drawn at random by the review queue">"sampled"</span> })}
                        </p>
                    })}
                    {move || editor.notice.get().map(|notice| view! {
                        <p class="editor-notice" role="status" data-testid="editor-notice">
                            {notice}" "
                            <button type="button" class="link-button" on:click=discard.clone() data-testid="editor-discard">
                                "Discard changes"
                            </button>
                        </p>
                    })}
                    <input type="hidden" name="id" value=call_id/>
                    <input type="hidden" name="base_revision" value=editor.base.get_untracked().to_string()
                        prop:value=move || editor.base.get().to_string() data-testid="editor-base"/>
                    <fieldset class="verdict-choice">
                        <legend class="field-label">"Verdict"</legend>
                        <label class="check verdict-correct">
                            <input type="radio" name="verdict" value="correct" data-key="correct" data-testid="verdict-correct"
                                checked=initial.verdict == Some(Verdict::Correct) prop:checked=verdict_is(Verdict::Correct)
                                on:change=move |_| editor.verdict.set(Some(Verdict::Correct))/>
                            "Correct"<kbd>"c"</kbd>
                        </label>
                        <label class="check verdict-incorrect">
                            <input type="radio" name="verdict" value="incorrect" data-key="incorrect" data-testid="verdict-incorrect"
                                checked=initial.verdict == Some(Verdict::Incorrect) prop:checked=verdict_is(Verdict::Incorrect)
                                on:change=move |_| editor.verdict.set(Some(Verdict::Incorrect))/>
                            "Incorrect"<kbd>"x"</kbd>
                        </label>
                    </fieldset>
                    <label class="field">
                        <span class="field-label">"Corrected output (for an incorrect verdict)"</span>
                        <textarea name="corrected_output" rows="12" dir=text_dir spellcheck="false" data-key="editor" data-testid="editor"
                            prop:value=move || editor.text.get()
                            on:input=move |ev| editor.text.set(event_target_value(&ev))>{initial.text.clone()}</textarea>
                    </label>
                    {live_check}
                    <div class="diff-toggle">
                        <button class="button ghost" type="button" data-key="diff" data-testid="diff-toggle"
                            aria-pressed=move || show_diff.get().to_string()
                            on:click=move |_| show_diff.update(|on| *on = !*on)>
                            {move || if show_diff.get() { "Hide diff" } else { "Show diff against the original" }}
                            <kbd>"d"</kbd>
                        </button>
                    </div>
                    {move || show_diff.get().then(|| {
                        let original = original.clone();
                        view! { <DiffView old=original new=editor.text.get() kind/> }
                    })}
                    <div class="field">
                        <label class="field-label" for="editor-tags">"Failure tags"</label>
                        <div class="tag-chips">{chips}</div>
                        <input id="editor-tags" name="tags" value=initial.tags.clone() placeholder="pick above or type, comma-separated: wrong_amount, hallucination"
                            prop:value=move || editor.tags.get() data-testid="editor-tags"
                            on:input=move |ev| editor.tags.set(event_target_value(&ev))/>
                    </div>
                    <label class="field">
                        <span class="field-label">"Note"</span>
                        <textarea name="note" rows="2" dir="auto" data-testid="editor-note"
                            prop:value=move || editor.note.get()
                            on:input=move |ev| editor.note.set(event_target_value(&ev))>{initial.note.clone()}</textarea>
                    </label>
                    <div class="editor-actions">
                        <button class="button" type="submit" data-testid="editor-save"
                            disabled=move || save.pending().get()
                            on:click=move |_| advance.set(false)>
                            "Save"
                        </button>
                        <button class="button primary" type="submit" data-key="save-next" data-testid="editor-save-next"
                            disabled=move || save.pending().get()
                            on:click=move |_| advance.set(true)>
                            "Save and next"<kbd>"Ctrl ↵"</kbd>
                        </button>
                        {move || dirty.get().then(|| view! { <span class="subtle" data-testid="editor-unsaved">"Unsaved changes"</span> })}
                        {move || match save.value().get() {
                            Some(Ok(SaveOutcome::Saved { revision })) => view! {
                                <span class="saved" role="status" data-testid="editor-result">{format!("Saved as revision {revision}.")}</span>
                            }.into_any(),
                            Some(Ok(outcome @ SaveOutcome::Conflict { .. })) => view! {
                                <span class="form-error" role="alert" data-testid="editor-result">
                                    {format!("Not saved: {}. Your text is kept; save again to replace it.", outcome.conflict_message().unwrap_or_default())}
                                </span>
                            }.into_any(),
                            Some(Ok(SaveOutcome::Invalid(error))) => view! {
                                <span class="form-error" role="alert" data-testid="editor-result">{error.reason}</span>
                                <Violations violations=error.violations/>
                            }.into_any(),
                            Some(Ok(SaveOutcome::NotFound)) => view! {
                                <span class="form-error" role="alert" data-testid="editor-result">"This call no longer exists; nothing was saved."</span>
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picking_a_tag_adds_it_once_and_picking_it_again_removes_it() {
        assert_eq!(toggle_tag("", "format"), "format");
        assert_eq!(
            toggle_tag("wrong_amount, format", "hallucination"),
            "wrong_amount, format, hallucination"
        );
        assert_eq!(
            toggle_tag(" wrong_amount ,format,", "format"),
            "wrong_amount"
        );
        assert_eq!(tag_names(" a, ,b ,").collect::<Vec<_>>(), vec!["a", "b"]);
    }
}
