//! The new-export form: the filter (from the URL, as "Export this view" carries it), the
//! format and options, the live counts of what the export would hold, and the redaction
//! preview, all before anything is built.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde_json::{json, Map, Value};

use crate::api::calls::load_filter_choices;
use crate::api::exports::{preview_export, CreateExport, PreviewAnswer};
use crate::components::figures::count;
use crate::model::export::{ExportFormat, MAX_VALIDATION_PERCENT};
use crate::model::{FilterChoices, Verdict};

const FILTER_KEYS: [(&str, &str); 8] = [
    ("operation", "Operation"),
    ("verdict", "Verdict"),
    ("model", "Model"),
    ("model_version", "Model version"),
    ("from", "From"),
    ("to", "To"),
    ("tag", "Tag"),
    ("reviewer", "Reviewer"),
];

fn format_help(format: ExportFormat) -> &'static str {
    match format {
        ExportFormat::ChatJsonl => "One {\"messages\": […]} per example: the input turns, then the correction as the assistant's answer. For OpenAI, Together, Fireworks, Mistral, TRL and axolotl.",
        ExportFormat::PreferenceJsonl => "Correction preferred, original rejected (DPO), from incorrect calls with a correction.",
        ExportFormat::Jsonl => "Every call the filter matches, with every field and its current review.",
        ExportFormat::Csv => "The same as JSONL, flattened into columns (RFC 4180, UTF-8).",
    }
}

/// The values a filter field suggests (the feed's choices); none for the dates.
fn suggestions(key: &str, choices: &FilterChoices) -> Vec<String> {
    let mut values: Vec<String> = match key {
        "operation" => choices.operations.clone(),
        "verdict" => Verdict::ALL
            .iter()
            .map(|v| v.as_str().to_string())
            .collect(),
        "model" => choices.models.iter().map(|m| m.model.clone()).collect(),
        "model_version" => choices.models.iter().map(|m| m.version.clone()).collect(),
        "tag" => choices.tags.clone(),
        "reviewer" => choices.reviewers.clone(),
        _ => Vec::new(),
    };
    values.sort();
    values.dedup();
    values
}

/// A number field's value: the number, or the text as typed (the server names the mistake).
fn number(text: &str) -> Value {
    let text = text.trim();
    if text.is_empty() {
        return Value::Null;
    }
    text.parse::<u64>()
        .map(Value::from)
        .unwrap_or_else(|_| Value::String(text.to_string()))
}

