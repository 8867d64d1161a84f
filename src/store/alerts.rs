//! Accuracy alerts: each operation's rule (set with its audit entry in one transaction), the
//! once-per-fleet schedule the alert check claims, the firings and clearings with their
//! webhook deliveries, and the history the pages list.

use chrono::{DateTime, Duration, Utc};

use super::accounts::audit_insert;
use super::{micros_to_time, NewAudit, Sql, Store, StoreError, StoreResult};
use crate::model::alerts::{
    AlertEvent, AlertKind, AlertRule, AlertStatus, Delivery, WebhookFormat, HISTORY,
};
use crate::model::trends::Tally;

/// An enabled rule with what its evaluation needs from the operation's settings.
#[derive(Clone, Debug)]
pub struct ActiveRule {
    pub operation_id: i64,
    pub operation: String,
    pub rule: AlertRule,
    pub firing: bool,
    /// `None`: the operation has no target, so nothing can fire.
    pub target: Option<f64>,
    pub min_reviews: u64,
}

/// An event whose delivery is due, with where to (the rule's webhook now).
#[derive(Clone, Debug)]
pub struct DueDelivery {
    pub event: AlertEvent,
    pub webhook_url: String,
    pub format: WebhookFormat,
}

const EVENT_COLUMNS: &str = "e.id, o.name, e.kind, e.at, e.correct, e.incorrect, e.target, \
     e.window_days, e.delivery, e.attempts, e.last_error, e.delivered_at";

type EventRow = (
    i64,
    String,
    String,
    i64,
    i64,
    i64,
    f64,
    i64,
    String,
    i64,
    Option<String>,
    Option<i64>,
);

fn event(row: EventRow) -> StoreResult<AlertEvent> {
    let (
        id,
        operation,
        kind,
        at,
        correct,
        incorrect,
        target,
        window_days,
        delivery,
        attempts,
        last_error,
        delivered_at,
    ) = row;
    Ok(AlertEvent {
        id,
        operation,
        kind: AlertKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("alert event kind \"{kind}\"")))?,
        at: micros_to_time(at),
        tally: Tally {
            correct: u64::try_from(correct).unwrap_or(0),
            incorrect: u64::try_from(incorrect).unwrap_or(0),
        },
        target,
        window_days,
        delivery: Delivery::parse(&delivery)
            .ok_or_else(|| StoreError::Corrupt(format!("alert delivery \"{delivery}\"")))?,
        attempts,
        last_error,
        delivered_at: delivered_at.map(micros_to_time),
    })
}

fn format_of(text: &str) -> StoreResult<WebhookFormat> {
    WebhookFormat::parse(text)
        .ok_or_else(|| StoreError::Corrupt(format!("webhook format \"{text}\"")))
}

impl Store {
    /// The alert rule of `operation` (the default, off, when none was set); `None` when there
    /// is no such operation.
    pub async fn alert_rule(&self, operation: &str) -> StoreResult<Option<AlertRule>> {
        let row: Option<(Option<bool>, Option<i64>, Option<String>, Option<String>)> = self
            .db
            .optional(
                &Sql::new(
                    "SELECT r.enabled, r.window_days, r.webhook_url, r.format
                     FROM operations o LEFT JOIN alert_rules r ON r.operation_id = o.id
                     WHERE o.name = $1",
                )
                .arg(operation),
            )
            .await?;
        let Some((enabled, window_days, url, format)) = row else {
            return Ok(None);
        };
        let Some(window_days) = window_days else {
            return Ok(Some(AlertRule::default()));
        };
        Ok(Some(AlertRule {
            enabled: enabled.unwrap_or(false),
            window_days,
            webhook_url: url.unwrap_or_default(),
            format: format_of(format.as_deref().unwrap_or("json"))?,
        }))
    }

