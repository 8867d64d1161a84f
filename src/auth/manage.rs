//! Managing users and API keys: the one implementation behind the command line, the admin
//! and keys pages. Every change is written to the audit log by the same call that makes it.

use chrono::Utc;

use super::{hash_blocking, secrets, Caller, ClientAddress};
use crate::model::auth::{Capability, KeySummary, Role, Scope};
use crate::store::{NewAudit, NewKey, Store, StoreError, UserChange};

/// Why a change was refused, in words for the person who asked.
#[derive(Debug, thiserror::Error)]
pub enum ManageError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    /// A fault of the server's own (no randomness, a failed hash): logged, never shown.
    #[error("{0}")]
    Internal(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Who asks for a change, for the audit log.
pub struct Actor {
    pub name: String,
    pub address: Option<String>,
}

impl Actor {
    pub fn cli() -> Actor {
        Actor {
            name: "cli".into(),
            address: None,
        }
    }

    pub fn of(caller: &Caller, address: &ClientAddress) -> Actor {
        Actor {
            name: caller.actor(),
            address: address.0.clone(),
        }
    }

    pub(crate) fn entry(&self, action: &str, target: &str, detail: String) -> NewAudit {
        NewAudit {
            actor: self.name.clone(),
            action: action.into(),
            target: target.into(),
            detail,
            address: self.address.clone(),
        }
    }
}

/// A role by its name, or the refusal listing the roles there are.
pub fn parse_role(text: &str) -> Result<Role, ManageError> {
    Role::parse(text).ok_or_else(|| {
        ManageError::Invalid(format!(
            "unknown role \"{text}\" (roles: {})",
            Role::ALL.map(Role::as_str).join(", ")
        ))
    })
}

fn check_name(name: &str) -> Result<(), ManageError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok {
        Ok(())
    } else {
        Err(ManageError::Invalid(
            "a user name has 1 to 64 letters, digits, '.', '_', '-' or '@'".into(),
        ))
    }
}

/// The password given (checked for strength) or a generated one, its hash, and whether it
/// was generated (and so must be shown once).
async fn password_and_hash(
    password: Option<String>,
) -> Result<(String, String, bool), ManageError> {
    let (password, generated) = match password {
        Some(p) => {
            secrets::check_password_strength(&p).map_err(ManageError::Invalid)?;
            (p, false)
        }
        None => (
            secrets::generate_password().map_err(ManageError::Internal)?,
            true,
        ),
    };
    let hash = hash_blocking(password.clone())
        .await
        .map_err(ManageError::Internal)?;
    Ok((password, hash, generated))
}

/// Adds a user; returns the password when it was generated (shown once).
pub async fn add_user(
    store: &Store,
    actor: &Actor,
    name: &str,
    role: Role,
    password: Option<String>,
) -> Result<Option<String>, ManageError> {
    let name = name.trim();
    check_name(name)?;
    let (password, hash, generated) = password_and_hash(password).await?;
    let now = Utc::now();
    let audit = actor.entry("user.add", name, format!("role {role}"));
    if store
        .create_user(name, role, &hash, generated, &audit, now)
        .await?
        .is_none()
    {
        return Err(ManageError::Invalid(format!(
            "a user named \"{name}\" exists already"
        )));
    }
    Ok(generated.then_some(password))
}

/// The answer to a change that a store refused or could not find.
fn user_change(change: UserChange, name: &str) -> Result<(), ManageError> {
    match change {
        UserChange::Done => Ok(()),
        UserChange::NotFound => Err(ManageError::NotFound(format!("no user named \"{name}\""))),
        UserChange::LastAdmin => Err(ManageError::Invalid(format!(
            "\"{name}\" is the last enabled admin; make someone else admin first"
        ))),
    }
}