#[component]
pub fn NewExport(create: ServerAction<CreateExport>) -> impl IntoView {
    let query = use_query_map();
    let filter: Vec<(&'static str, &'static str, RwSignal<String>)> = FILTER_KEYS
        .iter()
        .map(|(key, label)| {
            let initial = query.with_untracked(|q| q.get(key).unwrap_or_default());
            (*key, *label, RwSignal::new(initial))
        })
        .collect();
    let format = RwSignal::new("chat_jsonl".to_string());
    let style = RwSignal::new("openai".to_string());
    let validation = RwSignal::new("10".to_string());
    let dedupe = RwSignal::new(true);
    let cap = RwSignal::new(String::new());
    let include_correct = RwSignal::new(false);
    let system_mode = RwSignal::new("keep".to_string());
    let system_text = RwSignal::new(String::new());
    let redact = RwSignal::new(false);
    let context_limit = RwSignal::new("16384".to_string());
    let failing = RwSignal::new("skip".to_string());

    let spec_filter = filter.clone();
    let spec = Memo::new(move |_| {
        let mut filter = Map::new();
        for (key, _, value) in &spec_filter {
            let value = value.get();
            if !value.trim().is_empty() {
                filter.insert(key.to_string(), Value::String(value.trim().to_string()));
            }
        }
        let system = match system_mode.get().as_str() {
            "replace" => json!({"mode": "replace", "text": system_text.get()}),
            mode => json!({"mode": mode}),
        };
        json!({
            "format": format.get(),
            "filter": filter,
            "preference_style": style.get(),
            "validation_percent": number(&validation.get()),
            "dedupe": dedupe.get(),
            "max_per_operation": number(&cap.get()),
            "include_correct": include_correct.get(),
            "system": system,
            "redact": redact.get(),
            "context_limit": number(&context_limit.get()),
            "failing_lines": failing.get(),
        })
        .to_string()
    });
    let preview = Resource::new(move || spec.get(), preview_export);
    let is_training =
        move || ExportFormat::parse(&format.get()).is_some_and(ExportFormat::is_training);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        create.dispatch(CreateExport {
            spec: spec.get_untracked(),
        });
    };

    let text_field = |key: &'static str, label: &'static str, value: RwSignal<String>| {
        let kind = if key == "from" || key == "to" {
            "date"
        } else {
            "text"
        };
        view! {
            <label class="field">
                <span class="field-label">{label}</span>
                <input
                    type=kind
                    name=key
                    maxlength="128"
                    list=format!("export-choices-{key}")
                    autocomplete="off"
                    data-testid=format!("export-filter-{key}")
                    prop:value=move || value.get()
                    on:change=move |ev| value.set(event_target_value(&ev))
                />
            </label>
        }
    };

    let choices = Resource::new(|| (), |_| load_filter_choices());
    let datalists = move || {
        Suspend::new(async move {
            let choices = choices.await.unwrap_or_default();
            FILTER_KEYS
                .iter()
                .map(|(key, _)| {
                    let options = suggestions(key, &choices)
                        .into_iter()
                        .map(|value| view! { <option value=value></option> })
                        .collect_view();
                    view! { <datalist id=format!("export-choices-{key}")>{options}</datalist> }
                        .into_any()
                })
                .collect_view()
        })
    };
    let filter_view = view! {
        <fieldset class="export-filter">
            <legend class="field-label">"Calls (the feed's filter)"</legend>
            <div class="field-grid">
                {filter.iter().map(|(key, label, value)| text_field(key, label, *value).into_any()).collect_view()}
            </div>
            <Transition fallback=|| ()>{datalists}</Transition>
        </fieldset>
    }
    .into_any();
    let format_view = view! {
        <fieldset class="export-formats">
            <legend class="field-label">"Format"</legend>
            {ExportFormat::ALL.into_iter().map(|f| view! {
                <label class="format-choice" class:chosen=move || format.get() == f.as_str()>
                    <input
                        type="radio"
                        name="format"
                        value=f.as_str()
                        data-testid=format!("export-format-{}", f.as_str())
                        prop:checked=move || format.get() == f.as_str()
                        on:change=move |_| format.set(f.as_str().to_string())
                    />
                    <span class="format-name mono">{f.as_str()}</span>
                    <span class="subtle">{format_help(f)}</span>
                </label>
            }.into_any()).collect_view()}
        </fieldset>
    }
    .into_any();
    let numbers_view = view! {
        <div class="field-grid">
            <label class="field">
                <span class="field-label">"Validation split (%)"</span>
                <input type="number" min="0" max=MAX_VALIDATION_PERCENT.to_string() data-testid="export-validation"
                    prop:value=move || validation.get()
                    on:change=move |ev| validation.set(event_target_value(&ev))/>
            </label>
            <label class="field">
                <span class="field-label">"At most per operation"</span>
                <input type="number" min="1" placeholder="no limit" data-testid="export-cap"
                    prop:value=move || cap.get()
                    on:change=move |ev| cap.set(event_target_value(&ev))/>
            </label>
            <label class="field">
                <span class="field-label">"Context limit (tokens)"</span>
                <input type="number" min="16" prop:value=move || context_limit.get()
                    on:change=move |ev| context_limit.set(event_target_value(&ev))/>
            </label>
        </div>
    }
    .into_any();
    let choices_view = view! {
        <div class="field-grid wide-fields">
            <label class="field" class:hidden=move || !is_training()>
                <span class="field-label">"Lines failing the format check"</span>
                <select prop:value=move || failing.get() on:change=move |ev| failing.set(event_target_value(&ev))>
                    <option value="skip">"Leave out and list them"</option>
                    <option value="fail">"Fail the export"</option>
                </select>
            </label>
            <label class="field" class:hidden=move || format.get() != "preference_jsonl">
                <span class="field-label">"Preference style"</span>
                <select prop:value=move || style.get() on:change=move |ev| style.set(event_target_value(&ev))>
                    <option value="openai">"OpenAI (preferred / non-preferred)"</option>
                    <option value="trl">"TRL (prompt / chosen / rejected)"</option>
                </select>
            </label>
            <label class="field" class:hidden=move || !is_training()>
                <span class="field-label">"System message"</span>
                <select prop:value=move || system_mode.get() on:change=move |ev| system_mode.set(event_target_value(&ev))>
                    <option value="keep">"Keep the call's"</option>
                    <option value="drop">"Drop it"</option>
                    <option value="replace">"Replace it"</option>
                </select>
            </label>
        </div>
        <label class="field" class:hidden=move || system_mode.get() != "replace" || !is_training()>
            <span class="field-label">"Replacement system message"</span>
            <textarea rows="2" maxlength="20000" prop:value=move || system_text.get()
                on:change=move |ev| system_text.set(event_target_value(&ev))></textarea>
        </label>
    }
    .into_any();
    let checks_view = view! {
        <div class="checks">
            <label class="check"><input type="checkbox" data-testid="export-dedupe" prop:checked=move || dedupe.get()
                on:change=move |ev| dedupe.set(event_target_checked(&ev))/>"One example per identical input (the newest review)"</label>
            <label class="check" class:hidden=move || format.get() != "chat_jsonl"><input type="checkbox" data-testid="export-include-correct" prop:checked=move || include_correct.get()
                on:change=move |ev| include_correct.set(event_target_checked(&ev))/>"Include calls marked correct (their original output)"</label>
            <label class="check"><input type="checkbox" data-testid="export-redact" prop:checked=move || redact.get()
                on:change=move |ev| redact.set(event_target_checked(&ev))/>"Redact e-mail addresses, phone numbers, card numbers and IBANs"</label>
        </div>
    }
    .into_any();
    let preview_view = view! {
        <Transition fallback=|| view! { <p class="subtle">"Counting…"</p> }>
            {move || Suspend::new(async move {
                match preview.await {
                    Ok(answer) => {
                        let empty = answer.counts.total == 0;
                        view! {
                            <Preview answer/>
                            <div class="form-actions">
                                <button class="button primary" type="submit" data-testid="export-create"
                                    disabled=move || empty || create.pending().get()>"Start export"</button>
                            </div>
                        }.into_any()
                    }
                    Err(error) => view! {
                        <p class="form-error" role="alert" data-testid="export-spec-error">{error.to_string()}</p>
                    }.into_any(),
                }
            })}
        </Transition>
    }
    .into_any();
    let outcome_view = move || {
        match create.value().get() {
        Some(Ok(id)) => view! { <p class="form-ok" role="status" data-testid="export-created">{format!("Export #{id} is queued; its progress is below.")}</p> }.into_any(),
        Some(Err(error)) => view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any(),
        None => ().into_any(),
    }
    };

    view! {
        <section class="card export-new">
            <h2>"New export"</h2>
            <form class="export-form" on:submit=on_submit>
                {filter_view}
                {format_view}
                <fieldset class="export-options">
                    <legend class="field-label">"Options"</legend>
                    {numbers_view}
                    {choices_view}
                    {checks_view}
                </fieldset>
                {preview_view}
                {outcome_view}
            </form>
        </section>
    }
}

