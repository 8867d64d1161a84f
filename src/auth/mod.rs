//! Accounts, sessions and API keys: who calls (`Caller`), what each role and key may do
//! (`policy`), sign-in limits, secrets, and managing users and keys. The HTTP checks built on
//! them are `http::middleware` and `http::sign_in`.

pub mod limiter;
pub mod manage;
pub mod policy;
pub mod secrets;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use self::limiter::{KnownPairs, Limiter};
use crate::error::AppError;
use crate::model::auth::{Capability, Role, Scope, Viewer};
use crate::store::{KeyOwner, NewAudit, Store};

/// The session cookie's name over plain HTTP (local use).
pub const SESSION_COOKIE: &str = "redline_session";
/// The session cookie's name over HTTPS: with the `__Host-` prefix a browser keeps it only
/// when it is `Secure`, for this host alone and `Path=/`, so a sibling subdomain can neither
/// plant nor overwrite it.
pub const SECURE_SESSION_COOKIE: &str = "__Host-redline_session";

/// Whether the request reached Redline over HTTPS: always with `--secure-cookies`, else as a
/// trusted proxy says in `X-Forwarded-Proto`. Put in the request's extensions.
#[derive(Clone, Copy, Debug, Default)]
pub struct Https(pub bool);

impl Https {
    pub fn cookie_name(self) -> &'static str {
        if self.0 {
            SECURE_SESSION_COOKIE
        } else {
            SESSION_COOKIE
        }
    }
}

/// How long sessions live and how cookies are marked.
#[derive(Clone, Debug)]
pub struct AuthConfig {
    /// A session unused this long ends.
    pub idle: Duration,
    /// A session ends this long after sign-in, used or not.
    pub absolute: Duration,
    /// Treat every request as HTTPS (`Secure`, `__Host-` cookie); otherwise only those a
    /// trusted proxy says came over https in `X-Forwarded-Proto`.
    pub secure_cookies: bool,
    /// Failed sign-ins per account name *from one client address* in `limit_window`: a
    /// guesser is stopped without locking the account's owner out elsewhere.
    pub pair_failures: usize,
    /// Failed sign-ins per client address, whatever the names, in `limit_window`.
    pub address_failures: usize,
    pub limit_window: Duration,
    /// Failed sign-ins per account name from all addresses in `account_window`: the slower
    /// limit on guessers spread over many addresses. A name-and-address pair that signed in
    /// within `known_for` is exempt (its pair limit still holds), so such guessers cannot
    /// lock the owner out where they usually sign in.
    pub account_failures: usize,
    pub account_window: Duration,
    pub known_for: Duration,
    /// Passwords checked at once (each costs ~19 MiB and a core for ~50 ms); more sign-ins
    /// wait their turn (their attempt is already counted).
    pub concurrent_hashes: usize,
    /// Reverse proxies whose `X-Forwarded-For` and `X-Forwarded-Proto` are believed. A
    /// request from any other peer is taken at its TCP address.
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

impl Default for AuthConfig {
    fn default() -> AuthConfig {
        AuthConfig {
            idle: Duration::from_secs(12 * 3600),
            absolute: Duration::from_secs(7 * 24 * 3600),
            secure_cookies: false,
            pair_failures: 5,
            address_failures: 30,
            limit_window: Duration::from_secs(15 * 60),
            account_failures: 50,
            account_window: Duration::from_secs(3600),
            known_for: Duration::from_secs(30 * 24 * 3600),
            concurrent_hashes: 2,
            trusted_proxies: Vec::new(),
        }
    }
}

/// Sign-in state shared by every request; cheap to clone.
#[derive(Clone, Debug)]
pub struct Auth {
    /// The sign-in handlers (`http::sign_in`) use the limiters directly.
    pub(crate) inner: Arc<AuthInner>,
}

#[derive(Debug)]
pub(crate) struct AuthInner {
    pub(crate) config: AuthConfig,
    pub(crate) pairs: Limiter,
    pub(crate) accounts: Limiter,
    pub(crate) addresses: Limiter,
    pub(crate) known: KnownPairs,
    pub(crate) hashes: Arc<tokio::sync::Semaphore>,
    /// Verified against when the name is unknown, so both cases take the same time.
    pub(crate) dummy_hash: String,
}

impl Auth {
    pub fn new(config: AuthConfig) -> Auth {
        let dummy_hash = secrets::hash_password("redline-dummy-password").unwrap_or_default();
        Auth {
            inner: Arc::new(AuthInner {
                pairs: Limiter::new(config.pair_failures, config.limit_window),
                accounts: Limiter::new(config.account_failures, config.account_window),
                addresses: Limiter::new(config.address_failures, config.limit_window),
                known: KnownPairs::new(config.known_for),
                hashes: Arc::new(tokio::sync::Semaphore::new(config.concurrent_hashes.max(1))),
                config,
                dummy_hash,
            }),
        }
    }

