//! Where an export job's rows come from. With de-duplication or a per-operation cap, every
//! candidate must be seen before the first line is written, so the job plans first and then
//! reads its chosen calls back a chunk at a time. Without them nothing needs deciding ahead:
//! the job counts the matching calls by verdict in one query and streams the calls in keyset
//! order straight into its files, reading each call once (at a million calls, the plan's
//! extra pass was a third of the export's time).

use std::collections::BTreeMap;

use super::plan::{not_teachable, plan, verdicts, Chosen};
use super::split::{input_key, split_of};
use crate::model::export::{ExportSpec, Split};
use crate::model::Verdict;
use crate::store::{ExportRow, Store};

/// Calls read per round.
const CHUNK: usize = 500;

/// What the job will write, known before it starts.
pub struct Opened {
    pub source: Source,
    /// Examples to write (lines that fail the format check included).
    pub planned: u64,
    /// Calls the filter matched that give no example, by reason.
    pub left_out: BTreeMap<String, u64>,
}

pub enum Source {
    Planned {
        chosen: Vec<Chosen>,
        next: usize,
    },
    Streamed {
        wanted: Vec<Verdict>,
        /// The newest call when the job started: later calls are not part of this export.
        until_seq: i64,
        after: Option<(i64, i64)>,
        finished: bool,
    },
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
                source: Source::Planned {
                    chosen: plan.chosen,
                    next: 0,
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
            source: Source::Streamed {
                wanted,
                until_seq,
                after: None,
                finished: false,
            },
        })
    }

    /// The next rows to write, each with its side of the split; `None` at the end.
    pub async fn next(
        &mut self,
        store: &Store,
        spec: &ExportSpec,
    ) -> Result<Option<Vec<(ExportRow, Split)>>, String> {
        match self {
            Source::Planned { chosen, next } => {
                let chunk = &chosen[*next..(*next + CHUNK).min(chosen.len())];
                if chunk.is_empty() {
                    return Ok(None);
                }
                *next += chunk.len();
                let seqs: Vec<i64> = chunk.iter().map(|c| c.seq).collect();
                let rows = store.export_rows(&seqs).await.map_err(|e| e.to_string())?;
                if rows.len() != chunk.len() {
                    return Err(format!(
                        "{} of {} planned calls could not be read back",
                        chunk.len() - rows.len(),
                        chunk.len()
                    ));
                }
                rows.into_iter()
                    .zip(chunk)
                    .map(|(row, chosen)| {
                        if row.seq == chosen.seq {
                            Ok((row, chosen.split))
                        } else {
                            Err("the calls read back are not the ones planned".to_string())
                        }
                    })
                    .collect::<Result<Vec<_>, String>>()
                    .map(Some)
            }
            Source::Streamed {
                wanted,
                until_seq,
                after,
                finished,
            } => {
                if *finished {
                    return Ok(None);
                }
                let rows = store
                    .export_rows_after(&spec.filter, wanted, *until_seq, *after, CHUNK as i64)
                    .await
                    .map_err(|e| e.to_string())?;
                *finished = rows.len() < CHUNK;
                let Some(last) = rows.last() else {
                    return Ok(None);
                };
                *after = Some((last.created_at.timestamp_micros(), last.seq));
                let mut out = Vec::with_capacity(rows.len());
                for row in rows {
                    // Counted as left out when the job started.
                    if not_teachable(spec, row.verdict, row.correction().is_some()).is_some() {
                        continue;
                    }
                    let split = if spec.validation_percent > 0 {
                        split_of(input_key(&row.input_value()?), spec.validation_percent)
                    } else {
                        Split::Train
                    };
                    out.push((row, split));
                }
                Ok(Some(out))
            }
        }
    }
}
