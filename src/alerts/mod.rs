//! Accuracy alerts (issue 13): every `serve` instance runs [`run`], and the `alerts`
//! schedule row lets exactly one instance of a fleet check at a time. A check evaluates
//! every enabled rule on the last N days' sampled reviews ([`crate::model::alerts::decide`]),
//! records a firing or clearing as an event, then delivers due events to their webhooks
//! (JSON or the Slack shape), retrying failures with exponential backoff until they are
//! shown as failed.

pub mod webhook;

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::json;
use tokio::sync::watch;

use crate::model::alerts::{decide, AlertEvent, AlertKind, WebhookFormat, MAX_ATTEMPTS};
use crate::model::trends::Tally;
use crate::store::{Store, StoreResult};
use webhook::AllowHosts;

/// How often a fleet checks its alerts.
pub const CHECK_EVERY: Duration = Duration::from_secs(30);
/// First retry after a failed delivery; doubled for each further one.
pub const FIRST_RETRY: Duration = Duration::from_secs(30);
/// Deliveries tried per check (the rest wait for the next).
const DELIVERIES_PER_CHECK: i64 = 20;

/// What an instance's alert checks need.
#[derive(Clone, Debug, Default)]
pub struct AlertSettings {
    pub allow_hosts: AllowHosts,
}

/// What one check did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// Operations whose alert fired or cleared, with what happened.
    pub changes: Vec<(String, AlertKind)>,
    pub delivered: usize,
    pub failed: usize,
}

/// Checks alerts every [`CHECK_EVERY`] (when this instance wins the schedule) until `stop`.
pub async fn run(
    store: Store,
    settings: AlertSettings,
    worker: String,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        if *stop.borrow() {
            break;
        }
        match check_if_due(&store, &settings, &worker, Utc::now()).await {
            Ok(Some(report)) if !report.changes.is_empty() || report.failed > 0 => {
                tracing::info!(changes = ?report.changes, delivered = report.delivered, failed = report.failed, "alerts checked")
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "cannot check alerts"),
        }
        tokio::select! {
            _ = tokio::time::sleep(CHECK_EVERY / 3) => {}
            _ = stop.changed() => {}
        }
    }
}

/// Runs a check if the fleet's schedule is due and this instance claims it; `None` when
/// another instance has it.
pub async fn check_if_due(
    store: &Store,
    settings: &AlertSettings,
    worker: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<CheckReport>> {
    let every = chrono::Duration::from_std(CHECK_EVERY).unwrap_or(chrono::Duration::seconds(30));
    if !store.claim_schedule("alerts", worker, now, every).await? {
        return Ok(None);
    }
    let mut report = CheckReport {
        changes: evaluate(store, now).await?,
        ..CheckReport::default()
    };
    let (delivered, failed) = deliver_due(store, settings, now).await?;
    report.delivered = delivered;
    report.failed = failed;
    Ok(Some(report))
}

/// Evaluates every enabled rule at `now`; the operations whose alert changed.
pub async fn evaluate(store: &Store, now: DateTime<Utc>) -> StoreResult<Vec<(String, AlertKind)>> {
    let today = crate::trends::today(now);
    let mut changes = Vec::new();
    for rule in store.active_alert_rules().await? {
        let from = today - rule.rule.window_days + 1;
        let mut tally = Tally::default();
        for row in store
            .accuracy_days(Some(&rule.operation), from, today + 1)
            .await?
        {
            tally.add(row.sampled);
        }
        let change = rule.target.and_then(|target| {
            decide(rule.firing, tally, target, rule.min_reviews).map(|kind| (kind, tally, target))
        });
        store.record_alert_check(&rule, change, now).await?;
        if let Some((kind, ..)) = change {
            changes.push((rule.operation.clone(), kind));
        }
    }
    Ok(changes)
}

/// Delivers the events due at `now`; how many were delivered and how many attempts failed.
pub async fn deliver_due(
    store: &Store,
    settings: &AlertSettings,
    now: DateTime<Utc>,
) -> StoreResult<(usize, usize)> {
    let (mut delivered, mut failed) = (0, 0);
    for due in store.due_deliveries(now, DELIVERIES_PER_CHECK).await? {
        let body = payload(&due.event, due.format);
        let result = webhook::post(&due.webhook_url, body, &settings.allow_hosts).await;
        let outcome = match result {
            Ok(()) => {
                delivered += 1;
                Ok(())
            }
            Err(error) => {
                failed += 1;
                tracing::warn!(operation = %due.event.operation, event = due.event.id, %error, "alert webhook failed");
                Err((error, retry_at(due.event.attempts + 1, now)))
            }
        };
        store.record_delivery(due.event.id, outcome, now).await?;
    }
    Ok((delivered, failed))
}

/// When to try again after `attempts` failed attempts: 30 s, 1 min, 2 min, … or never
/// after [`MAX_ATTEMPTS`].
pub fn retry_at(attempts: i64, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if attempts >= MAX_ATTEMPTS {
        return None;
    }
    let seconds = FIRST_RETRY.as_secs() as i64 * (1_i64 << attempts.clamp(1, 20) - 1);
    Some(now + chrono::Duration::seconds(seconds))
}

/// The body a webhook receives for `event`.
pub fn payload(event: &AlertEvent, format: WebhookFormat) -> Vec<u8> {
    let sentence = event.sentence();
    let value = match format {
        WebhookFormat::Slack => json!({ "text": format!(":rotating_light: {sentence}") }),
        WebhookFormat::Json => {
            let (low, high) = event.tally.interval().unwrap_or((0.0, 0.0));
            json!({
                "event": format!("alert.{}", event.kind.as_str()),
                "operation": event.operation,
                "at": event.at.to_rfc3339(),
                "accuracy": event.tally.accuracy(),
                "interval": { "low": low, "high": high, "level": 0.95 },
                "n": event.tally.n(),
                "correct": event.tally.correct,
                "target": event.target,
                "window_days": event.window_days,
                "reviews": "sampled",
                "text": sentence,
                "trends_path": format!("/trends/{}", event.operation),
            })
        }
    };
    value.to_string().into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_and_stop() {
        let now = Utc::now();
        let after = |n| retry_at(n, now).map(|at| (at - now).num_seconds());
        assert_eq!(after(1), Some(30));
        assert_eq!(after(2), Some(60));
        assert_eq!(after(3), Some(120));
        assert_eq!(after(5), Some(480));
        assert_eq!(after(MAX_ATTEMPTS), None);
    }
}
