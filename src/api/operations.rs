//! Server functions behind the operations pages: the list, one operation's settings with its
//! tag usage, skips and schema report, and the changes leads make there. Each change builds
//! the operation's whole definition and applies it as `PUT /api/v1/operations/{name}` does,
//! so the page, the API and the command line share one path and one audit trail.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::operation::{ApplyOutcome, OperationSummary, OperationView};

#[cfg(feature = "ssr")]
mod server {
    use super::*;
    use crate::api::guard;
    use crate::model::auth::Capability;
    use crate::model::operation::{OperationDefinition, MAX_SCHEMA_BYTES};
    use crate::store::Store;

    /// The caller may change operation settings: the actor for the audit trail, and the store.
    pub fn configurer() -> Result<(crate::auth::manage::Actor, Store), AppError> {
        let (caller, address) = guard::require(Capability::Operations)?;
        Ok((guard::actor(&caller, &address), guard::store()?))
    }

    /// The operation's current definition, for a change made from a page at `version`
    /// (refused early when already stale; `apply_at` checks again under its lock).
    pub async fn current(
        store: &Store,
        name: &str,
        version: i64,
    ) -> Result<OperationDefinition, AppError> {
        let missing = || AppError::NotFound(format!("there is no operation {name}"));
        if !crate::model::is_valid_operation_name(name) {
            return Err(missing());
        }
        let record = store.operation(name).await?.ok_or_else(missing)?;
        if record.version() != version {
            return Err(crate::operations::stale_page());
        }
        Ok(record.definition)
    }

    /// A JSON Schema as typed in the form: empty is none; bounded before it is parsed.
    pub fn schema_from_text(text: &str) -> Result<Option<serde_json::Value>, AppError> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        if text.len() > MAX_SCHEMA_BYTES {
            return Err(AppError::unprocessable(
                "json_schema",
                format!("at most {} KB", MAX_SCHEMA_BYTES / 1024),
            ));
        }
        serde_json::from_str(text)
            .map(Some)
            .map_err(|e| AppError::unprocessable("json_schema", format!("not JSON: {e}")))
    }

    /// A percentage as typed (`95`, `95.5`, empty for none) as a share.
    pub fn target_from_text(text: &str) -> Result<Option<f64>, AppError> {
        let text = text.trim().trim_end_matches('%').trim();
        if text.is_empty() {
            return Ok(None);
        }
        match text.parse::<f64>() {
            Ok(percent) if percent > 0.0 && percent <= 100.0 => Ok(Some(percent / 100.0)),
            _ => Err(AppError::unprocessable(
                "accuracy_target",
                "a percentage above 0 and at most 100, or empty for none",
            )),
        }
    }
}

/// Every operation with its figures.
#[server(endpoint = "list_operations")]
pub async fn list_operations() -> Result<Vec<OperationSummary>, AppError> {
    let (_, store) = server::configurer()?;
    Ok(store.list_operations().await?)
}

/// One operation's page; `None` when there is no such operation.
#[server(endpoint = "load_operation")]
pub async fn load_operation(name: String) -> Result<Option<OperationView>, AppError> {
    let (_, store) = server::configurer()?;
    if !crate::model::is_valid_operation_name(&name) {
        return Ok(None);
    }
    let Some(record) = store.operation(&name).await? else {
        return Ok(None);
    };
    let (tag_uses, skips, alert, alert_status) = tokio::try_join!(
        store.tag_uses(&name),
        store.skip_summary(&name),
        store.alert_rule(&name),
        store.alert_status(&name)
    )?;
    let schema_report = match &record.definition.json_schema {
        Some(schema) if record.definition.output_kind == crate::model::OutputKind::Json => {
            Some(crate::operations::schema_report(&store, &name, schema).await?)
        }
        _ => None,
    };
    Ok(Some(OperationView {
        version: record.version(),
        definition: record.definition,
        created_at: record.created_at,
        configured_at: record.configured_at,
        unlisted_tags: record.unlisted_tags,
        tag_uses,
        skips,
        schema_report,
        alert: alert.unwrap_or_default(),
        alert_status: alert_status.unwrap_or_default(),
    }))
}

/// Creates an operation before any call arrives; its name back.
#[server(endpoint = "create_operation")]
pub async fn create_operation(name: String) -> Result<String, AppError> {
    use crate::model::operation::OperationDefinition;
    let (actor, store) = server::configurer()?;
    let name = name.trim().to_string();
    if name.len() > 64 {
        return Err(AppError::unprocessable("name", "at most 64 characters"));
    }
    if store.operation(&name).await?.is_some() {
        return Err(AppError::unprocessable(
            "name",
            format!("{name} exists already"),
        ));
    }
    crate::operations::apply(&store, &actor, OperationDefinition::new(&name)).await?;
    Ok(name)
}

