//! An operation's accuracy alert: its state and history (the trends view and the operation
//! page), and the form leads set it with (the operation page only: it shows the webhook).

use leptos::prelude::*;

use crate::api::operations::SaveAlert;
use crate::components::figures;
use crate::model::alerts::{
    AlertKind, AlertRule, AlertStatus, Delivery, WebhookFormat, MAX_URL_BYTES, MAX_WINDOW_DAYS,
    MIN_WINDOW_DAYS,
};
use crate::model::trends::percent;

/// The alert's state and its firings and clearings, newest first, with each delivery.
#[component]
pub fn AlertHistory(status: AlertStatus, target: Option<f64>, min_reviews: u64) -> impl IntoView {
    let state = match (status.enabled, status.firing, target) {
        (false, ..) => view! { <span class="badge badge-unreviewed" data-testid="alert-state">"alert off"</span> }.into_any(),
        (true, _, None) => view! { <span class="badge badge-unreviewed" data-testid="alert-state">"no target: cannot fire"</span> }.into_any(),
        (true, true, Some(_)) => view! { <span class="badge badge-incorrect" data-testid="alert-state">"firing"</span> }.into_any(),
        (true, false, Some(_)) => view! { <span class="badge badge-correct" data-testid="alert-state">"ok"</span> }.into_any(),
    };
    let rule = match (status.enabled, target) {
        (true, Some(target)) => format!(
            "Fires when the upper bound of the 95% interval of the last {} days' sampled accuracy is below the {} target, with at least {} reviews; clears when the lower bound is back above it. Fewer reviews change nothing.",
            status.window_days,
            percent(target),
            min_reviews
        ),
        (true, None) => "Set an accuracy target on the operation's settings for the alert to fire.".to_string(),
        (false, _) => "A lead can turn the alert on from the operation's settings page.".to_string(),
    };
    let failing = status.webhook_failing.then(|| {
        view! { <p class="form-error" role="alert" data-testid="webhook-failing">"The webhook is failing: the newest alert was not delivered (see below)."</p> }
    });
    let rows = status
        .events
        .iter()
        .map(|event| {
            let (class, what) = match event.kind {
                AlertKind::Fired => ("badge badge-incorrect", "fired"),
                AlertKind::Cleared => ("badge badge-correct", "cleared"),
            };
            let delivery = match event.delivery {
                Delivery::Delivered => format!(
                    "delivered{}",
                    event
                        .delivered_at
                        .as_ref()
                        .map(|at| format!(" {}", figures::short_time(at)))
                        .unwrap_or_default()
                ),
                Delivery::Pending if event.attempts == 0 => "sending".to_string(),
                Delivery::Pending => format!("retrying after {} failed attempts", event.attempts),
                Delivery::Failed => format!("failed after {} attempts", event.attempts),
                Delivery::None => "no webhook".to_string(),
            };
            let failed = matches!(event.delivery, Delivery::Failed)
                || (event.delivery == Delivery::Pending && event.attempts > 0);
            view! {
                <tr data-testid="alert-event">
                    <td title=figures::full_time(&event.at)>{figures::short_time(&event.at)}</td>
                    <td><span class=class>{what}</span></td>
                    <td>{crate::model::trends::describe(&event.tally)}</td>
                    <td>{format!("{} · {} days", percent(event.target), event.window_days)}</td>
                    <td class:delivery-failed=failed data-testid="alert-delivery">
                        {delivery}
                        {event.last_error.clone().filter(|_| failed).map(|e| view! { <span class="hint">{e}</span> })}
                    </td>
                </tr>
            }
        })
        .collect_view();
    let history = if status.events.is_empty() {
        view! { <p class="subtle" data-testid="no-alerts">"No alert has fired yet."</p> }.into_any()
    } else {
        view! {
            <div class="table-wrap">
                <table class="grid">
                    <thead><tr>
                        <th scope="col">"When"</th><th scope="col">"What"</th><th scope="col">"Sampled accuracy"</th>
                        <th scope="col">"Target · window"</th><th scope="col">"Webhook"</th>
                    </tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        }
        .into_any()
    };
    view! {
        <section class="card" data-testid="alerts">
            <h2>"Accuracy alert " {state}</h2>
            <p class="subtle">{rule}</p>
            {status.checked_at.as_ref().map(|at| view! { <p class="hint">"Last checked "{figures::short_time(at)}"."</p> })}
            {failing}
            {history}
        </section>
    }
}

/// The alert settings form: on or off, window, webhook URL and shape.
#[component]
pub fn AlertForm(
    operation: String,
    rule: AlertRule,
    action: ServerAction<SaveAlert>,
) -> impl IntoView {
    let outcome = move || match action.value().get() {
        Some(Ok(message)) => {
            view! { <p class="form-note" role="status" data-testid="alert-outcome">{message}</p> }
                .into_any()
        }
        Some(Err(error)) => view! {
            <p class="form-error" role="alert" data-testid="alert-outcome">
                {error.field().map(|f| format!("{f}: ")).unwrap_or_default()}{error.to_string()}
            </p>
        }
        .into_any(),
        None => ().into_any(),
    };
    view! {
        <section class="card settings" data-testid="alert-settings">
            <h2>"Alert settings"</h2>
            <ActionForm action=action>
                <input type="hidden" name="name" value=operation/>
                <div class="settings-grid">
                    <label class="check">
                        <input type="checkbox" name="enabled" checked=rule.enabled data-testid="alert-enabled"/>
                        "Post to the webhook when this operation's sampled accuracy is clearly below its target, and again when it has recovered"
                    </label>
                    <div class="field-row">
                        <label class="field">
                            <span class="field-label">"Window (days)"</span>
                            <input name="window_days" inputmode="numeric" value=rule.window_days.to_string() data-testid="alert-window"/>
                            <span class="hint">{format!("The last {MIN_WINDOW_DAYS} to {MAX_WINDOW_DAYS} days of calls' sampled reviews.")}</span>
                        </label>
                        <label class="field">
                            <span class="field-label">"Message shape"</span>
                            <select name="format" data-testid="alert-format">
                                {[WebhookFormat::Json, WebhookFormat::Slack].into_iter().map(|f| view! {
                                    <option value=f.as_str() selected=f == rule.format>{match f {
                                        WebhookFormat::Json => "JSON (Redline's fields)",
                                        WebhookFormat::Slack => "Slack-compatible ({\"text\": …})",
                                    }}</option>
                                }).collect_view()}
                            </select>
                        </label>
                    </div>
                    <label class="field">
                        <span class="field-label">"Webhook URL"</span>
                        <input name="webhook_url" type="url" maxlength=MAX_URL_BYTES.to_string() value=rule.webhook_url.clone()
                            placeholder="https://hooks.slack.com/services/…" spellcheck="false" class="mono" data-testid="alert-webhook"/>
                        <span class="hint">"http or https. Only leads and admins see it. It may not point at this server's own network (loopback, private or link-local addresses) unless an admin allowed the host with "<code>"--webhook-allow-hosts"</code>"."</span>
                    </label>
                </div>
                <div class="form-actions">
                    <button class="button primary" type="submit" data-testid="alert-save" disabled=move || action.pending().get()>"Save alert"</button>
                </div>
            </ActionForm>
            {outcome}
        </section>
    }
}
