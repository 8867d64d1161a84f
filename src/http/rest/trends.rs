//! `/api/v1/accuracy` and `/api/v1/routing`: the series behind the trend charts and the
//! routing advice, for scripts and routing layers. Both need the `read` scope.

use axum::extract::{Path, RawQuery, State};
use axum::{Extension, Json};
use chrono::Utc;
use serde_json::{json, Value};

use super::key_with;
use crate::auth::Caller;
use crate::error::AppError;
use crate::model::auth::Scope;
use crate::model::trends::{TrendsQuery, ROUTING_DAYS};
use crate::store::Store;
use crate::trends;

/// `GET /api/v1/accuracy?operation=&bucket=day|week&from=&to=&model_version=&sampled=`:
/// per operation, model version and bucket, n, k, accuracy and the 95% Wilson bounds.
pub async fn accuracy(
    State(store): State<Store>,
    caller: Option<Extension<Caller>>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, AppError> {
    key_with(caller, Scope::Read)?;
    let query = TrendsQuery::from_search(query.as_deref().unwrap_or(""))?;
    let today = trends::today(Utc::now());
    let (from, to) = query.days(today);
    let series = trends::series(&store, &query, today).await?;
    Ok(Json(json!({
        "operation": query.operation,
        "bucket": query.bucket,
        "from": crate::model::trends::day_date(from).to_string(),
        "to": crate::model::trends::day_date(to - 1).to_string(),
        "reviews": reviews(query.all_reviews),
        "interval": "95% Wilson score",
        "series": series,
    })))
}

/// `GET /api/v1/routing[?sampled=false]`: every operation's recommended model version.
pub async fn all(
    State(store): State<Store>,
    caller: Option<Extension<Caller>>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, AppError> {
    key_with(caller, Scope::Read)?;
    let all_reviews = all_reviews(query.as_deref())?;
    let now = Utc::now();
    let advice = trends::routing(&store, None, trends::today(now), all_reviews)
        .await?
        .unwrap_or_default();
    Ok(Json(answer(
        json!({ "operations": advice }),
        all_reviews,
        now,
    )))
}

/// `GET /api/v1/routing/{operation}[?sampled=false]`: one operation's.
pub async fn one(
    State(store): State<Store>,
    caller: Option<Extension<Caller>>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, AppError> {
    key_with(caller, Scope::Read)?;
    let all_reviews = all_reviews(query.as_deref())?;
    let now = Utc::now();
    let Some(mut advice) =
        trends::routing(&store, Some(&name), trends::today(now), all_reviews).await?
    else {
        return Err(AppError::NotFound(format!("no operation named \"{name}\"")));
    };
    let Some(advice) = advice.pop() else {
        return Err(AppError::NotFound(format!("no operation named \"{name}\"")));
    };
    Ok(Json(answer(json!(advice), all_reviews, now)))
}

/// Only `sampled` matters to the routing routes; the rest of the trends query is checked
/// all the same, so a typo'd value is a 400, not silently ignored.
fn all_reviews(query: Option<&str>) -> Result<bool, AppError> {
    Ok(TrendsQuery::from_search(query.unwrap_or(""))?.all_reviews)
}

fn reviews(all_reviews: bool) -> &'static str {
    if all_reviews {
        "all"
    } else {
        "sampled"
    }
}

/// Adds the rule, the reviews used and the time of computing to a routing answer.
fn answer(mut body: Value, all_reviews: bool, now: chrono::DateTime<Utc>) -> Value {
    if let Value::Object(map) = &mut body {
        map.insert("reviews".into(), json!(reviews(all_reviews)));
        map.insert(
            "rule".into(),
            json!(format!(
                "among model versions with at least the operation's minimum reviews in the last {ROUTING_DAYS} days whose 95% Wilson lower bound reaches the accuracy target, the one with the lowest mean cost per call; with no target, or when none reaches it, the one with the highest lower bound"
            )),
        );
        map.insert("computed_at".into(), json!(now.to_rfc3339()));
    }
    body
}