    pub fn config(&self) -> &AuthConfig {
        &self.inner.config
    }
}

impl Default for Auth {
    fn default() -> Auth {
        Auth::new(AuthConfig::default())
    }
}

/// Who sent a request, as the middleware found out. Put in the request's extensions for
/// handlers and server functions.
#[derive(Clone, Debug)]
pub enum Caller {
    Anonymous,
    Person(Person),
    Key(KeyOwner),
}

#[derive(Clone, Debug)]
pub struct Person {
    pub user_id: i64,
    pub name: String,
    pub role: Role,
    /// The hash of the session cookie (to end it on sign-out).
    pub session: String,
    /// Signed in with a generated password: only the password page until it is changed.
    pub must_change_password: bool,
}

impl Caller {
    /// The caller if it is an API key with `scope` whose owner may still use keys; otherwise
    /// the refusal. The middleware checks every API request with it, and each REST handler
    /// checks again itself (a route mounted without the middleware still refuses).
    pub fn key_with(self, scope: Scope) -> Result<Caller, AppError> {
        match &self {
            Caller::Key(owner) if !owner.role.can(Capability::ApiKeys) => {
                Err(AppError::Forbidden(format!(
                    "this API key's owner ({}) is now a {} and may not use API keys",
                    owner.user_name, owner.role
                )))
            }
            Caller::Key(owner)
                if owner.scopes.contains(&scope)
                    && scope.owner_needs().is_some_and(|c| !owner.role.can(c)) =>
            {
                Err(AppError::Forbidden(format!(
                    "the \"{}\" scope acts for its owner, and this key's owner ({}) is a {} who may not do that",
                    scope.as_str(),
                    owner.user_name,
                    owner.role
                )))
            }
            Caller::Key(owner) if owner.scopes.contains(&scope) => Ok(self),
            Caller::Key(_) => Err(AppError::Forbidden(format!(
                "this API key lacks the \"{}\" scope",
                scope.as_str()
            ))),
            _ => Err(AppError::Unauthorized(
                "a valid API key is required: send `Authorization: Bearer <key>` (keys are created on /keys or with `redline key create`)".into(),
            )),
        }
    }

    pub fn viewer(&self) -> Option<Viewer> {
        match self {
            Caller::Person(p) => Some(Viewer {
                name: p.name.clone(),
                role: p.role,
            }),
            _ => None,
        }
    }

    /// The caller if it is a signed-in person whose role has `capability`; otherwise the
    /// refusal. Server functions and form handlers check their caller with it.
    pub fn person_with(self, capability: Capability) -> Result<Caller, AppError> {
        match &self {
            Caller::Person(_) if self.can(capability) => Ok(self),
            Caller::Person(person) => Err(AppError::role_may_not(person.role)),
            _ => Err(AppError::sign_in_first()),
        }
    }

    /// Whose keys this caller may list and revoke: their own (`Some(user id)`), or, for an
    /// admin, everyone's (`None`).
    pub fn key_owner_limit(&self) -> Option<i64> {
        match self {
            Caller::Person(p) if !p.role.can(Capability::Admin) => Some(p.user_id),
            _ => None,
        }
    }

    pub fn can(&self, capability: Capability) -> bool {
        matches!(self, Caller::Person(p) if p.role.can(capability))
    }

    /// The name written to the audit log.
    pub fn actor(&self) -> String {
        match self {
            Caller::Anonymous => "anonymous".into(),
            Caller::Person(p) => p.name.clone(),
            Caller::Key(k) => format!("key:{}", k.prefix),
        }
    }
}

/// The client's address (the TCP peer), when known.
#[derive(Clone, Debug, Default)]
pub struct ClientAddress(pub Option<String>);

/// Creates the first admin on an empty database: named `admin`, with `password` or a
/// generated one, which is returned to be shown once.
pub async fn ensure_admin(
    store: &Store,
    password: Option<&str>,
) -> Result<Option<String>, Box<dyn std::error::Error + Send + Sync>> {
    if store.count_users().await? > 0 {
        return Ok(None);
    }
    let (password, generated) = match password.filter(|p| !p.is_empty()) {
        Some(p) => {
            secrets::check_password_strength(p)
                .map_err(|e| format!("REDLINE_ADMIN_PASSWORD: {e}"))?;
            (p.to_string(), false)
        }
        None => (secrets::generate_password()?, true),
    };
    let hash = hash_blocking(password.clone()).await?;
    let now = Utc::now();
    // Two instances starting together on an empty database: one creates the admin, the other
    // finds the name taken and shows no password.
    let audit = NewAudit {
        actor: "redline".into(),
        action: "user.add".into(),
        target: "admin".into(),
        detail: "role admin (first start)".into(),
        address: None,
    };
    if store
        .create_user("admin", Role::Admin, &hash, generated, &audit, now)
        .await?
        .is_none()
    {
        return Ok(None);
    }
    Ok(generated.then_some(password))
}

/// Hashes a password off the async threads (argon2 takes tens of milliseconds on purpose).
pub async fn hash_blocking(password: String) -> Result<String, String> {
    tokio::task::spawn_blocking(move || secrets::hash_password(&password))
        .await
        .map_err(|e| format!("hashing stopped: {e}"))?
}

/// Checks a password off the async threads, holding `turn` until the hash is done: a
/// request dropped meanwhile (client gone, timeout) does not free its turn early while the
/// hash still runs.
pub async fn verify_holding(
    password: String,
    hash: String,
    turn: tokio::sync::OwnedSemaphorePermit,
) -> bool {
    tokio::task::spawn_blocking(move || {
        let _turn = turn;
        secrets::verify_password(&password, &hash)
    })
    .await
    .unwrap_or(false)
}

/// The audit entry of an action a caller took over HTTP.
pub fn audit_entry(
    caller: &Caller,
    address: &ClientAddress,
    action: &str,
    target: impl Into<String>,
    detail: impl Into<String>,
) -> NewAudit {
    NewAudit {
        actor: caller.actor(),
        action: action.into(),
        target: target.into(),
        detail: detail.into(),
        address: address.0.clone(),
    }
}
