//! Server functions for the signed-in person, API keys, users and the audit log. The router's
//! policy checks the caller before these run; each checks again, since a page rendered on the
//! server calls them directly.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::api::guard;
use crate::error::AppError;
use crate::model::auth::{AuditEntry, KeySummary, UserSummary, Viewer};

/// A key just created: the secret is in this answer and nowhere else, ever.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CreatedKey {
    pub secret: String,
    pub key: KeySummary,
}

/// The outcome of a change on the admin page: what to tell the admin, and a generated
/// password to show once.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserChange {
    pub message: String,
    pub password: Option<String>,
}

/// The signed-in person, or `None`.
#[server(endpoint = "viewer")]
pub async fn load_viewer() -> Result<Option<Viewer>, AppError> {
    Ok(guard::caller().0.viewer())
}

/// API keys: one's own (admins: everyone's), newest first.
#[server(endpoint = "list_keys")]
pub async fn list_keys() -> Result<Vec<KeySummary>, AppError> {
    use crate::model::auth::Capability;
    let (caller, _) = guard::require(Capability::ApiKeys)?;
    let owner = caller.key_owner_limit();
    Ok(guard::store()?.list_keys(owner).await?)
}

/// Creates a key for the caller with the comma-separated scopes.
#[server(endpoint = "create_key")]
pub async fn create_key(name: String, scopes: String) -> Result<CreatedKey, AppError> {
    use crate::auth::{manage, Caller};
    use crate::model::auth::{Capability, Scope};
    let (caller, address) = guard::require(Capability::ApiKeys)?;
    let Caller::Person(person) = &caller else {
        return Err(AppError::sign_in_first());
    };
    let scopes = Scope::parse_list(&scopes).map_err(AppError::bad_request)?;
    let store = guard::store()?;
    let (secret, key) = manage::create_key(
        &store,
        &guard::actor(&caller, &address),
        &person.name,
        &name,
        &scopes,
    )
    .await?;
    Ok(CreatedKey { secret, key })
}

/// Revokes a key: one's own (admins: any).
#[server(endpoint = "revoke_key")]
pub async fn revoke_key(id: i64) -> Result<(), AppError> {
    use crate::auth::manage;
    use crate::model::auth::Capability;
    let (caller, address) = guard::require(Capability::ApiKeys)?;
    let owner = caller.key_owner_limit();
    let store = guard::store()?;
    Ok(manage::revoke_key(&store, &guard::actor(&caller, &address), id, owner).await?)
}

#[server(endpoint = "list_users")]
pub async fn list_users() -> Result<Vec<UserSummary>, AppError> {
    guard::require(crate::model::auth::Capability::Admin)?;
    Ok(guard::store()?.list_users().await?)
}

/// Adds a user with a generated password (shown once).
#[server(endpoint = "add_user")]
pub async fn add_user(name: String, role: String) -> Result<UserChange, AppError> {
    use crate::auth::manage;
    let (caller, address) = guard::require(crate::model::auth::Capability::Admin)?;
    let role = manage::parse_role(&role)?;
    let store = guard::store()?;
    let password =
        manage::add_user(&store, &guard::actor(&caller, &address), &name, role, None).await?;
    Ok(UserChange {
        message: format!("Added {} as {role}.", name.trim()),
        password,
    })
}

/// One change to a user: `role` (with `role`), `disable`, `enable` or `reset` (a new
/// generated password, shown once; their sessions end).
#[server(endpoint = "update_user")]
pub async fn update_user(
    name: String,
    change: String,
    role: Option<String>,
) -> Result<UserChange, AppError> {
    use crate::auth::manage;
    let (caller, address) = guard::require(crate::model::auth::Capability::Admin)?;
    let store = guard::store()?;
    let actor = guard::actor(&caller, &address);
    match change.as_str() {
        "role" => {
            let role = manage::parse_role(role.as_deref().unwrap_or_default())?;
            manage::set_role(&store, &actor, &name, role).await?;
            Ok(UserChange {
                message: format!("{name} is now {role}."),
                password: None,
            })
        }
        "disable" | "enable" => {
            let disable = change == "disable";
            manage::set_disabled(&store, &actor, &name, disable).await?;
            Ok(UserChange {
                message: if disable {
                    format!("{name} is disabled; their sessions and keys stopped working.")
                } else {
                    format!("{name} is enabled again.")
                },
                password: None,
            })
        }
        "reset" => {
            let password = manage::reset_password(&store, &actor, &name, None).await?;
            Ok(UserChange {
                message: format!("New password for {name}; their sessions ended."),
                password,
            })
        }
        other => Err(AppError::bad_request(format!("unknown change \"{other}\""))),
    }
}

/// Audit entries, newest first, optionally by actor and action (or action family).
#[server(endpoint = "list_audit")]
pub async fn list_audit(
    actor: Option<String>,
    action: Option<String>,
    before: Option<i64>,
) -> Result<Vec<AuditEntry>, AppError> {
    guard::require(crate::model::auth::Capability::Admin)?;
    let clean = |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let query = crate::store::AuditQuery {
        actor: clean(actor),
        action: clean(action),
        before,
        limit: 100,
    };
    Ok(guard::store()?.list_audit(&query).await?)
}
