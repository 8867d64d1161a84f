//! Users, sessions, API keys and the audit log. Secrets never reach this layer: passwords
//! arrive hashed (argon2id), session cookies and API keys as their SHA-256.

use chrono::{DateTime, Utc};

use super::{micros_to_time, Dialect, Sql, Store, StoreResult, Tx};
use crate::model::auth::{AuditEntry, Role, UserSummary};

/// A user as sign-in needs them.
#[derive(Clone, Debug)]
pub struct UserRecord {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub password_hash: String,
    pub disabled: bool,
}

/// What an audit entry records; `at` is set by the store.
#[derive(Clone, Debug, Default)]
pub struct NewAudit {
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: String,
    pub address: Option<String>,
}

/// Which audit entries to list, newest first.
#[derive(Clone, Debug, Default)]
pub struct AuditQuery {
    pub actor: Option<String>,
    /// An action (`key.create`) or a family (`key`, matching `key.*`).
    pub action: Option<String>,
    /// Entries older than this id (the next page).
    pub before: Option<i64>,
    pub limit: i64,
}

pub(super) fn role(text: &str) -> Role {
    // The column's CHECK constraint allows only the four names; anything else is treated as
    // the least privileged role rather than trusted.
    Role::parse(text).unwrap_or(Role::Reviewer)
}

type UserRow = (i64, String, String, String, Option<i64>);

/// Ends every session of the user `name`.
fn end_sessions(name: &str) -> Sql {
    Sql::new("DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE name = $1)")
        .arg(name)
}

