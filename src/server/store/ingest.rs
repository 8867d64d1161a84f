//! Storing ingested calls: a whole batch in one transaction, duplicates detected by
//! (source, external_id), counters kept in step.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};
use uuid::Uuid;

use super::{id_text, search_document, Store, StoreResult, DAY_MICROS};
use crate::model::ingest::NewCall;

/// What became of one call of a batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InsertOutcome {
    Created { id: String },
    Duplicate { id: String },
}

/// Rows per INSERT statement: 16 bound values a row stays far below SQLite's 32,766 limit.
const ROWS_PER_STATEMENT: usize = 250;

struct Prepared<'a> {
    call: &'a NewCall,
    id: Uuid,
    operation_id: i64,
    model_id: i64,
    created_at: i64,
    input_json: String,
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
        let mut tx = self.write.begin().await?;

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
                Prepared {
                    call,
                    id: Uuid::now_v7(),
                    operation_id: operation_ids[&call.operation],
                    model_id: model_ids[&(call.model.as_str(), call.model_version.as_str())],
                    created_at: call.created_at_micros.unwrap_or(received_at),
                    input_json: call.input.to_string(),
                },
            ));
        }

        let mut inserted: HashMap<Uuid, i64> = HashMap::with_capacity(fresh.len());
        for chunk in fresh.chunks(ROWS_PER_STATEMENT) {
            let mut insert = QueryBuilder::<Sqlite>::new(
                "INSERT INTO calls (id, operation_id, model_id, created_at, received_at, input, output,
                 latency_ms, input_tokens, output_tokens, cost_usd, metadata, source, external_id) ",
            );
            insert.push_values(chunk, |mut row, (_, p)| {
                row.push_bind(p.id.as_bytes().to_vec())
                    .push_bind(p.operation_id)
                    .push_bind(p.model_id)
                    .push_bind(p.created_at)
                    .push_bind(received_at)
                    .push_bind(p.input_json.as_str())
                    .push_bind(p.call.output.as_str())
                    .push_bind(p.call.latency_ms)
                    .push_bind(p.call.input_tokens)
                    .push_bind(p.call.output_tokens)
                    .push_bind(p.call.cost_usd)
                    .push_bind(serde_json::Value::Object(p.call.metadata.clone()).to_string())
                    .push_bind(p.call.source.as_str())
                    .push_bind(p.call.external_id.as_deref());
            });
            insert.push(" ON CONFLICT DO NOTHING RETURNING id, seq");
            let rows: Vec<(Vec<u8>, i64)> = insert.build_query_as().fetch_all(&mut *tx).await?;
            for (id, seq) in rows {
                if let Ok(id) = Uuid::from_slice(&id) {
                    inserted.insert(id, seq);
                }
            }
        }

        let created: Vec<&(usize, Prepared)> = fresh
            .iter()
            .filter(|(_, p)| inserted.contains_key(&p.id))
            .collect();
        for chunk in created.chunks(ROWS_PER_STATEMENT) {
            let mut fts =
                QueryBuilder::<Sqlite>::new("INSERT INTO calls_fts (rowid, input, output) ");
            fts.push_values(chunk, |mut row, (_, p)| {
                row.push_bind(inserted[&p.id])
                    .push_bind(search_document(
                        p.operation_id,
                        p.model_id,
                        &p.call.input_search_text(),
                    ))
                    .push_bind(p.call.output.as_str());
            });
            fts.build().execute(&mut *tx).await?;
        }
        add_to_counts(
            &mut tx,
            created
                .iter()
                .map(|(_, p)| (p.operation_id, p.model_id, p.created_at)),
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
                let stored: Vec<u8> = sqlx::query_scalar(
                    "SELECT id FROM calls WHERE source = ?1 AND external_id = ?2",
                )
                .bind(p.call.source.as_str())
                .bind(p.call.external_id.as_deref())
                .fetch_one(&mut *tx)
                .await?;
                InsertOutcome::Duplicate {
                    id: id_text(&stored)?,
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

async fn intern_operations(
    conn: &mut SqliteConnection,
    calls: &[NewCall],
    now: i64,
) -> StoreResult<HashMap<String, i64>> {
    let mut ids = HashMap::new();
    for call in calls {
        if ids.contains_key(&call.operation) {
            continue;
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO operations (name, created_at) VALUES (?1, ?2)
             ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id",
        )
        .bind(&call.operation)
        .bind(now)
        .fetch_one(&mut *conn)
        .await?;
        ids.insert(call.operation.clone(), id);
    }
    Ok(ids)
}

async fn intern_models<'a>(
    conn: &mut SqliteConnection,
    calls: &'a [NewCall],
) -> StoreResult<HashMap<(&'a str, &'a str), i64>> {
    let mut ids = HashMap::new();
    for call in calls {
        let key = (call.model.as_str(), call.model_version.as_str());
        if ids.contains_key(&key) {
            continue;
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO models (name, version) VALUES (?1, ?2)
             ON CONFLICT (name, version) DO UPDATE SET name = excluded.name RETURNING id",
        )
        .bind(key.0)
        .bind(key.1)
        .fetch_one(&mut *conn)
        .await?;
        ids.insert(key, id);
    }
    Ok(ids)
}

/// Adds new (unreviewed) calls to the per-day counters.
async fn add_to_counts(
    conn: &mut SqliteConnection,
    calls: impl Iterator<Item = (i64, i64, i64)>,
) -> StoreResult<()> {
    let mut per_day: HashMap<(i64, i64, i64), i64> = HashMap::new();
    for (operation_id, model_id, created_at) in calls {
        *per_day
            .entry((operation_id, model_id, created_at.div_euclid(DAY_MICROS)))
            .or_default() += 1;
    }
    for ((operation_id, model_id, day), n) in per_day {
        sqlx::query(
            "INSERT INTO call_counts (operation_id, model_id, day, verdict, n) VALUES (?1, ?2, ?3, 0, ?4)
             ON CONFLICT DO UPDATE SET n = n + excluded.n",
        )
        .bind(operation_id)
        .bind(model_id)
        .bind(day)
        .bind(n)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// The benchmark's reference point: the same rows written the fastest plain way sqlx allows
/// (multi-row INSERTs, one transaction per batch), with no HTTP, no validation, no duplicate
/// detection and no counters. Row keys are assigned here, so it must run on its own database.
pub async fn raw_insert_calls(
    store: &Store,
    calls: &[NewCall],
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let received_at = now.timestamp_micros();
    let mut tx = store.write.begin().await?;
    let operation_ids = intern_operations(&mut tx, calls, received_at).await?;
    let model_ids = intern_models(&mut tx, calls).await?;
    let first_seq: i64 = sqlx::query_scalar("SELECT coalesce(max(seq), 0) + 1 FROM calls")
        .fetch_one(&mut *tx)
        .await?;
    let numbered: Vec<(i64, &NewCall)> = calls
        .iter()
        .enumerate()
        .map(|(i, c)| (first_seq + i as i64, c))
        .collect();
    for chunk in numbered.chunks(ROWS_PER_STATEMENT) {
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT INTO calls (seq, id, operation_id, model_id, created_at, received_at, input, output,
             latency_ms, input_tokens, output_tokens, cost_usd, metadata, source, external_id) ",
        );
        insert.push_values(chunk, |mut row, (seq, call)| {
            row.push_bind(*seq)
                .push_bind(Uuid::now_v7().as_bytes().to_vec())
                .push_bind(operation_ids[&call.operation])
                .push_bind(model_ids[&(call.model.as_str(), call.model_version.as_str())])
                .push_bind(call.created_at_micros.unwrap_or(received_at))
                .push_bind(received_at)
                .push_bind(call.input.to_string())
                .push_bind(call.output.as_str())
                .push_bind(call.latency_ms)
                .push_bind(call.input_tokens)
                .push_bind(call.output_tokens)
                .push_bind(call.cost_usd)
                .push_bind(serde_json::Value::Object(call.metadata.clone()).to_string())
                .push_bind(call.source.as_str())
                .push_bind(call.external_id.as_deref());
        });
        insert.build().execute(&mut *tx).await?;
        let mut fts = QueryBuilder::<Sqlite>::new("INSERT INTO calls_fts (rowid, input, output) ");
        fts.push_values(chunk, |mut row, (seq, call)| {
            row.push_bind(*seq)
                .push_bind(search_document(
                    operation_ids[&call.operation],
                    model_ids[&(call.model.as_str(), call.model_version.as_str())],
                    &call.input_search_text(),
                ))
                .push_bind(call.output.as_str());
        });
        fts.build().execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}
