//! A feed filter as SQL: names resolved to ids once, then the conditions on `calls c` that
//! the feed, the verdict counts and the queue's draw share.

use super::search::{push_search, Search};
use super::{Sql, Store, StoreResult};
use crate::model::{CallFilter, Cursor};

/// Which operation a filter names, once its name is looked up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum OperationScope {
    /// The filter names no operation.
    Any,
    Only(i64),
    /// The filter names an operation that does not exist: nothing matches.
    Unknown,
}

/// A filter with names resolved to ids.
pub(super) struct Resolved {
    pub(super) operation: OperationScope,
    /// `None`: no model filter; an empty list: the named model does not exist.
    pub(super) model_ids: Option<Vec<i64>>,
}

impl Resolved {
    pub(super) fn matches_nothing(&self) -> bool {
        self.operation == OperationScope::Unknown
            || matches!(&self.model_ids, Some(ids) if ids.is_empty())
    }

    /// The operation's id when the filter names one that exists.
    pub(super) fn operation_id(&self) -> Option<i64> {
        match self.operation {
            OperationScope::Only(id) => Some(id),
            OperationScope::Any | OperationScope::Unknown => None,
        }
    }
}

impl Store {
    pub(super) async fn resolve(&self, filter: &CallFilter) -> StoreResult<Resolved> {
        let operation = match &filter.operation {
            None => OperationScope::Any,
            Some(name) => self
                .db
                .optional::<(i64,)>(
                    &Sql::new("SELECT id FROM operations WHERE name = $1").arg(name),
                )
                .await?
                .map_or(OperationScope::Unknown, |(id,)| OperationScope::Only(id)),
        };
        let model_ids = if filter.model.is_none() && filter.model_version.is_none() {
            None
        } else {
            let mut sql = Sql::new("SELECT id FROM models WHERE 1 = 1");
            if let Some(model) = &filter.model {
                sql.push(" AND name = ").bind(model);
            }
            if let Some(version) = &filter.model_version {
                sql.push(" AND version = ").bind(version);
            }
            Some(
                self.db
                    .all::<(i64,)>(&sql)
                    .await?
                    .into_iter()
                    .map(|(id,)| id)
                    .collect(),
            )
        };
        Ok(Resolved {
            operation,
            model_ids,
        })
    }
}

/// Calls older than `cursor` in the feed's order (newest first).
pub(super) fn push_cursor(sql: &mut Sql, cursor: Option<Cursor>) {
    if let Some(cursor) = cursor {
        sql.push(" AND (c.created_at, c.seq) < (")
            .bind(cursor.created_at_micros)
            .push(", ")
            .bind(cursor.seq)
            .push(")");
    }
}

/// `AND column = id`, or `IN (…)` for several.
pub(super) fn push_in(sql: &mut Sql, column: &str, ids: &[i64]) {
    if let [id] = ids {
        sql.push(format!(" AND {column} = ")).bind(*id);
        return;
    }
    sql.push(format!(" AND {column} IN ("));
    sql.bind_list(ids.iter().copied());
    sql.push(")");
}

/// Appends the filter's conditions on `calls c`, the search's included (see `push_search`).
pub(super) fn push_conditions(
    sql: &mut Sql,
    filter: &CallFilter,
    resolved: &Resolved,
    with_verdict: bool,
    search: Option<&Search>,
) {
    if let Some(id) = resolved.operation_id() {
        sql.push(" AND c.operation_id = ").bind(id);
    }
    if let Some(ids) = &resolved.model_ids {
        push_in(sql, "c.model_id", ids);
    }
    if with_verdict {
        if let Some(verdict) = filter.verdict {
            sql.push(" AND c.verdict = ").bind(verdict.code());
        }
    }
    if let Some(from) = &filter.from {
        sql.push(" AND c.created_at >= ").bind(from.micros);
    }
    if let Some(to) = &filter.to {
        sql.push(" AND c.created_at < ").bind(to.micros);
    }
    if let Some(reviewer) = &filter.reviewer {
        sql.push(" AND c.reviewer = ").bind(reviewer);
    }
    if let Some(tag) = &filter.tag {
        sql.push(" AND c.seq IN (SELECT ct.call_seq FROM call_tags ct JOIN tags t ON coalesce(t.alias_of, t.id) = ct.tag_id WHERE t.name = ")
            .bind(tag)
            .push(")");
    }
    push_search(sql, search);
}
