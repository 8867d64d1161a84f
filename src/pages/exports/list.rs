//! The exports list: each export's spec in a line, its state with a progress bar and time
//! left while it runs, its files with size and checksum, and cancel or delete.

use leptos::prelude::*;

use crate::api::exports::{CancelExport, DeleteExport};
use crate::components::figures::{bytes, count, full_time, short_time};
use crate::model::export::{ExportInfo, ExportState, SystemMessage};

fn spec_line(export: &ExportInfo) -> String {
    let spec = &export.spec;
    let mut parts: Vec<String> = spec
        .filter
        .to_pairs()
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if parts.is_empty() {
        parts.push("all calls".into());
    }
    if spec.validation_percent > 0 {
        parts.push(format!("{}% validation", spec.validation_percent));
    }
    if spec.dedupe {
        parts.push("dedupe".into());
    }
    if let Some(cap) = spec.max_per_operation {
        parts.push(format!("≤ {cap} per operation"));
    }
    if spec.include_correct {
        parts.push("with correct".into());
    }
    if spec.redact {
        parts.push("redacted".into());
    }
    match &spec.system {
        SystemMessage::Keep => {}
        SystemMessage::Drop => parts.push("no system message".into()),
        SystemMessage::Replace(_) => parts.push("system replaced".into()),
    }
    parts.join(" · ")
}

fn duration(seconds: u64) -> String {
    match seconds {
        0..=59 => format!("{seconds} s"),
        60..=3599 => format!("{} min {} s", seconds / 60, seconds % 60),
        _ => format!("{} h {} min", seconds / 3600, (seconds % 3600) / 60),
    }
}

#[component]
fn Progress(export: ExportInfo) -> impl IntoView {
    let state = export.state;
    let percent = if export.rows_total > 0 {
        (export.rows_done as f64 / export.rows_total as f64 * 100.0).min(100.0)
    } else {
        0.0
    };
    let label = match state {
        ExportState::Queued => "Queued".to_string(),
        ExportState::Running => format!(
            "{} / {} rows{}",
            count(export.rows_done),
            count(export.rows_total),
            export
                .seconds_left
                .map(|s| format!(" · about {} left", duration(s)))
                .unwrap_or_default()
        ),
        ExportState::Done => format!("Done · {} rows", count(export.rows_done)),
        ExportState::Failed => "Failed".to_string(),
        ExportState::Cancelled => "Cancelled".to_string(),
    };
    let running = matches!(state, ExportState::Running | ExportState::Queued);
    view! {
        <div class="export-state" data-testid="export-state" data-state=state.as_str()>
            {running.then(|| view! {
                <div class="progress" role="progressbar" aria-valuemin="0" aria-valuemax="100"
                    aria-valuenow=format!("{percent:.0}") data-testid="export-progress">
                    <div class="progress-bar" style=format!("width: {percent:.1}%")></div>
                </div>
            })}
            <span class=format!("state state-{}", state.as_str())>{label}</span>
            {export.cancel_requested.then(|| view! { <span class="subtle">" · stopping"</span> })}
            {export.error.clone().map(|e| view! { <p class="form-error">{e}</p> })}
        </div>
    }
}

#[component]
pub fn ExportTable(
    list: Vec<ExportInfo>,
    cancel: ServerAction<CancelExport>,
    delete: ServerAction<DeleteExport>,
) -> impl IntoView {
    let rows = list
        .into_iter()
        .map(|export| {
            let id = export.id;
            let state = export.state;
            let spec = spec_line(&export);
            let files = if export.deleted {
                view! { <span class="subtle">"deleted"</span> }.into_any()
            } else {
                let links = export
                    .files
                    .iter()
                    .map(|file| {
                        let href = format!("/exports/{id}/download?part={}", file.part);
                        view! {
                            <li>
                                <a href=href download data-testid=format!("export-download-{}", file.part)>{file.part.clone()}</a>
                                <span class="subtle">{format!(" {} · sha256 {}…", bytes(file.bytes as usize), &file.sha256[..12.min(file.sha256.len())])}</span>
                            </li>
                        }
                    })
                    .collect_view();
                let manifest = (state == ExportState::Done).then(|| {
                    view! { <li><a href=format!("/exports/{id}/download?part=manifest") download>"manifest"</a></li> }
                });
                view! { <ul class="files">{links}{manifest}</ul> }.into_any()
            };
            let can_cancel = !state.is_finished() && !export.cancel_requested;
            let can_delete = state.is_finished() && !export.deleted;
            let checks = export.validation.as_ref().map(|report| {
                let tokens = report
                    .tokens
                    .as_ref()
                    .map(|t| format!("tokens p50 {} · p95 {} · max {} · total {}", count(t.p50), count(t.p95), count(t.max), count(t.total)))
                    .unwrap_or_default();
                let failed = (report.lines_failed > 0).then(|| format!(" · {} lines failed the check", count(report.lines_failed)));
                let warnings = report.warnings.join("; ");
                view! { <p class="subtle export-report">{tokens}{failed}{(!warnings.is_empty()).then(|| format!(" · {warnings}"))}</p> }
                    .into_any()
            });
            let actions = view! {
                {can_cancel.then(|| view! {
                    <button class="button ghost" type="button" data-testid="export-cancel"
                        on:click=move |_| { cancel.dispatch(CancelExport { id }); }>"Cancel"</button>
                })}
                {can_delete.then(|| view! {
                    <button class="button ghost danger" type="button" data-testid="export-delete"
                        on:click=move |_| { delete.dispatch(DeleteExport { id }); }>"Delete files"</button>
                })}
            }
            .into_any();
            let progress = view! { <Progress export=export.clone()/> }.into_any();
            view! {
                <tr data-testid="export-row" data-id=id.to_string()>
                    <td class="num mono">{format!("#{id}")}</td>
                    <td>
                        <span class="mono">{export.spec.format.as_str()}</span>
                        <p class="subtle">{spec}</p>
                        {checks}
                    </td>
                    <td>{progress}</td>
                    <td>{files}</td>
                    <td>
                        {export.created_by.clone()}
                        <p class="subtle" title=full_time(&export.created_at)>{short_time(&export.created_at)}</p>
                    </td>
                    <td class="actions">{actions}</td>
                </tr>
            }
            .into_any()
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class="exports" data-testid="exports">
                <thead>
                    <tr><th class="num">"#"</th><th>"Export"</th><th>"State"</th><th>"Files"</th><th>"By"</th><th></th></tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}
