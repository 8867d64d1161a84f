//! Storing ingested calls: a whole batch in one transaction, duplicates detected by
//! (source, external_id), counters kept in step.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::counts::add_to_counts;
use super::search::{pg_search_lexemes, search_document};
use super::{id_text, Dialect, Sql, Store, StoreResult, Tx};
use crate::model::ingest::NewCall;
use crate::model::search::document_text;

/// What became of one call of a batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InsertOutcome {
    Created { id: String },
    Duplicate { id: String },
}

/// Rows per INSERT statement: 16 bound values a row stays far below SQLite's 32,766 and
/// PostgreSQL's 65,535 limits.
const ROWS_PER_STATEMENT: usize = 250;

/// A call ready for its INSERT: its new id, its operation's and model's ids, its time.
struct Prepared<'a> {
    call: &'a NewCall,
    id: Uuid,
    operation_id: i64,
    model_id: i64,
    created_at: i64,
    input_json: String,
}

type OperationIds = HashMap<String, i64>;
type ModelIds<'a> = HashMap<(&'a str, &'a str), i64>;

impl<'a> Prepared<'a> {
    fn new(
        call: &'a NewCall,
        operations: &OperationIds,
        models: &ModelIds<'a>,
        received_at: i64,
    ) -> Prepared<'a> {
        Prepared {
            call,
            id: Uuid::now_v7(),
            operation_id: operations[&call.operation],
            model_id: models[&(call.model.as_str(), call.model_version.as_str())],
            created_at: call.created_at_micros.unwrap_or(received_at),
            input_json: call.input.to_string(),
        }
    }
}

