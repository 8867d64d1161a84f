//! Where an export job's rows come from. With de-duplication or a per-operation cap, every
//! candidate must be seen before the first line is written, so the job plans first and then
//! reads its chosen calls back a chunk at a time. Without them nothing needs deciding ahead:
//! the job counts the matching calls by verdict in one query, then walks their keys in keyset
//! order (index only) and reads each call in full once, straight into its files (at a million
//! calls, the plan's extra pass was a third of the export's time). Either way the full rows
//! are read by seq, a chunk ahead of the writing.

use std::collections::{BTreeMap, VecDeque};

use super::plan::{not_teachable, plan, verdicts, Chosen};
use super::split::{input_key, split_of};
use crate::model::export::{ExportSpec, Split};
use crate::model::Verdict;
use crate::store::{ExportRow, Store};

/// Calls read in full per request.
const CHUNK: usize = 500;

/// Keys read per request when streaming (two numbers a call).
const KEY_PAGE: i64 = 5_000;

/// What the job will write, known before it starts.
pub struct Opened {
    pub source: Source,
    /// Examples to write (lines that fail the format check included).
    pub planned: u64,
    /// Calls the filter matched that give no example, by reason.
    pub left_out: BTreeMap<String, u64>,
}

/// The calls to write, in order, read a chunk ahead: while one chunk is formatted and
/// written, the next is already being read (on PostgreSQL by another connection, on SQLite
/// by another reading thread), so the database's work and the lines' overlap.
pub struct Source {
    keys: Keys,
    /// Calls known and not yet asked for, with their side of the split when the plan chose
    /// it (streamed calls get theirs from their input once read).
    queued: VecDeque<(i64, Option<Split>)>,
    reading: Option<Reading>,
}

enum Keys {
    /// Every call is in `queued` already.
    Planned,
    /// Keys are read a page at a time, in keyset order.
    Streamed {
        wanted: Vec<Verdict>,
        /// The newest call when the job started: later calls are not part of this export.
        until_seq: i64,
        after: Option<(i64, i64)>,
        finished: bool,
    },
}

/// A chunk being read in full.
struct Reading {
    chunk: Vec<(i64, Option<Split>)>,
    rows: tokio::task::JoinHandle<Result<Vec<ExportRow>, String>>,
}

/// Whether the spec's export can stream (nothing to choose among the candidates).
pub fn streams(spec: &ExportSpec) -> bool {
    !spec.dedupe && spec.max_per_operation.is_none()
}

impl Source {
    pub async fn open(store: &Store, spec: &ExportSpec) -> Result<Opened, String> {
        let err = |e: crate::store::StoreError| e.to_string();
        if !streams(spec) {
            let plan = plan(store, spec).await.map_err(err)?;
            return Ok(Opened {
                planned: plan.counts.total,
                left_out: plan.counts.left_out,
                source: Source {
                    keys: Keys::Planned,
                    queued: plan
                        .chosen
                        .into_iter()
                        .map(|Chosen { seq, split }| (seq, Some(split)))
                        .collect(),
                    reading: None,
                },
            });
        }
        let wanted = verdicts(spec);
        let until_seq = store.last_call_seq().await.map_err(err)?;
        let mut planned = 0;
        let mut left_out: BTreeMap<String, u64> = BTreeMap::new();
        for (verdict, corrected, n) in store
            .export_tally(&spec.filter, &wanted, until_seq)
            .await
            .map_err(err)?
        {
            match not_teachable(spec, verdict, corrected) {
                Some(reason) => *left_out.entry(reason.to_string()).or_default() += n,
                None => planned += n,
            }
        }
        Ok(Opened {
            planned,
            left_out,
            source: Source {
                keys: Keys::Streamed {
                    wanted,
                    until_seq,
                    after: None,
                    finished: false,
                },
                queued: VecDeque::new(),
                reading: None,
            },
        })
    }

    /// The next rows to write, each with its side of the split; `None` at the end.
    pub async fn next(
        &mut self,
        store: &Store,
        spec: &ExportSpec,
    ) -> Result<Option<Vec<(ExportRow, Split)>>, String> {
        if self.reading.is_none() {
            self.start_reading(store, spec).await?;
        }
        let Some(Reading { chunk, rows }) = self.reading.take() else {
            return Ok(None);
        };
        // The next chunk is on its way before this one is awaited.
        self.start_reading(store, spec).await?;
        let rows = rows
            .await
            .map_err(|e| format!("reading the export's calls stopped: {e}"))??;
        if rows.len() != chunk.len() {
            return Err(format!(
                "{} of {} calls could not be read back (deleted while the export ran?)",
                chunk.len().saturating_sub(rows.len()),
                chunk.len()
            ));
        }
        let mut out = Vec::with_capacity(rows.len());
        for (row, (seq, split)) in rows.into_iter().zip(chunk) {
            if row.seq != seq {
                return Err("the calls read back are not the ones asked for".to_string());
            }
            let split = match split {
                Some(split) => split,
                None => {
                    // Counted as left out when the job started.
                    if not_teachable(spec, row.verdict, row.correction().is_some()).is_some() {
                        continue;
                    }
                    if spec.validation_percent > 0 {
                        split_of(input_key(&row.input_value()?), spec.validation_percent)
                    } else {
                        Split::Train
                    }
                }
            };
            out.push((row, split));
        }
        Ok(Some(out))
    }

    /// Starts reading the next chunk in full, reading keys first when none are queued.
    async fn start_reading(&mut self, store: &Store, spec: &ExportSpec) -> Result<(), String> {
        if self.queued.is_empty() {
            self.read_keys(store, spec).await?;
        }
        if self.queued.is_empty() {
            return Ok(());
        }
        let take = self.queued.len().min(CHUNK);
        let chunk: Vec<(i64, Option<Split>)> = self.queued.drain(..take).collect();
        let seqs: Vec<i64> = chunk.iter().map(|(seq, _)| *seq).collect();
        let store = store.clone();
        let rows =
            tokio::spawn(async move { store.export_rows(&seqs).await.map_err(|e| e.to_string()) });
        self.reading = Some(Reading { chunk, rows });
        Ok(())
    }

    async fn read_keys(&mut self, store: &Store, spec: &ExportSpec) -> Result<(), String> {
        let Keys::Streamed {
            wanted,
            until_seq,
            after,
            finished,
        } = &mut self.keys
        else {
            return Ok(());
        };
        if *finished {
            return Ok(());
        }
        let keys = store
            .export_keys_after(&spec.filter, wanted, *until_seq, *after, KEY_PAGE)
            .await
            .map_err(|e| e.to_string())?;
        *finished = keys.len() < KEY_PAGE as usize;
        if let Some(last) = keys.last() {
            *after = Some(*last);
        }
        self.queued
            .extend(keys.into_iter().map(|(_, seq)| (seq, None)));
        Ok(())
    }
}

impl Drop for Source {
    /// A job that stops early (cancelled, failed) leaves no read running.
    fn drop(&mut self) {
        if let Some(reading) = self.reading.take() {
            reading.rows.abort();
        }
    }
}