/// Saves the settings form of operation `name`, made from the page at `version`.
#[allow(clippy::too_many_arguments)]
#[server(endpoint = "save_operation")]
pub async fn save_operation(
    name: String,
    version: i64,
    description: String,
    output_kind: String,
    json_schema: String,
    guidelines: String,
    accuracy_target: String,
    min_reviews: String,
    listed_tags_only: Option<String>,
) -> Result<ApplyOutcome, AppError> {
    let (actor, store) = server::configurer()?;
    let mut definition = server::current(&store, &name, version).await?;
    definition.output_kind = crate::model::OutputKind::parse(&output_kind)
        .ok_or_else(|| AppError::unprocessable("output_kind", "text or json"))?;
    definition.json_schema = server::schema_from_text(&json_schema)?;
    definition.description = description;
    definition.guidelines = guidelines;
    definition.accuracy_target = server::target_from_text(&accuracy_target)?;
    definition.min_reviews = min_reviews.trim().parse().map_err(|_| {
        AppError::unprocessable("min_reviews", "a whole number of reviews, at least 1")
    })?;
    definition.listed_tags_only = listed_tags_only.is_some();
    crate::operations::apply_at(&store, &actor, definition, Some(version)).await
}

/// One change to operation `name`'s tag list, made from the page at `version`: `action` is
/// add, describe, rename, merge, retire or restore; `value` the new name, the tag merged
/// into, or the description.
#[server(endpoint = "change_tag")]
pub async fn change_tag(
    name: String,
    version: i64,
    action: String,
    tag: String,
    value: Option<String>,
) -> Result<ApplyOutcome, AppError> {
    use crate::model::operation::TagAction;
    let (actor, store) = server::configurer()?;
    let value = value.unwrap_or_default();
    if tag.len() > 64 || value.len() > 2_000 {
        return Err(AppError::unprocessable(
            "tags",
            "a tag name or description is too long",
        ));
    }
    let action = match action.as_str() {
        "add" => TagAction::Add {
            name: tag,
            description: value,
        },
        "describe" => TagAction::Describe {
            name: tag,
            description: value,
        },
        "rename" => TagAction::Rename {
            name: tag,
            to: value,
        },
        "merge" => TagAction::Merge {
            name: tag,
            into: value,
        },
        "retire" => TagAction::Retire { name: tag },
        "restore" => TagAction::Restore { name: tag },
        other => {
            return Err(AppError::bad_request(format!(
                "unknown tag change \"{}\"",
                other.chars().take(20).collect::<String>()
            )))
        }
    };
    let mut definition = server::current(&store, &name, version).await?;
    definition.change_tag(action)?;
    crate::operations::apply_at(&store, &actor, definition, Some(version)).await
}

/// Sets operation `name`'s accuracy alert: on or off, the window of days, the webhook and
/// its shape. Audited with the webhook's host only (its path often holds a secret).
#[server(endpoint = "save_alert")]
pub async fn save_alert(
    name: String,
    enabled: Option<String>,
    window_days: String,
    webhook_url: String,
    format: String,
) -> Result<String, AppError> {
    use crate::model::alerts::{AlertRule, WebhookFormat, MAX_URL_BYTES};
    let (actor, store) = server::configurer()?;
    if webhook_url.len() > MAX_URL_BYTES + 64 || window_days.len() > 16 {
        return Err(AppError::unprocessable(
            "webhook_url",
            format!("at most {MAX_URL_BYTES} characters"),
        ));
    }
    let missing = || AppError::NotFound(format!("there is no operation {name}"));
    if !crate::model::is_valid_operation_name(&name) {
        return Err(missing());
    }
    let mut rule = AlertRule {
        enabled: enabled.is_some(),
        window_days: window_days
            .trim()
            .parse()
            .map_err(|_| AppError::unprocessable("window_days", "a whole number of days"))?,
        webhook_url,
        format: WebhookFormat::parse(&format)
            .ok_or_else(|| AppError::unprocessable("format", "json or slack"))?,
    };
    rule.check()
        .map_err(|e| AppError::unprocessable(e.field, e.reason))?;
    let host = url::Url::parse(&rule.webhook_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| "none".into());
    let summary = format!(
        "{}, last {} days, {} webhook to {host}",
        if rule.enabled { "on" } else { "off" },
        rule.window_days,
        rule.format.as_str()
    );
    let audit = actor.entry("operation.alert", &name, summary.clone());
    if !store
        .set_alert_rule(&name, &rule, &audit, chrono::Utc::now())
        .await?
    {
        return Err(missing());
    }
    Ok(format!("Alert saved: {summary}."))
}