/// The statement that appends `entry` to the audit log: run on its own or inside the
/// transaction of the change it records.
pub(super) fn audit_insert(entry: &NewAudit, now: DateTime<Utc>) -> Sql {
    Sql::new(
        "INSERT INTO audit_log (at, actor, action, target, detail, address)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .arg(now.timestamp_micros())
    .arg(entry.actor.as_str())
    .arg(entry.action.as_str())
    .arg(entry.target.as_str())
    .arg(entry.detail.as_str())
    .arg(entry.address.as_deref())
}

/// Ends a user change: with its audit entry and committed when a row changed, rolled back
/// (by dropping the transaction) when there was no such user.
async fn finish_user_change(
    mut tx: Tx,
    changed: u64,
    audit: &NewAudit,
    now: DateTime<Utc>,
) -> StoreResult<UserChange> {
    if changed > 0 {
        tx.execute(&audit_insert(audit, now)).await?;
        tx.commit().await?;
    }
    Ok(UserChange::done(changed))
}

impl Store {
    /// Number of users, disabled ones included.
    pub async fn count_users(&self) -> StoreResult<i64> {
        self.db
            .scalar(&Sql::new("SELECT count(*) FROM users"))
            .await
    }

    /// Creates a user and writes `audit` in the same transaction; `None` (and nothing
    /// written) when the name is taken. `must_change_password`: the password was generated and
    /// the person must replace it at first sign-in.
    pub async fn create_user(
        &self,
        name: &str,
        role: Role,
        password_hash: &str,
        must_change_password: bool,
        audit: &NewAudit,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<i64>> {
        let mut tx = self.db.begin().await?;
        let rows: Vec<(i64,)> = tx
            .all(
                &Sql::new(
                    "INSERT INTO users (name, role, password_hash, must_change_password, created_at)
                     VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (name) DO NOTHING RETURNING id",
                )
                .arg(name)
                .arg(role.as_str())
                .arg(password_hash)
                .arg(must_change_password)
                .arg(now.timestamp_micros()),
            )
            .await?;
        let Some((id,)) = rows.first() else {
            return Ok(None);
        };
        tx.execute(&audit_insert(audit, now)).await?;
        tx.commit().await?;
        Ok(Some(*id))
    }

    /// A person's own new password: the hash replaced, the must-change mark cleared, every
    /// other session of theirs ended, and the audit entry written, in one transaction.
    pub async fn change_own_password(
        &self,
        user_id: i64,
        password_hash: &str,
        keep_session: &str,
        audit: &NewAudit,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        tx.execute(
            &Sql::new(
                "UPDATE users SET password_hash = $1, must_change_password = $2 WHERE id = $3",
            )
            .arg(password_hash)
            .arg(false)
            .arg(user_id),
        )
        .await?;
        tx.execute(
            &Sql::new("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
                .arg(user_id)
                .arg(keep_session),
        )
        .await?;
        tx.execute(&audit_insert(audit, now)).await?;
        tx.commit().await
    }

    pub async fn find_user(&self, name: &str) -> StoreResult<Option<UserRecord>> {
        let row: Option<UserRow> = self
            .db
            .optional(
                &Sql::new(
                    "SELECT id, name, role, password_hash, disabled_at FROM users WHERE name = $1",
                )
                .arg(name),
            )
            .await?;
        Ok(
            row.map(|(id, name, r, password_hash, disabled_at)| UserRecord {
                id,
                name,
                role: role(&r),
                password_hash,
                disabled: disabled_at.is_some(),
            }),
        )
    }

    pub async fn list_users(&self) -> StoreResult<Vec<UserSummary>> {
        type Row = (i64, String, String, i64, Option<i64>, Option<i64>);
        let rows: Vec<Row> = self
            .db
            .all(&Sql::new(
                "SELECT id, name, role, created_at, disabled_at, last_login_at FROM users ORDER BY name",
            ))
            .await?;
        Ok(rows
            .into_iter()
            .map(
                |(id, name, r, created_at, disabled_at, last_login_at)| UserSummary {
                    id,
                    name,
                    role: role(&r),
                    disabled: disabled_at.is_some(),
                    created_at: micros_to_time(created_at),
                    last_login_at: last_login_at.map(micros_to_time),
                },
            )
            .collect())
    }

    /// Gives `name` another role, unless that would leave no enabled admin. The enabled
    /// admins are locked first (PostgreSQL: their rows; SQLite: the writer's lock), so two
    /// admins demoting each other at once leave one of them. `audit` is written in the same
    /// transaction when the change is made.
    pub async fn set_user_role(
        &self,
        name: &str,
        role: Role,
        audit: &NewAudit,
        now: DateTime<Utc>,
    ) -> StoreResult<UserChange> {
        let mut tx = self.db.begin().await?;
        if role != Role::Admin && is_last_admin(&mut tx, name).await? {
            return Ok(UserChange::LastAdmin);
        }
        let changed = tx
            .execute(
                &Sql::new("UPDATE users SET role = $1 WHERE name = $2")
                    .arg(role.as_str())
                    .arg(name),
            )
            .await?;
        finish_user_change(tx, changed, audit, now).await
    }

    /// Disables (or enables again) a user, unless that would leave no enabled admin.
    /// Disabling ends their sessions and stops their API keys at once (both are checked
    /// against the user at every request). `audit` as for `set_user_role`.
    pub async fn set_user_disabled(
        &self,
        name: &str,
        disabled: bool,
        audit: &NewAudit,
        now: DateTime<Utc>,
    ) -> StoreResult<UserChange> {
        let mut tx = self.db.begin().await?;
        if disabled && is_last_admin(&mut tx, name).await? {
            return Ok(UserChange::LastAdmin);
        }
        let changed = tx
            .execute(
                &Sql::new("UPDATE users SET disabled_at = $1 WHERE name = $2")
                    .arg(disabled.then_some(now.timestamp_micros()))
                    .arg(name),
            )
            .await?;
        if disabled {
            tx.execute(&end_sessions(name)).await?;
        }
        finish_user_change(tx, changed, audit, now).await
    }

    /// Sets a new password hash (`must_change`: a generated one, to be replaced at the next
    /// sign-in) and ends every session of the user; `false` (nothing written) when there is
    /// no such user. `audit` is written in the same transaction.
    pub async fn set_user_password(
        &self,
        name: &str,
        password_hash: &str,
        must_change: bool,
        audit: &NewAudit,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut tx = self.db.begin().await?;
        let changed = tx
            .execute(
                &Sql::new(
                    "UPDATE users SET password_hash = $1, must_change_password = $2 WHERE name = $3",
                )
                .arg(password_hash)
                .arg(must_change)
                .arg(name),
            )
            .await?;
        if changed == 0 {
            return Ok(false);
        }
        tx.execute(&end_sessions(name)).await?;
        tx.execute(&audit_insert(audit, now)).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Appends an entry to the audit log.
    pub async fn audit(&self, entry: &NewAudit, now: DateTime<Utc>) -> StoreResult<()> {
        self.db.execute(&audit_insert(entry, now)).await?;
        Ok(())
    }

    /// Audit entries, newest first.
    pub async fn list_audit(&self, query: &AuditQuery) -> StoreResult<Vec<AuditEntry>> {
        type Row = (i64, i64, String, String, String, String, Option<String>);
        let mut sql = Sql::new(
            "SELECT id, at, actor, action, target, detail, address FROM audit_log WHERE 1 = 1",
        );
        if let Some(actor) = &query.actor {
            sql.push(" AND actor = ").bind(actor.as_str());
        }
        if let Some(action) = &query.action {
            if action.contains('.') {
                sql.push(" AND action = ").bind(action.as_str());
            } else {
                // A family: `key` matches `key.create` and `key.revoke`.
                sql.push(" AND action >= ")
                    .bind(format!("{action}."))
                    .push(" AND action < ")
                    .bind(format!("{action}/"));
            }
        }
        if let Some(before) = query.before {
            sql.push(" AND id < ").bind(before);
        }
        sql.push(" ORDER BY id DESC LIMIT ")
            .bind(query.limit.clamp(1, 500));
        let rows: Vec<Row> = self.db.all(&sql).await?;
        Ok(rows
            .into_iter()
            .map(
                |(id, at, actor, action, target, detail, address)| AuditEntry {
                    id,
                    at: micros_to_time(at),
                    actor,
                    action,
                    target,
                    detail,
                    address,
                },
            )
            .collect())
    }
}

/// What became of a change to a user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserChange {
    Done,
    NotFound,
    /// Refused: the user is the last enabled admin.
    LastAdmin,
}

impl UserChange {
    fn done(rows: u64) -> UserChange {
        if rows > 0 {
            UserChange::Done
        } else {
            UserChange::NotFound
        }
    }
}

/// Whether `name` is the only enabled admin, with the enabled admins locked until the
/// transaction ends.
async fn is_last_admin(tx: &mut Tx, name: &str) -> StoreResult<bool> {
    let mut sql =
        Sql::new("SELECT name FROM users WHERE role = $1 AND disabled_at IS NULL ORDER BY name");
    if tx.dialect() == Dialect::Postgres {
        sql.push(" FOR UPDATE");
    }
    let admins: Vec<(String,)> = tx.all(&sql.arg(Role::Admin.as_str())).await?;
    Ok(admins.len() == 1 && admins[0].0 == name)
}