    /// Sets `operation`'s alert rule (already checked) with `audit` in one transaction.
    /// Turning an alert off forgets that it was firing; false when there is no such operation.
    pub async fn set_alert_rule(
        &self,
        operation: &str,
        rule: &AlertRule,
        audit: &NewAudit,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut tx = self.db.begin().await?;
        let Some(id) = tx
            .optional::<(i64,)>(
                &Sql::new("SELECT id FROM operations WHERE name = $1").arg(operation),
            )
            .await?
            .map(|(id,)| id)
        else {
            return Ok(false);
        };
        tx.execute(
            &Sql::new(
                "INSERT INTO alert_rules (operation_id, enabled, window_days, webhook_url, format, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (operation_id) DO UPDATE SET enabled = excluded.enabled,
                   window_days = excluded.window_days, webhook_url = excluded.webhook_url,
                   format = excluded.format, updated_at = excluded.updated_at,
                   firing = CASE WHEN excluded.enabled THEN alert_rules.firing ELSE $7 END",
            )
            .arg(id)
            .arg(rule.enabled)
            .arg(rule.window_days)
            .arg(rule.webhook_url.as_str())
            .arg(rule.format.as_str())
            .arg(now.timestamp_micros())
            .arg(false),
        )
        .await?;
        tx.execute(&audit_insert(audit, now)).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Claims the schedule `name` for this run if it is due, moving it `every` ahead: of all
    /// the instances asking at once, exactly one gets `true`.
    pub async fn claim_schedule(
        &self,
        name: &str,
        worker: &str,
        now: DateTime<Utc>,
        every: Duration,
    ) -> StoreResult<bool> {
        let now_micros = now.timestamp_micros();
        let next = (now + every).timestamp_micros();
        let changed = self
            .db
            .execute(
                &Sql::new(
                    "UPDATE schedules SET next_run_at = $1, claimed_by = $2
                     WHERE name = $3 AND next_run_at <= $4",
                )
                .arg(next)
                .arg(worker)
                .arg(name)
                .arg(now_micros),
            )
            .await?;
        Ok(changed == 1)
    }

    /// Every enabled alert rule, with its operation's target and minimum of reviews.
    pub async fn active_alert_rules(&self) -> StoreResult<Vec<ActiveRule>> {
        let rows: Vec<(i64, String, i64, String, String, bool, Option<f64>, i64)> = self
            .db
            .all(
                &Sql::new(
                    "SELECT o.id, o.name, r.window_days, r.webhook_url, r.format, r.firing,
                            o.accuracy_target, o.min_reviews
                     FROM alert_rules r JOIN operations o ON o.id = r.operation_id
                     WHERE r.enabled = $1 ORDER BY o.name",
                )
                .arg(true),
            )
            .await?;
        rows.into_iter()
            .map(
                |(
                    operation_id,
                    operation,
                    window_days,
                    webhook_url,
                    format,
                    firing,
                    target,
                    min,
                )| {
                    Ok(ActiveRule {
                        operation_id,
                        operation,
                        rule: AlertRule {
                            enabled: true,
                            window_days,
                            webhook_url,
                            format: format_of(&format)?,
                        },
                        firing,
                        target,
                        min_reviews: u64::try_from(min).unwrap_or(0),
                    })
                },
            )
            .collect()
    }

    /// Records an evaluation of `rule`: when `change` is set, the event (to be delivered
    /// now when there is a webhook) and the new state, in one transaction; the check time
    /// either way. The state is only changed from the one the evaluation saw, so a rule
    /// changed meanwhile is left to the next evaluation.
    pub async fn record_alert_check(
        &self,
        rule: &ActiveRule,
        change: Option<(AlertKind, Tally, f64)>,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let at = now.timestamp_micros();
        let mut tx = self.db.begin().await?;
        if let Some((kind, tally, target)) = change {
            let moved = tx
                .execute(
                    &Sql::new(
                        "UPDATE alert_rules SET firing = $1, checked_at = $2
                         WHERE operation_id = $3 AND firing = $4 AND enabled = $5",
                    )
                    .arg(kind == AlertKind::Fired)
                    .arg(at)
                    .arg(rule.operation_id)
                    .arg(rule.firing)
                    .arg(true),
                )
                .await?;
            if moved == 1 {
                let delivery = if rule.rule.webhook_url.is_empty() {
                    Delivery::None
                } else {
                    Delivery::Pending
                };
                tx.execute(
                    &Sql::new(
                        "INSERT INTO alert_events (operation_id, kind, at, correct, incorrect, target,
                           window_days, delivery, next_attempt_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    )
                    .arg(rule.operation_id)
                    .arg(kind.as_str())
                    .arg(at)
                    .arg(i64::try_from(tally.correct).unwrap_or(i64::MAX))
                    .arg(i64::try_from(tally.incorrect).unwrap_or(i64::MAX))
                    .arg(target)
                    .arg(rule.rule.window_days)
                    .arg(delivery.as_str())
                    .arg(at),
                )
                .await?;
            }
        } else {
            tx.execute(
                &Sql::new("UPDATE alert_rules SET checked_at = $1 WHERE operation_id = $2")
                    .arg(at)
                    .arg(rule.operation_id),
            )
            .await?;
        }
        tx.commit().await
    }

    /// Events whose delivery is due at `now`, oldest first, with their rule's webhook.
    pub async fn due_deliveries(
        &self,
        now: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<Vec<DueDelivery>> {
        let rows: Vec<EventRow> = self
            .db
            .all(
                &Sql::new(format!(
                    "SELECT {EVENT_COLUMNS} FROM alert_events e JOIN operations o ON o.id = e.operation_id
                     WHERE e.delivery = 'pending' AND e.next_attempt_at <= $1
                     ORDER BY e.id LIMIT $2"
                ))
                .arg(now.timestamp_micros())
                .arg(limit),
            )
            .await?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        // Where each operation's webhook points now (a URL changed since the event is used).
        let hooks: std::collections::HashMap<String, (String, String)> = self
            .db
            .all::<(String, String, String)>(&Sql::new(
                "SELECT o.name, r.webhook_url, r.format FROM alert_rules r
                 JOIN operations o ON o.id = r.operation_id
                 WHERE r.operation_id IN (SELECT operation_id FROM alert_events WHERE delivery = 'pending')",
            ))
            .await?
            .into_iter()
            .map(|(name, url, format)| (name, (url, format)))
            .collect();
        let mut due = Vec::with_capacity(rows.len());
        for row in rows {
            let event = event(row)?;
            let (url, format) = hooks.get(&event.operation).cloned().unwrap_or_default();
            due.push(DueDelivery {
                webhook_url: url,
                format: format_of(if format.is_empty() { "json" } else { &format })?,
                event,
            });
        }
        Ok(due)
    }

    /// Records one delivery attempt of event `id`: delivered, or failed with `error` and
    /// retried at `retry_at` (`None`: no more attempts; the event is shown as failed).
    pub async fn record_delivery(
        &self,
        id: i64,
        result: Result<(), (String, Option<DateTime<Utc>>)>,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let sql = match result {
            Ok(()) => Sql::new(
                "UPDATE alert_events SET delivery = 'delivered', attempts = attempts + 1,
                   delivered_at = $1, next_attempt_at = NULL
                 WHERE id = $2 AND delivery = 'pending'",
            )
            .arg(now.timestamp_micros())
            .arg(id),
            Err((error, retry_at)) => Sql::new(
                "UPDATE alert_events SET delivery = $1, attempts = attempts + 1,
                   last_error = $2, next_attempt_at = $3
                 WHERE id = $4 AND delivery = 'pending'",
            )
            .arg(if retry_at.is_some() {
                "pending"
            } else {
                "failed"
            })
            .arg(error)
            .arg(retry_at.map(|at| at.timestamp_micros()))
            .arg(id),
        };
        self.db.execute(&sql).await?;
        Ok(())
    }

    /// `operation`'s alert as its pages show it: state and the newest events. `None` when
    /// there is no such operation.
    pub async fn alert_status(&self, operation: &str) -> StoreResult<Option<AlertStatus>> {
        let row: Option<(i64, Option<bool>, Option<i64>, Option<bool>, Option<i64>)> = self
            .db
            .optional(
                &Sql::new(
                    "SELECT o.id, r.enabled, r.window_days, r.firing, r.checked_at
                     FROM operations o LEFT JOIN alert_rules r ON r.operation_id = o.id
                     WHERE o.name = $1",
                )
                .arg(operation),
            )
            .await?;
        let Some((id, enabled, window_days, firing, checked_at)) = row else {
            return Ok(None);
        };
        let rows: Vec<EventRow> = self
            .db
            .all(
                &Sql::new(format!(
                    "SELECT {EVENT_COLUMNS} FROM alert_events e JOIN operations o ON o.id = e.operation_id
                     WHERE e.operation_id = $1 ORDER BY e.id DESC LIMIT $2"
                ))
                .arg(id)
                .arg(HISTORY),
            )
            .await?;
        let events = rows
            .into_iter()
            .map(event)
            .collect::<StoreResult<Vec<_>>>()?;
        let webhook_failing = events.first().is_some_and(|e| {
            e.delivery == Delivery::Failed || (e.delivery == Delivery::Pending && e.attempts > 0)
        });
        Ok(Some(AlertStatus {
            enabled: enabled.unwrap_or(false),
            window_days: window_days.unwrap_or(crate::model::alerts::DEFAULT_WINDOW_DAYS),
            firing: firing.unwrap_or(false),
            webhook_failing,
            checked_at: checked_at.map(micros_to_time),
            events,
        }))
    }
}
