//! `/operations`: every operation with its figures, and a form to define a new one before its
//! first call arrives. `/operations/{name}`: one operation's settings (what each changes is
//! said beside it), its failure-tag list with rename, merge, retire and describe, how its
//! recent outputs fare against its JSON Schema, and its queue skips beside the sampled
//! accuracy. Every form works without JavaScript (it posts to its server function).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};

use crate::api::operations::{
    list_operations, load_operation, ChangeTag, CreateOperation, SaveAlert, SaveOperation,
};
use crate::components::alerts::{AlertForm, AlertHistory};
use crate::components::failure::Failure;
use crate::components::figures;
use crate::components::grid::Grid;
use crate::error::AppError;
use crate::model::operation::{ApplyOutcome, OperationSummary, OperationView, SchemaReport};
use crate::model::skips::SkipSummary;
use crate::model::{encode_query, with_query, OutputKind};

mod tags;

use tags::Tags;

fn share(part: i64, whole: i64) -> String {
    if whole == 0 {
        "—".into()
    } else {
        format!("{:.0}%", part as f64 * 100.0 / whole as f64)
    }
}

fn n(count: i64) -> String {
    figures::count(count.max(0) as u64)
}

fn feed_href(operation: &str) -> String {
    with_query(
        "/calls",
        &encode_query(&[("operation", operation.to_string())]),
    )
}

#[component]
pub fn OperationsPage() -> impl IntoView {
    let create = ServerAction::<CreateOperation>::new();
    let list = Resource::new(move || create.version().get(), |_| list_operations());
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(name)) = create.value().get() {
            navigate(&format!("/operations/{name}"), Default::default());
        }
    });
    view! {
        <Title text="Operations"/>
        <div class="page operations-page">
            <div class="page-head">
                <h1>"Operations"</h1>
                <p class="subtle">"What each operation returns, how reviewers judge it and which failure tags it uses"</p>
            </div>
            <section class="card">
                <h2>"Define an operation"</h2>
                <p class="subtle">"Define it before its first call arrives, so reviewers find its guidelines and tags from the start. Calls name it in their "<code>"operation"</code>" field."</p>
                <ActionForm action=create attr:class="inline-form">
                    <label class="field grow">
                        <span class="field-label">"Name"</span>
                        <input name="name" required maxlength="64" placeholder="billing_extract"
                            pattern="[a-z][a-z0-9_.\\-]{0,63}" data-testid="operation-name"/>
                    </label>
                    <button class="button primary" type="submit" data-testid="operation-create"
                        disabled=move || create.pending().get()>"Define"</button>
                </ActionForm>
                {move || match create.value().get() {
                    Some(Err(error)) => Some(view! { <p class="form-error" role="alert">{error.to_string()}</p> }),
                    _ => None,
                }}
            </section>
            <Transition fallback=|| view! { <p class="subtle">"Loading operations…"</p> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Ok(list) if list.is_empty() => view! {
                            <section class="panel empty" data-testid="operations-empty">
                                <h2>"No operations yet"</h2>
                                <p>"An operation appears when its first call is ingested, or when you define it above."</p>
                            </section>
                        }.into_any(),
                        Ok(list) => view! { <OperationTable list/> }.into_any(),
                        Err(error) => view! { <Failure title="The operations could not be loaded" error/> }.into_any(),
                    }
                })}
            </Transition>
        </div>
    }
}

