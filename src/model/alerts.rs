//! Accuracy alerts (issue 13): what a lead sets per operation (on or off, the window of days,
//! the webhook and its shape), the rule that fires and clears an alert from the sampled
//! accuracy's 95% interval, and the history the operation's pages show. Missing data never
//! counts as a failure: below the operation's minimum of reviews nothing changes.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::trends::{percent, Tally};

/// Shortest and longest window an alert may look back over, in days.
pub const MIN_WINDOW_DAYS: i64 = 1;
pub const MAX_WINDOW_DAYS: i64 = 90;
/// The window a new alert starts with.
pub const DEFAULT_WINDOW_DAYS: i64 = 7;
/// Longest webhook URL accepted.
pub const MAX_URL_BYTES: usize = 2_048;
/// Deliveries tried before an event is shown as failed.
pub const MAX_ATTEMPTS: i64 = 6;
/// Events an operation's pages list, newest first.
pub const HISTORY: i64 = 50;

/// The body a webhook receives: Redline's own JSON, or `{"text": …}` as Slack-compatible
/// incoming webhooks (Slack, Mattermost, Rocket.Chat, Discord's /slack endpoint) accept.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookFormat {
    #[default]
    Json,
    Slack,
}

impl WebhookFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookFormat::Json => "json",
            WebhookFormat::Slack => "slack",
        }
    }

    pub fn parse(text: &str) -> Option<WebhookFormat> {
        match text {
            "json" => Some(WebhookFormat::Json),
            "slack" => Some(WebhookFormat::Slack),
            _ => None,
        }
    }
}

/// One operation's alert as a lead set it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlertRule {
    pub enabled: bool,
    pub window_days: i64,
    /// Empty when none is set; never sent to a reviewer's page.
    pub webhook_url: String,
    pub format: WebhookFormat,
}

impl Default for AlertRule {
    fn default() -> AlertRule {
        AlertRule {
            enabled: false,
            window_days: DEFAULT_WINDOW_DAYS,
            webhook_url: String::new(),
            format: WebhookFormat::Json,
        }
    }
}

/// A refused alert setting: the field and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertError {
    pub field: &'static str,
    pub reason: String,
}

impl AlertRule {
    /// Checks sizes and the URL's form (an http or https URL with a host, no spaces). Where
    /// it points is checked when it is used, after DNS (see `alerts::webhook`).
    pub fn check(&mut self) -> Result<(), AlertError> {
        let refuse = |field, reason: &str| AlertError {
            field,
            reason: reason.to_string(),
        };
        if !(MIN_WINDOW_DAYS..=MAX_WINDOW_DAYS).contains(&self.window_days) {
            return Err(refuse(
                "window_days",
                &format!("from {MIN_WINDOW_DAYS} to {MAX_WINDOW_DAYS} days"),
            ));
        }
        self.webhook_url = self.webhook_url.trim().to_string();
        let url = self.webhook_url.as_str();
        if url.len() > MAX_URL_BYTES {
            return Err(refuse(
                "webhook_url",
                &format!("at most {MAX_URL_BYTES} characters"),
            ));
        }
        if url.is_empty() {
            if self.enabled {
                return Err(refuse(
                    "webhook_url",
                    "an alert needs a webhook URL to post to",
                ));
            }
            return Ok(());
        }
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"))
            .ok_or_else(|| refuse("webhook_url", "an http:// or https:// URL"))?;
        let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let host = host.rsplit('@').next().unwrap_or_default();
        if host.is_empty() || host.starts_with(':') {
            return Err(refuse("webhook_url", "the URL names no host"));
        }
        if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(refuse("webhook_url", "a URL has no spaces"));
        }
        Ok(())
    }
}

/// What an evaluation found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// The interval's upper bound fell below the target.
    Fired,
    /// The interval's lower bound is back above the target.
    Cleared,
}

impl AlertKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::Fired => "fired",
            AlertKind::Cleared => "cleared",
        }
    }

    pub fn parse(text: &str) -> Option<AlertKind> {
        match text {
            "fired" => Some(AlertKind::Fired),
            "cleared" => Some(AlertKind::Cleared),
            _ => None,
        }
    }
}

/// Whether an alert that is (`firing`) or is not firing changes with this window's sampled
/// reviews: fires when even the upper bound is below the target, clears when even the lower
/// bound is above it, and never with fewer than `min_n` reviews.
pub fn decide(firing: bool, tally: Tally, target: f64, min_n: u64) -> Option<AlertKind> {
    if tally.n() < min_n.max(1) {
        return None;
    }
    let (low, high) = tally.interval()?;
    match firing {
        false if high < target => Some(AlertKind::Fired),
        true if low > target => Some(AlertKind::Cleared),
        _ => None,
    }
}

