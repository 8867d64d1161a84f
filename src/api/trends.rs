//! Server functions behind the trends pages: the overview of every operation and one
//! operation's charts, both from the rollups (see `crate::trends`).

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::trends::{OperationTrends, Overview};

/// Every operation's accuracy over the last 7 and 30 days, its trend and routing advice.
#[server(endpoint = "load_trends")]
pub async fn load_trends(all_reviews: bool) -> Result<Overview, AppError> {
    use crate::api::guard;
    use crate::model::auth::Capability;
    guard::require(Capability::Trends)?;
    let store = guard::store()?;
    let today = crate::trends::today(chrono::Utc::now());
    Ok(crate::trends::overview(&store, today, all_reviews).await?)
}

/// One operation's charts, version table, failure tags and routing advice for `search`
/// (the page's query string: bucket, range, versions, sampled).
#[server(endpoint = "load_operation_trends")]
pub async fn load_operation_trends(
    operation: String,
    search: String,
) -> Result<OperationTrends, AppError> {
    use crate::api::guard;
    use crate::model::auth::Capability;
    guard::require(Capability::Trends)?;
    let store = guard::store()?;
    let missing = || AppError::NotFound(format!("there is no operation {operation}"));
    if !crate::model::is_valid_operation_name(&operation) {
        return Err(missing());
    }
    let mut query = crate::model::trends::TrendsQuery::from_search(&search)?;
    query.operation = Some(operation.clone());
    let today = crate::trends::today(chrono::Utc::now());
    let mut trends = crate::trends::operation_trends(&store, &operation, &query, today)
        .await?
        .ok_or_else(missing)?;
    trends.alert = store.alert_status(&operation).await?.unwrap_or_default();
    Ok(trends)
}