pub async fn set_role(
    store: &Store,
    actor: &Actor,
    name: &str,
    role: Role,
) -> Result<(), ManageError> {
    let audit = actor.entry("user.set_role", name, format!("role {role}"));
    user_change(
        store.set_user_role(name, role, &audit, Utc::now()).await?,
        name,
    )
}

pub async fn set_disabled(
    store: &Store,
    actor: &Actor,
    name: &str,
    disabled: bool,
) -> Result<(), ManageError> {
    let action = if disabled {
        "user.disable"
    } else {
        "user.enable"
    };
    let audit = actor.entry(action, name, String::new());
    let change = store
        .set_user_disabled(name, disabled, &audit, Utc::now())
        .await?;
    user_change(change, name)
}

/// Sets a new password (generated when `None`, then returned to be shown once) and ends the
/// user's sessions.
pub async fn reset_password(
    store: &Store,
    actor: &Actor,
    name: &str,
    password: Option<String>,
) -> Result<Option<String>, ManageError> {
    let (password, hash, generated) = password_and_hash(password).await?;
    let audit = actor.entry("user.reset", name, "password reset, sessions ended".into());
    if !store
        .set_user_password(name, &hash, generated, &audit, Utc::now())
        .await?
    {
        return Err(ManageError::NotFound(format!("no user named \"{name}\"")));
    }
    Ok(generated.then_some(password))
}

/// A new key for `owner` (who must be allowed API keys); returns the secret, shown once.
pub async fn create_key(
    store: &Store,
    actor: &Actor,
    owner: &str,
    name: &str,
    scopes: &[Scope],
) -> Result<(String, KeySummary), ManageError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 80 {
        return Err(ManageError::Invalid(
            "name the key (1 to 80 characters), e.g. after the service that uses it".into(),
        ));
    }
    if scopes.is_empty() {
        return Err(ManageError::Invalid(
            "give the key at least one scope".into(),
        ));
    }
    let Some(user) = store.find_user(owner).await? else {
        return Err(ManageError::NotFound(format!("no user named \"{owner}\"")));
    };
    if user.disabled || !user.role.can(Capability::ApiKeys) {
        return Err(ManageError::Invalid(format!(
            "\"{owner}\" ({}) may not hold API keys: only enabled engineers and admins",
            user.role
        )));
    }
    if let Some(scope) = scopes
        .iter()
        .find(|s| s.owner_needs().is_some_and(|c| !user.role.can(c)))
    {
        return Err(ManageError::Invalid(format!(
            "a key with the \"{}\" scope acts for its owner, and \"{owner}\" ({}) may not define operations: only admins' keys have it",
            scope.as_str(),
            user.role
        )));
    }
    let secret = secrets::new_api_key().map_err(ManageError::Internal)?;
    let prefix = secrets::key_prefix(&secret);
    let now = Utc::now();
    let id = store
        .create_key(
            &NewKey {
                user_id: user.id,
                name,
                prefix: &prefix,
                key_hash: &secrets::token_hash(&secret),
                scopes,
            },
            &actor.entry(
                "key.create",
                &prefix,
                format!("\"{name}\" of {owner}, scopes {}", Scope::join(scopes)),
            ),
            now,
        )
        .await?;
    let summary = KeySummary {
        id,
        name: name.to_string(),
        prefix,
        owner: user.name,
        scopes: scopes.to_vec(),
        created_at: now,
        last_used_at: None,
        revoked_at: None,
    };
    Ok((secret, summary))
}

/// Revokes a key; `owner` limits it to that user's keys (engineers revoke only their own).
pub async fn revoke_key(
    store: &Store,
    actor: &Actor,
    key_id: i64,
    owner: Option<i64>,
) -> Result<(), ManageError> {
    let audit = |prefix: &str| actor.entry("key.revoke", prefix, String::new());
    match store.revoke_key(key_id, owner, audit, Utc::now()).await? {
        Some(_) => Ok(()),
        None => Err(ManageError::NotFound(format!(
            "no live key {key_id} that you may revoke"
        ))),
    }
}