#[component]
fn OperationTable(list: Vec<OperationSummary>) -> impl IntoView {
    let rows = list
        .into_iter()
        .map(|op| {
            let href = format!("/operations/{}", op.name);
            let tags = op
                .top_tags
                .iter()
                .take(5)
                .map(|(tag, n)| view! { <span class="chip" title=format!("{n} reviews")>{tag.clone()}</span> })
                .collect_view();
            view! {
                <tr data-testid="operation-row">
                    <td>
                        <a href=href class="strong" data-testid="operation-link">{op.name.clone()}</a>
                        {(!op.description.is_empty()).then(|| view! { <div class="subtle row-note" dir="auto">{op.description.clone()}</div> })}
                    </td>
                    <td><span class="chip">{op.output_kind.as_str()}</span></td>
                    <td class="num"><a href=feed_href(&op.name)>{n(op.calls)}</a></td>
                    <td class="num" title=format!("{} of {} calls reviewed", op.reviewed, op.calls)>{share(op.reviewed, op.calls)}</td>
                    <td class="tag-list">{tags}</td>
                    <td class="col-time">{op.last_call_at.as_ref().map(figures::short_time).unwrap_or_else(|| "no calls yet".into())}</td>
                    <td>{if op.configured {
                        view! { <span class="badge badge-correct">"configured"</span> }.into_any()
                    } else {
                        view! { <span class="badge badge-unreviewed" title="Created by its first call; nobody has set it up">"not configured"</span> }.into_any()
                    }}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <Grid columns=&["Operation", "Output", "Calls", "Reviewed", "Tags in use", "Last call", "Settings"]>{rows}</Grid>
    }
}

#[component]
pub fn OperationPage() -> impl IntoView {
    let params = use_params_map();
    let name = Memo::new(move |_| params.read().get("name").unwrap_or_default());
    let save = ServerAction::<SaveOperation>::new();
    let change = ServerAction::<ChangeTag>::new();
    let alert = ServerAction::<SaveAlert>::new();
    let view = Resource::new(
        move || {
            (
                name.get(),
                save.version().get(),
                change.version().get(),
                alert.version().get(),
            )
        },
        |(name, ..)| load_operation(name),
    );
    view! {
        <div class="page operation-page">
            <nav class="crumbs"><a href="/operations">"Operations"</a>" / "{move || name.get()}</nav>
            <Transition fallback=|| view! { <p class="subtle">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match view.await {
                        Ok(Some(op)) => view! { <Operation op save change alert/> }.into_any(),
                        Ok(None) => view! {
                            <Title text="No such operation"/>
                            <section class="panel empty" data-testid="operation-missing">
                                <h1>"No such operation"</h1>
                                <p>"No operation has this name. Define it on the operations page."</p>
                                <a class="button" href="/operations">"All operations"</a>
                            </section>
                        }.into_any(),
                        Err(error) => view! { <Failure title="The operation could not be loaded" error/> }.into_any(),
                    }
                })}
            </Transition>
        </div>
    }
}

/// What the last change did: each change in a line, or why it was refused.
#[component]
fn Outcome(
    value: Signal<Option<Result<ApplyOutcome, AppError>>>,
    testid: &'static str,
) -> impl IntoView {
    move || {
        match value.get() {
        Some(Ok(outcome)) if outcome.changes.is_empty() => view! {
            <p class="form-note" role="status" data-testid=testid>"Nothing to change: the settings already were so."</p>
        }
        .into_any(),
        Some(Ok(outcome)) => view! {
            <div class="form-note" role="status" data-testid=testid>
                <strong>"Saved."</strong>
                <ul>{outcome.changes.into_iter().map(|c| view! { <li>{c}</li> }).collect_view()}</ul>
            </div>
        }
        .into_any(),
        Some(Err(error)) => view! {
            <p class="form-error" role="alert" data-testid=testid>
                {error.field().map(|f| format!("{f}: ")).unwrap_or_default()}{error.to_string()}
            </p>
        }
        .into_any(),
        None => ().into_any(),
    }
    }
}

