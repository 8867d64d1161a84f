//! API keys: stored by the SHA-256 of their secret with a short prefix to recognise them,
//! their scopes, when they were last used, and when they were revoked. Creating and revoking
//! write their audit entry in the same transaction.

use chrono::{DateTime, Utc};

use super::accounts::{audit_insert, role, NewAudit};
use super::{micros_to_time, Sql, Store, StoreResult};
use crate::model::auth::{KeySummary, Role, Scope};

/// The owner and scopes behind a live API key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyOwner {
    pub key_id: i64,
    pub prefix: String,
    pub user_id: i64,
    pub user_name: String,
    pub role: Role,
    pub scopes: Vec<Scope>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A new API key, its secret already hashed.
pub struct NewKey<'a> {
    pub user_id: i64,
    pub name: &'a str,
    pub prefix: &'a str,
    pub key_hash: &'a str,
    pub scopes: &'a [Scope],
}

fn scopes(text: &str) -> Vec<Scope> {
    text.split(',').filter_map(Scope::parse).collect()
}

impl Store {
    /// Stores a new key and writes `audit` in the same transaction.
    pub async fn create_key(
        &self,
        key: &NewKey<'_>,
        audit: &NewAudit,
        now: DateTime<Utc>,
    ) -> StoreResult<i64> {
        let mut tx = self.db.begin().await?;
        let id = tx
            .all::<(i64,)>(
                &Sql::new(
                    "INSERT INTO api_keys (user_id, name, prefix, key_hash, scopes, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                )
                .arg(key.user_id)
                .arg(key.name)
                .arg(key.prefix)
                .arg(key.key_hash)
                .arg(Scope::join(key.scopes))
                .arg(now.timestamp_micros()),
            )
            .await?
            .first()
            .map(|(id,)| *id)
            .ok_or_else(|| super::StoreError::Corrupt("INSERT returned no id".into()))?;
        tx.execute(&audit_insert(audit, now)).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The owner of a key that is neither revoked nor held by a disabled user.
    pub async fn key_owner(&self, key_hash: &str) -> StoreResult<Option<KeyOwner>> {
        type Row = (i64, String, i64, String, String, String, Option<i64>);
        let row: Option<Row> = self
            .db
            .optional(
                &Sql::new(
                    "SELECT k.id, k.prefix, u.id, u.name, u.role, k.scopes, k.last_used_at
                     FROM api_keys k JOIN users u ON u.id = k.user_id
                     WHERE k.key_hash = $1 AND k.revoked_at IS NULL AND u.disabled_at IS NULL",
                )
                .arg(key_hash),
            )
            .await?;
        Ok(row.map(
            |(key_id, prefix, user_id, user_name, r, s, last_used_at)| KeyOwner {
                key_id,
                prefix,
                user_id,
                user_name,
                role: role(&r),
                scopes: scopes(&s),
                last_used_at: last_used_at.map(micros_to_time),
            },
        ))
    }

    pub async fn touch_key(&self, key_id: i64, now: DateTime<Utc>) -> StoreResult<()> {
        self.db
            .execute(
                &Sql::new("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
                    .arg(now.timestamp_micros())
                    .arg(key_id),
            )
            .await?;
        Ok(())
    }

    /// Keys, newest first: one user's (`owner`), or everyone's.
    pub async fn list_keys(&self, owner: Option<i64>) -> StoreResult<Vec<KeySummary>> {
        type Row = (
            i64,
            String,
            String,
            String,
            String,
            i64,
            Option<i64>,
            Option<i64>,
        );
        let mut sql = Sql::new(
            "SELECT k.id, k.name, k.prefix, u.name, k.scopes, k.created_at, k.last_used_at, k.revoked_at
             FROM api_keys k JOIN users u ON u.id = k.user_id",
        );
        if let Some(user_id) = owner {
            sql.push(" WHERE k.user_id = ").bind(user_id);
        }
        sql.push(" ORDER BY k.id DESC");
        let rows: Vec<Row> = self.db.all(&sql).await?;
        Ok(rows
            .into_iter()
            .map(
                |(id, name, prefix, owner, s, created_at, last_used_at, revoked_at)| KeySummary {
                    id,
                    name,
                    prefix,
                    owner,
                    scopes: scopes(&s),
                    created_at: micros_to_time(created_at),
                    last_used_at: last_used_at.map(micros_to_time),
                    revoked_at: revoked_at.map(micros_to_time),
                },
            )
            .collect())
    }

    /// Revokes a key (of `owner` only, when given) and writes the audit entry `audit` makes
    /// of its prefix in the same transaction; the prefix when the key was live.
    pub async fn revoke_key(
        &self,
        key_id: i64,
        owner: Option<i64>,
        audit: impl FnOnce(&str) -> NewAudit,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<String>> {
        let mut sql = Sql::new("UPDATE api_keys SET revoked_at = ");
        sql.bind(now.timestamp_micros())
            .push(" WHERE id = ")
            .bind(key_id)
            .push(" AND revoked_at IS NULL");
        if let Some(user_id) = owner {
            sql.push(" AND user_id = ").bind(user_id);
        }
        sql.push(" RETURNING prefix");
        let mut tx = self.db.begin().await?;
        let rows: Vec<(String,)> = tx.all(&sql).await?;
        let Some((prefix,)) = rows.into_iter().next() else {
            return Ok(None);
        };
        tx.execute(&audit_insert(&audit(&prefix), now)).await?;
        tx.commit().await?;
        Ok(Some(prefix))
    }
}