/// Where an event's webhook delivery stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// Not yet delivered; tried again at `next_attempt_at`.
    Pending,
    Delivered,
    /// Every attempt failed: the webhook is failing.
    Failed,
    /// The alert had no webhook when the event happened.
    None,
}

impl Delivery {
    pub fn as_str(self) -> &'static str {
        match self {
            Delivery::Pending => "pending",
            Delivery::Delivered => "delivered",
            Delivery::Failed => "failed",
            Delivery::None => "none",
        }
    }

    pub fn parse(text: &str) -> Option<Delivery> {
        match text {
            "pending" => Some(Delivery::Pending),
            "delivered" => Some(Delivery::Delivered),
            "failed" => Some(Delivery::Failed),
            "none" => Some(Delivery::None),
            _ => None,
        }
    }
}

/// One firing or clearing, with the figures it was decided on and its delivery.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlertEvent {
    pub id: i64,
    pub operation: String,
    pub kind: AlertKind,
    pub at: DateTime<Utc>,
    pub tally: Tally,
    pub target: f64,
    pub window_days: i64,
    pub delivery: Delivery,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
}

impl AlertEvent {
    /// "Accuracy of ticket_summarize fell below its 90.0% target: 71.0% (62.1–78.5, n=100)
    /// over the last 7 days."
    pub fn sentence(&self) -> String {
        let figures = super::trends::describe(&self.tally);
        let days = self.window_days;
        let target = percent(self.target);
        match self.kind {
            AlertKind::Fired => format!(
                "Accuracy of {} fell below its {target} target: {figures} over the last {days} days (sampled reviews).",
                self.operation
            ),
            AlertKind::Cleared => format!(
                "Accuracy of {} is back above its {target} target: {figures} over the last {days} days (sampled reviews).",
                self.operation
            ),
        }
    }
}

/// An operation's alert as its trends page shows it (no webhook URL: reviewers may read it).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AlertStatus {
    pub enabled: bool,
    pub window_days: i64,
    pub firing: bool,
    /// The newest event's delivery failed for good, or is being retried after a failure.
    pub webhook_failing: bool,
    pub checked_at: Option<DateTime<Utc>>,
    pub events: Vec<AlertEvent>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(correct: u64, incorrect: u64) -> Tally {
        Tally { correct, incorrect }
    }

    #[test]
    fn an_alert_fires_only_when_the_drop_is_beyond_noise_and_clears_only_when_it_is_over() {
        // 80/100: interval 71.1–86.7%. Below a 90% target for sure.
        assert_eq!(
            decide(false, tally(80, 20), 0.9, 30),
            Some(AlertKind::Fired)
        );
        // 26/30 (86.7%) is below 90% but its interval (70.3–94.7%) reaches it: noise.
        assert_eq!(decide(false, tally(26, 30 - 26), 0.9, 30), None);
        // Too few reviews: nothing changes, whatever they say.
        assert_eq!(decide(false, tally(0, 20), 0.9, 30), None);
        assert_eq!(decide(true, tally(20, 0), 0.9, 30), None);
        // Firing: 95/100 (89.0–97.8%) is not clearly above 90% yet; 290/300 (94.0–98.2%) is.
        assert_eq!(decide(true, tally(95, 5), 0.9, 30), None);
        assert_eq!(
            decide(true, tally(290, 10), 0.9, 30),
            Some(AlertKind::Cleared)
        );
        // Already firing and still bad: no second event.
        assert_eq!(decide(true, tally(50, 50), 0.9, 30), None);
        // No reviews at all never counts as failure, even with a minimum of 0.
        assert_eq!(decide(false, tally(0, 0), 0.9, 0), None);
    }

    #[test]
    fn webhook_urls_must_be_http_with_a_host() {
        let rule = |url: &str, enabled: bool| AlertRule {
            enabled,
            webhook_url: url.into(),
            ..AlertRule::default()
        };
        for good in [
            "https://hooks.slack.com/services/T0/B0/x",
            "http://10.0.0.1:8080/hook",
            "  https://example.com  ",
        ] {
            assert_eq!(rule(good, true).check(), Ok(()), "{good}");
        }
        for bad in [
            "ftp://example.com/x",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "https://",
            "https:///path",
            "https://exa mple.com/",
            "example.com/hook",
        ] {
            let refused = rule(bad, true).check().unwrap_err();
            assert_eq!(refused.field, "webhook_url", "{bad}");
        }
        assert_eq!(rule("", false).check(), Ok(()));
        assert_eq!(rule("", true).check().unwrap_err().field, "webhook_url");
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_BYTES));
        assert_eq!(rule(&long, true).check().unwrap_err().field, "webhook_url");
        let mut days = rule("", false);
        days.window_days = 0;
        assert_eq!(days.check().unwrap_err().field, "window_days");
        days.window_days = MAX_WINDOW_DAYS + 1;
        assert_eq!(days.check().unwrap_err().field, "window_days");
    }
}