#[component]
fn Operation(
    op: OperationView,
    save: ServerAction<SaveOperation>,
    change: ServerAction<ChangeTag>,
    alert: ServerAction<SaveAlert>,
) -> impl IntoView {
    let d = op.definition.clone();
    let name = d.name.clone();
    let version = op.version.to_string();
    let schema_text = d
        .json_schema
        .as_ref()
        .and_then(|s| serde_json::to_string_pretty(s).ok())
        .unwrap_or_default();
    let target = d
        .accuracy_target
        .map(|t| format!("{}", (t * 1000.0).round() / 10.0))
        .unwrap_or_default();
    let kind = RwSignal::new(d.output_kind);
    let settings_fields = view! {
        <input type="hidden" name="name" value=name.clone()/>
        <input type="hidden" name="version" value=version.clone()/>
    };
    view! {
        <Title text=format!("{name} · operation")/>
        <div class="page-head">
            <h1><span class="chip">{name.clone()}</span></h1>
            {if op.configured_at.is_some() {
                view! { <span class="badge badge-correct">"configured"</span> }.into_any()
            } else {
                view! { <span class="badge badge-unreviewed">"not configured"</span> }.into_any()
            }}
            <span class="subtle">
                "created "{figures::short_time(&op.created_at)}
                {op.configured_at.as_ref().map(|at| format!(" · changed {}", figures::short_time(at)))}
            </span>
            <span class="head-links">
                <a class="button" href=feed_href(&name)>"Calls"</a>
                <a class="button" href=with_query("/review", &encode_query(&[("operation", name.clone())]))>"Review queue"</a>
            </span>
        </div>
        <Sample skips=op.skips.clone() target=d.accuracy_target min_reviews=d.min_reviews/>
        <section class="card settings" data-testid="settings">
            <h2>"Settings"</h2>
            <ActionForm action=save>
                {settings_fields}
                <div class="settings-grid">
                    <label class="field">
                        <span class="field-label">"Description"</span>
                        <textarea name="description" rows="2" maxlength="2000" dir="auto" data-testid="description">{d.description.clone()}</textarea>
                        <span class="hint">"One line on what this operation does; reviewers see it above every call."</span>
                    </label>
                    <div class="field-row">
                        <label class="field">
                            <span class="field-label">"Output kind"</span>
                            <select name="output_kind" data-testid="output-kind"
                                on:change=move |ev| kind.set(OutputKind::parse(&event_target_value(&ev)).unwrap_or(OutputKind::Text))>
                                {[OutputKind::Text, OutputKind::Json].into_iter().map(|k| view! {
                                    <option value=k.as_str() selected=k == d.output_kind>{k.as_str()}</option>
                                }).collect_view()}
                            </select>
                            <span class="hint">"json: corrections must parse (and meet the schema below); the diff compares JSON."</span>
                        </label>
                        <label class="field">
                            <span class="field-label">"Accuracy target (%)"</span>
                            <input name="accuracy_target" inputmode="decimal" value=target placeholder="none" data-testid="accuracy-target"/>
                            <span class="hint">"Drawn as a line on trends; routing flags models below it."</span>
                        </label>
                        <label class="field">
                            <span class="field-label">"Minimum reviews"</span>
                            <input name="min_reviews" inputmode="numeric" value=d.min_reviews.to_string() data-testid="min-reviews"/>
                            <span class="hint">"A figure from fewer reviews shows as “too few reviews”, never as a value."</span>
                        </label>
                    </div>
                    <label class="field" class:muted=move || kind.get() != OutputKind::Json>
                        <span class="field-label">"JSON Schema (draft 2020-12)"</span>
                        <textarea name="json_schema" rows="8" class="mono" spellcheck="false" data-testid="json-schema"
                            placeholder="{\"type\": \"object\", \"required\": [\"amount\"]}">{schema_text}</textarea>
                        <span class="hint">"For json operations: every correction must meet it, and the editor lists each broken rule with its path. References must stay inside the schema ("<code>"#/$defs/…"</code>"); nothing is fetched."</span>
                    </label>
                    <label class="field">
                        <span class="field-label">"Review guidelines (Markdown)"</span>
                        <textarea name="guidelines" rows="8" dir="auto" data-testid="guidelines-input">{d.guidelines.clone()}</textarea>
                        <span class="hint">"Shown beside the editor on every call and in the queue, so every reviewer judges by the same rules. HTML is shown as text."</span>
                    </label>
                    <label class="check">
                        <input type="checkbox" name="listed_tags_only" checked=d.listed_tags_only data-testid="listed-only"/>
                        "Reviewers may only pick listed tags (a review with any other tag is refused)"
                    </label>
                </div>
                <div class="form-actions">
                    <button class="button primary" type="submit" data-testid="settings-save" disabled=move || save.pending().get()>"Save settings"</button>
                </div>
            </ActionForm>
            <Outcome value=Signal::derive(move || save.value().get()) testid="settings-outcome"/>
        </section>
        {op.schema_report.clone().map(|report| view! { <SchemaCheck report operation=name.clone()/> })}
        <Tags op=op.clone() change/>
        <AlertForm operation=name.clone() rule=op.alert.clone() action=alert/>
        <AlertHistory status=op.alert_status.clone() target=d.accuracy_target min_reviews=u64::try_from(d.min_reviews).unwrap_or(0)/>
        <Skips skips=op.skips.clone()/>
    }
}

