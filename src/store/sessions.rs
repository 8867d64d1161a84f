//! Sign-in sessions: stored by the SHA-256 of their cookie, renewed as they are used, ended
//! by sign-out, by a password change and by an admin.

use chrono::{DateTime, Utc};

use super::accounts::role;
use super::{micros_to_time, Sql, Store, StoreResult};
use crate::model::auth::Role;

/// The user behind a live session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionUser {
    pub user_id: i64,
    pub name: String,
    pub role: Role,
    /// Signed in with a generated password: only the password page until it is changed.
    pub must_change_password: bool,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

impl Store {
    /// Starts a session for a user who just proved their password.
    pub async fn create_session(
        &self,
        token_hash: &str,
        user_id: i64,
        address: Option<&str>,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let now = now.timestamp_micros();
        let mut tx = self.db.begin().await?;
        tx.execute(
            &Sql::new(
                "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, address)
                 VALUES ($1, $2, $3, $3, $4)",
            )
            .arg(token_hash)
            .arg(user_id)
            .arg(now)
            .arg(address),
        )
        .await?;
        tx.execute(
            &Sql::new("UPDATE users SET last_login_at = $1 WHERE id = $2")
                .arg(now)
                .arg(user_id),
        )
        .await?;
        tx.commit().await
    }

    /// The enabled user behind a session, if the session exists.
    pub async fn session_user(&self, token_hash: &str) -> StoreResult<Option<SessionUser>> {
        let row: Option<(i64, String, String, bool, i64, i64)> = self
            .db
            .optional(
                &Sql::new(
                    "SELECT u.id, u.name, u.role, u.must_change_password, s.created_at, s.last_seen_at
                     FROM sessions s JOIN users u ON u.id = s.user_id
                     WHERE s.token_hash = $1 AND u.disabled_at IS NULL",
                )
                .arg(token_hash),
            )
            .await?;
        Ok(row.map(
            |(user_id, name, r, must, created_at, last_seen_at)| SessionUser {
                user_id,
                name,
                role: role(&r),
                must_change_password: must,
                created_at: micros_to_time(created_at),
                last_seen_at: micros_to_time(last_seen_at),
            },
        ))
    }

    pub async fn touch_session(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<()> {
        self.db
            .execute(
                &Sql::new("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
                    .arg(now.timestamp_micros())
                    .arg(token_hash),
            )
            .await?;
        Ok(())
    }

    pub async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        self.db
            .execute(&Sql::new("DELETE FROM sessions WHERE token_hash = $1").arg(token_hash))
            .await?;
        Ok(())
    }

    /// Drops sessions idle since `idle_before` or started before `started_before`.
    pub async fn delete_expired_sessions(
        &self,
        idle_before: DateTime<Utc>,
        started_before: DateTime<Utc>,
    ) -> StoreResult<u64> {
        self.db
            .execute(
                &Sql::new("DELETE FROM sessions WHERE last_seen_at < $1 OR created_at < $2")
                    .arg(idle_before.timestamp_micros())
                    .arg(started_before.timestamp_micros()),
            )
            .await
    }
}
