//! Background jobs: work that must happen once however many instances run. A job is claimed
//! by one instance with a row lock (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so instances never
//! wait on each other's claims; SQLite's single writer serializes claims by itself).

use chrono::{DateTime, Duration, Utc};

use super::{micros_to_time, Dialect, Sql, Store, StoreResult};

/// A claimed job whose worker stopped answering is claimed again after this long.
const LEASE_MINUTES: i64 = 10;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobState {
    Queued,
    Running,
    Done,
    Failed,
}

impl JobState {
    fn parse(text: &str) -> JobState {
        match text {
            "running" => JobState::Running,
            "done" => JobState::Done,
            "failed" => JobState::Failed,
            _ => JobState::Queued,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    /// JSON text.
    pub payload: String,
    pub state: JobState,
    /// Times the job was claimed; 1 for a job that ran once.
    pub attempts: i64,
    pub claimed_by: Option<String>,
    pub finished_at: Option<DateTime<Utc>>,
    pub error: Option<String>,
}

pub(super) type JobRow = (
    i64,
    String,
    String,
    String,
    i64,
    Option<String>,
    Option<i64>,
    Option<String>,
);

pub(super) const JOB_COLUMNS: &str =
    "id, kind, payload, state, attempts, claimed_by, finished_at, error";

pub(super) fn job_of(
    (id, kind, payload, state, attempts, claimed_by, finished_at, error): JobRow,
) -> Job {
    Job {
        id,
        kind,
        payload,
        state: JobState::parse(&state),
        attempts,
        claimed_by,
        finished_at: finished_at.map(micros_to_time),
        error,
    }
}

impl Store {
    /// Queues a job to run at or after `run_after`; returns its id.
    pub async fn enqueue_job(
        &self,
        kind: &str,
        payload: &str,
        run_after: DateTime<Utc>,
    ) -> StoreResult<i64> {
        let rows: Vec<(i64,)> = self
            .db
            .write_all(
                &Sql::new(
                    "INSERT INTO jobs (kind, payload, run_after) VALUES ($1, $2, $3) RETURNING id",
                )
                .arg(kind)
                .arg(payload)
                .arg(run_after.timestamp_micros()),
            )
            .await?;
        Ok(rows.first().map(|(id,)| *id).unwrap_or_default())
    }

    /// Claims the oldest due job for `worker`, or a running one whose lease ran out. Two
    /// workers never claim the same job.
    pub async fn claim_job(&self, worker: &str, now: DateTime<Utc>) -> StoreResult<Option<Job>> {
        let now = now.timestamp_micros();
        let expired = now
            - Duration::minutes(LEASE_MINUTES)
                .num_microseconds()
                .unwrap_or(0);
        let mut sql = Sql::new(format!(
            "UPDATE jobs SET state = 'running', claimed_by = $1, claimed_at = $2, attempts = attempts + 1
             WHERE id = (SELECT id FROM jobs
                         WHERE (state = 'queued' AND run_after <= $2)
                            OR (state = 'running' AND claimed_at < $3)
                         ORDER BY run_after, id LIMIT 1{})
             RETURNING {JOB_COLUMNS}",
            match self.dialect() {
                Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
                Dialect::Sqlite => "",
            }
        ));
        sql = sql.arg(worker).arg(now).arg(expired);
        let rows: Vec<JobRow> = self.db.write_all(&sql).await?;
        Ok(rows.into_iter().next().map(job_of))
    }

    /// Records the end of a job claimed by `worker`; false when the claim was lost (the lease
    /// ran out and another worker took it).
    pub async fn finish_job(
        &self,
        id: i64,
        worker: &str,
        result: Result<(), String>,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let (state, error) = match result {
            Ok(()) => ("done", None),
            Err(error) => ("failed", Some(error)),
        };
        let changed = self
            .db
            .execute(
                &Sql::new(
                    "UPDATE jobs SET state = $3, finished_at = $4, error = $5
                     WHERE id = $1 AND claimed_by = $2 AND state = 'running'",
                )
                .arg(id)
                .arg(worker)
                .arg(state)
                .arg(now.timestamp_micros())
                .arg(error),
            )
            .await?;
        Ok(changed == 1)
    }

    /// Jobs, newest first.
    pub async fn list_jobs(&self, limit: i64) -> StoreResult<Vec<Job>> {
        let rows: Vec<JobRow> = self
            .db
            .all(
                &Sql::new(format!(
                    "SELECT {JOB_COLUMNS} FROM jobs ORDER BY id DESC LIMIT $1"
                ))
                .arg(limit),
            )
            .await?;
        Ok(rows.into_iter().map(job_of).collect())
    }

    /// Refreshes the planner's statistics (the `optimize` job).
    pub async fn optimize(&self) -> StoreResult<()> {
        let statement = match self.dialect() {
            Dialect::Sqlite => "PRAGMA optimize",
            Dialect::Postgres => "ANALYZE",
        };
        self.db.execute(&Sql::new(statement)).await?;
        Ok(())
    }
}