impl Store {
    /// Stores a batch of validated calls in one transaction and returns one outcome per call,
    /// in order. A call whose (source, external_id) is already stored, or appears earlier in
    /// the same batch, is a duplicate: it points at the stored call and changes nothing.
    pub async fn insert_calls(
        &self,
        calls: &[NewCall],
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<InsertOutcome>> {
        let received_at = now.timestamp_micros();
        let mut tx = self.db.begin().await?;
        let dialect = tx.dialect();

        let operation_ids = intern_operations(&mut tx, calls, received_at).await?;
        let model_ids = intern_models(&mut tx, calls).await?;

        // Duplicates inside the batch point at the first occurrence.
        let mut first_of: HashMap<(&str, &str), usize> = HashMap::new();
        let mut earlier = vec![None; calls.len()];
        let mut fresh = Vec::with_capacity(calls.len());
        for (index, call) in calls.iter().enumerate() {
            if let Some(external_id) = call.external_id.as_deref() {
                if let Some(&first) = first_of.get(&(call.source.as_str(), external_id)) {
                    earlier[index] = Some(first);
                    continue;
                }
                first_of.insert((call.source.as_str(), external_id), index);
            }
            fresh.push((
                index,
                Prepared::new(call, &operation_ids, &model_ids, received_at),
            ));
        }

        let mut inserted: HashMap<Uuid, i64> = HashMap::with_capacity(fresh.len());
        for chunk in fresh.chunks(ROWS_PER_STATEMENT) {
            let rows: Vec<(Uuid, i64)> = tx
                .all(&insert_statement(dialect, chunk, received_at))
                .await?;
            inserted.extend(rows);
        }

        let created: Vec<&(usize, Prepared)> = fresh
            .iter()
            .filter(|(_, p)| inserted.contains_key(&p.id))
            .collect();
        if dialect == Dialect::Sqlite {
            // SQLite's search index is a table of its own (PostgreSQL's is a column of calls).
            let indexed: Vec<(i64, &Prepared)> =
                created.iter().map(|(_, p)| (inserted[&p.id], p)).collect();
            for chunk in indexed.chunks(ROWS_PER_STATEMENT) {
                tx.execute(&fts_statement(chunk)).await?;
            }
        }
        add_to_counts(
            &mut tx,
            created
                .iter()
                .map(|(_, p)| (inserted[&p.id], p.operation_id, p.model_id, p.created_at)),
        )
        .await?;

        // Calls already stored before this batch: look up the id they were stored under.
        let mut outcomes: Vec<Option<InsertOutcome>> = vec![None; calls.len()];
        for (index, p) in &fresh {
            outcomes[*index] = Some(if inserted.contains_key(&p.id) {
                InsertOutcome::Created {
                    id: p.id.hyphenated().to_string(),
                }
            } else {
                let stored: Uuid = tx
                    .scalar(
                        &Sql::new("SELECT id FROM calls WHERE source = $1 AND external_id = $2")
                            .arg(p.call.source.as_str())
                            .arg(p.call.external_id.as_deref()),
                    )
                    .await?;
                InsertOutcome::Duplicate {
                    id: id_text(&stored),
                }
            });
        }
        tx.commit().await?;

        let mut result = Vec::with_capacity(calls.len());
        for index in 0..calls.len() {
            let outcome = match earlier[index] {
                Some(first) => match &outcomes[first] {
                    Some(InsertOutcome::Created { id } | InsertOutcome::Duplicate { id }) => {
                        InsertOutcome::Duplicate { id: id.clone() }
                    }
                    None => unreachable_outcome()?,
                },
                None => match outcomes[index].clone() {
                    Some(outcome) => outcome,
                    None => unreachable_outcome()?,
                },
            };
            result.push(outcome);
        }
        Ok(result)
    }
}

fn unreachable_outcome() -> StoreResult<InsertOutcome> {
    Err(super::StoreError::Corrupt(
        "a batch item got no outcome".into(),
    ))
}

/// SQLite: the queue's random key of a new call (PostgreSQL's column default draws it; SQLite
/// cannot add a column with a volatile default).
const SQLITE_SAMPLE_KEY: &str = ", abs(random() % 2147483648)";

/// The multi-row INSERT of one chunk of new calls, returning (id, seq) of each row stored.
/// PostgreSQL also fills the `search` column (its full-text index) in the same statement.
fn insert_statement(dialect: Dialect, chunk: &[(usize, Prepared)], received_at: i64) -> Sql {
    let mut sql = Sql::new(
        "INSERT INTO calls (id, operation_id, model_id, created_at, received_at, input, output,
         latency_ms, input_tokens, output_tokens, cost_usd, metadata, source, external_id",
    );
    sql.push(match dialect {
        Dialect::Sqlite => ", sample_key) VALUES ",
        Dialect::Postgres => ", search) VALUES ",
    });
    for (i, (_, p)) in chunk.iter().enumerate() {
        sql.push(if i == 0 { "(" } else { ", (" })
            .bind(p.id)
            .push(", ")
            .bind(p.operation_id)
            .push(", ")
            .bind(p.model_id)
            .push(", ")
            .bind(p.created_at)
            .push(", ")
            .bind(received_at)
            .push(", ")
            .bind(p.input_json.as_str())
            .push(", ")
            .bind(p.call.output.as_str())
            .push(", ")
            .bind(p.call.latency_ms)
            .push(", ")
            .bind(p.call.input_tokens)
            .push(", ")
            .bind(p.call.output_tokens)
            .push(", ")
            .bind(p.call.cost_usd)
            .push(", ")
            .bind(serde_json::Value::Object(p.call.metadata.clone()).to_string())
            .push(", ")
            .bind(p.call.source.as_str())
            .push(", ")
            .bind(p.call.external_id.as_deref());
        if dialect == Dialect::Sqlite {
            sql.push(SQLITE_SAMPLE_KEY);
        }
        if dialect == Dialect::Postgres {
            sql.push(", CAST(")
                .bind(pg_search_lexemes(
                    p.operation_id,
                    p.model_id,
                    &p.call.input_search_text(),
                    &p.call.output,
                ))
                .push(" AS tsvector)");
        }
        sql.push(")");
    }
    sql.push(" ON CONFLICT DO NOTHING RETURNING id, seq");
    sql
}

/// SQLite: the search index rows of stored calls (`seq`, call); not empty.
fn fts_statement(rows: &[(i64, &Prepared)]) -> Sql {
    let mut fts = Sql::new("INSERT INTO calls_fts (rowid, input, output) VALUES ");
    for (i, (seq, p)) in rows.iter().enumerate() {
        fts.push(if i == 0 { "(" } else { ", (" })
            .bind(*seq)
            .push(", ")
            .bind(search_document(
                p.operation_id,
                p.model_id,
                &p.call.input_search_text(),
            ))
            .push(", ")
            .bind(document_text(&p.call.output))
            .push(")");
    }
    fts
}

// Rows that concurrent transactions may both lock (operations, models, counters) are always
// touched in sorted order, so two instances ingesting on PostgreSQL cannot deadlock.

async fn intern_operations(tx: &mut Tx, calls: &[NewCall], now: i64) -> StoreResult<OperationIds> {
    let names: BTreeSet<&str> = calls.iter().map(|c| c.operation.as_str()).collect();
    let mut ids = HashMap::new();
    for name in names {
        let sql = Sql::new(
            "INSERT INTO operations (name, created_at) VALUES ($1, $2)
             ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id",
        )
        .arg(name)
        .arg(now);
        ids.insert(name.to_string(), tx.scalar(&sql).await?);
    }
    Ok(ids)
}

async fn intern_models<'a>(tx: &mut Tx, calls: &'a [NewCall]) -> StoreResult<ModelIds<'a>> {
    let keys: BTreeSet<(&str, &str)> = calls
        .iter()
        .map(|c| (c.model.as_str(), c.model_version.as_str()))
        .collect();
    let mut ids = HashMap::new();
    for key in keys {
        let sql = Sql::new(
            "INSERT INTO models (name, version) VALUES ($1, $2)
             ON CONFLICT (name, version) DO UPDATE SET name = excluded.name RETURNING id",
        )
        .arg(key.0)
        .arg(key.1);
        ids.insert(key, tx.scalar(&sql).await?);
    }
    Ok(ids)
}

/// The benchmark's reference point: the same INSERT statements as `insert_calls` (one
/// transaction per batch), without looking up duplicates or keeping the counters. Built only
/// with the `bench` feature.
#[cfg(feature = "bench")]
pub async fn raw_insert_calls(
    store: &Store,
    calls: &[NewCall],
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let received_at = now.timestamp_micros();
    let mut tx = store.db.begin().await?;
    let dialect = tx.dialect();
    let operation_ids = intern_operations(&mut tx, calls, received_at).await?;
    let model_ids = intern_models(&mut tx, calls).await?;
    let rows: Vec<(usize, Prepared)> = calls
        .iter()
        .enumerate()
        .map(|(i, call)| {
            (
                i,
                Prepared::new(call, &operation_ids, &model_ids, received_at),
            )
        })
        .collect();
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let stored: HashMap<Uuid, i64> = tx
            .all::<(Uuid, i64)>(&insert_statement(dialect, chunk, received_at))
            .await?
            .into_iter()
            .collect();
        if dialect == Dialect::Sqlite {
            let indexed: Vec<(i64, &Prepared)> = chunk
                .iter()
                .filter_map(|(_, p)| stored.get(&p.id).map(|seq| (*seq, p)))
                .collect();
            if !indexed.is_empty() {
                tx.execute(&fts_statement(&indexed)).await?;
            }
        }
    }
    tx.commit().await
}