/// The counts an export of the form's spec would hold, and the redaction preview.
#[component]
fn Preview(answer: PreviewAnswer) -> impl IntoView {
    let counts = answer.counts;
    let partial = answer.counted_through;
    let rows = counts
        .per_operation
        .iter()
        .map(|(operation, [train, validation])| {
            view! {
                <tr>
                    <td class="mono">{operation.clone()}</td>
                    <td class="num">{count(*train)}</td>
                    <td class="num">{count(*validation)}</td>
                </tr>
            }
            .into_any()
        })
        .collect_view();
    let left_out = counts
        .left_out
        .iter()
        .map(|(reason, n)| view! { <li>{format!("{} {reason}", count(*n))}</li> })
        .collect_view();
    let has_left_out = !counts.left_out.is_empty();
    let redactions = answer
        .redactions
        .iter()
        .map(|(kind, n)| format!("{} {kind}", count(*n)))
        .collect::<Vec<_>>()
        .join(" · ");
    let samples = answer
        .samples
        .into_iter()
        .map(|(id, original, redacted)| {
            view! {
                <div class="redaction-sample" data-testid="redaction-sample">
                    <p class="subtle mono">{id}</p>
                    <div class="side-by-side">
                        <pre class="long-text">{original}</pre>
                        <pre class="long-text">{redacted}</pre>
                    </div>
                </div>
            }
            .into_any()
        })
        .collect_view();
    let has_samples = !redactions.is_empty();
    view! {
        <div class="export-preview" data-testid="export-preview">
            <p class="export-total">
                {partial.is_some().then_some("At least ")}
                <strong data-testid="export-total">{count(counts.total)}</strong>" examples · "
                {count(counts.train)}" train · "{count(counts.validation)}" validation"
            </p>
            {partial.map(|through| view! {
                <p class="subtle" data-testid="export-partial">{format!(
                    "Counted the calls up to {through} before the preview's time ran out; the export reads them all."
                )}</p>
            }.into_any())}
            {(counts.total > 0).then(|| view! {
                <table class="compact">
                    <thead><tr><th>"Operation"</th><th class="num">"Train"</th><th class="num">"Validation"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            }.into_any())}
            {has_left_out.then(|| view! { <div class="left-out"><span class="field-label">"Left out"</span><ul>{left_out}</ul></div> }.into_any())}
            {has_samples.then(|| view! {
                <div class="redaction-preview">
                    <p><span class="field-label">"Redaction preview"</span>" "{redactions}{format!(" in the first {} examples", answer.previewed)}</p>
                    {samples}
                </div>
            })}
        </div>
    }
}