/// Sampled accuracy with its sample size, beside the skip rate that qualifies it.
#[component]
fn Sample(skips: SkipSummary, target: Option<f64>, min_reviews: i64) -> impl IntoView {
    let accuracy = if skips.sampled == 0 {
        "no sampled reviews yet".to_string()
    } else if skips.sampled < min_reviews {
        format!("too few reviews ({} of {min_reviews})", skips.sampled)
    } else {
        format!(
            "{} of {}",
            share(skips.sampled_correct, skips.sampled),
            skips.sampled
        )
    };
    let rate = skips
        .rate()
        .map(|r| format!("{:.0}%", r * 100.0))
        .unwrap_or_else(|| "—".into());
    let high = skips.rate().is_some_and(|r| r > 0.2);
    view! {
        <dl class="facts sample" data-testid="sample">
            <div><dt>"Sampled accuracy"</dt><dd>{accuracy}</dd></div>
            <div><dt>"Target"</dt><dd>{target.map(|t| format!("{:.1}%", t * 100.0)).unwrap_or_else(|| "none".into())}</dd></div>
            <div class:warn=high title="Skips as a share of queue draws that ended in a skip or a sampled review">
                <dt>"Skip rate"</dt><dd data-testid="skip-rate">{rate}" ("{skips.skips}" skips)"</dd>
            </div>
        </dl>
    }
}

#[component]
fn SchemaCheck(report: SchemaReport, operation: String) -> impl IntoView {
    let clean = report.failing_outputs == 0 && report.failing_corrections == 0;
    let examples = report
        .examples
        .into_iter()
        .map(|f| {
            let href = with_query(
                &format!("/calls/{}", f.call_id),
                &encode_query(&[("operation", operation.clone())]),
            );
            view! {
                <li>
                    <a class="mono" href=href>{f.call_id.chars().take(8).collect::<String>()}</a>
                    " · "{if f.correction { "correction" } else { "output" }}" · "
                    <span class="subtle">{f.problem}</span>
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="card" data-testid="schema-report">
            <h2>"Schema check"</h2>
            <p>
                "Of the "{n(report.checked)}" newest calls, "
                <strong data-testid="failing-outputs">{n(report.failing_outputs)}</strong>" outputs and "
                <strong data-testid="failing-corrections">{n(report.failing_corrections)}</strong>" of "
                {n(report.corrections)}" corrections fail the schema"
                {if clean { ": every one meets it." } else { "." }}
                {(report.too_long > 0).then(|| format!(" {} texts over 64 K characters were not checked.", report.too_long))}
            </p>
            {(!clean).then(|| view! {
                <p class="subtle">"The first failures, newest first:"</p>
                <ul class="failures">{examples}</ul>
            })}
        </section>
    }
}

#[component]
fn Skips(skips: SkipSummary) -> impl IntoView {
    let reasons = skips
        .by_reason
        .iter()
        .map(|c| {
            view! {
                <tr><td>{c.reason.map_or("no reason given", |r| r.label())}</td><td class="num">{c.count}</td></tr>
            }
        })
        .collect_view();
    let reviewers = skips
        .by_reviewer
        .iter()
        .map(|(who, n)| view! { <tr><td>{who.clone()}</td><td class="num">{*n}</td></tr> })
        .collect_view();
    view! {
        <section class="card" data-testid="skips">
            <h2>"Queue skips"</h2>
            <p class="subtle">"The review queue draws calls at random so that sampled accuracy stands for all calls. Calls reviewers skip are left out of that sample, and they are rarely the easy ones: a high skip rate makes the sampled accuracy look better than it is. The reasons say what reviewers need."</p>
            {if skips.skips == 0 {
                view! { <p data-testid="no-skips">"No skips."</p> }.into_any()
            } else {
                view! {
                    <div class="two-tables">
                        <Grid columns=&["Reason", "Skips"]>{reasons}</Grid>
                        <Grid columns=&["Reviewer", "Skips"]>{reviewers}</Grid>
                    </div>
                }.into_any()
            }}
        </section>
    }
}
