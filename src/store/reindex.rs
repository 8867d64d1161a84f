//! Writes every call's search document again after the word definition changed (a migration
//! leaves a row in `search_rebuild`): in batches by `seq`, each batch committed with the
//! position reached, so a stopped start resumes where it was. Runs on start, before serving.

use std::time::Instant;

use super::search::{pg_search_lexemes, search_document};
use super::{Dialect, Sql, Store, StoreResult};
use crate::model::ingest::input_search_text;
use crate::model::search::document_text;

/// Calls rewritten per transaction (each row may hold megabytes of text: small batches keep
/// the memory of a start bounded).
const BATCH: i64 = 200;

type Row = (i64, i64, i64, String, String);

impl Store {
    /// Rewrites the search documents a migration asked for; returns how many calls.
    pub async fn rebuild_search_documents(&self) -> StoreResult<u64> {
        let Some((mut after,)) = self
            .db
            .optional::<(i64,)>(&Sql::new("SELECT after_seq FROM search_rebuild"))
            .await?
        else {
            return Ok(0);
        };
        let started = Instant::now();
        let total: i64 = self
            .db
            .scalar(&Sql::new("SELECT count(*) FROM calls"))
            .await?;
        tracing::info!(
            calls = total,
            "rewriting the search index with the new word rules"
        );
        let dialect = self.dialect();
        let mut done = 0u64;
        loop {
            let rows: Vec<Row> = self
                .db
                .all(
                    &Sql::new(
                        "SELECT seq, operation_id, model_id, input, output FROM calls WHERE seq > $1 ORDER BY seq LIMIT $2",
                    )
                    .arg(after)
                    .arg(BATCH),
                )
                .await?;
            let Some(&(last, ..)) = rows.last() else {
                break;
            };
            let mut tx = self.db.begin().await?;
            for (seq, operation_id, model_id, input, output) in &rows {
                // The stored input is the JSON that ingest checked; text that no longer
                // parses is indexed as it is.
                let input_text = serde_json::from_str::<serde_json::Value>(input)
                    .map(|value| input_search_text(&value))
                    .unwrap_or_else(|_| input.clone());
                let statement = match dialect {
                    Dialect::Sqlite => Sql::new(
                        "INSERT OR REPLACE INTO calls_fts (rowid, input, output) VALUES ($1, $2, $3)",
                    )
                    .arg(*seq)
                    .arg(search_document(*operation_id, *model_id, &input_text))
                    .arg(document_text(output)),
                    Dialect::Postgres => Sql::new(
                        "UPDATE calls SET search = CAST($1 AS tsvector) WHERE seq = $2",
                    )
                    .arg(pg_search_lexemes(*operation_id, *model_id, &input_text, output))
                    .arg(*seq),
                };
                tx.execute(&statement).await?;
            }
            tx.execute(&Sql::new("UPDATE search_rebuild SET after_seq = $1").arg(last))
                .await?;
            tx.commit().await?;
            after = last;
            done += rows.len() as u64;
            if done % 100_000 < BATCH as u64 {
                tracing::info!(done, of = total, "search index");
            }
        }
        self.db
            .execute(&Sql::new("DELETE FROM search_rebuild"))
            .await?;
        tracing::info!(
            calls = done,
            seconds = started.elapsed().as_secs_f64(),
            "search index rewritten"
        );
        Ok(done)
    }
}
