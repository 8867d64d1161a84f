//! Sign-in and sign-out: plain form posts, so they work before the page's WebAssembly loads.

use std::time::Instant;

use axum::extract::State;
use axum::http::header::{self, HeaderValue};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use chrono::Utc;
use serde::Deserialize;

use crate::auth::{audit_entry, secrets, verify_holding, Caller, ClientAddress, Https};
use crate::http::state::AppState;
use crate::model::encode_query;

/// Longest sign-in name accepted (account names are shorter).
const MAX_NAME_CHARS: usize = 64;
/// Longest password accepted: hashing more is work for nothing.
const MAX_PASSWORD_BYTES: usize = 1024;

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

/// Where to go after signing in: a path on this site only (never `//host` or a full URL).
pub fn safe_next(next: &str) -> &str {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.starts_with("/login")
        && !next.chars().any(char::is_control);
    if ok {
        next
    } else {
        "/calls"
    }
}

fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

fn back_to_login(error: &str, next: &str, extra: Option<(&str, String)>) -> Response {
    let mut pairs = vec![("error", error.to_string())];
    if let Some(pair) = extra {
        pairs.push(pair);
    }
    if safe_next(next) != "/calls" {
        pairs.push(("next", next.to_string()));
    }
    see_other(&format!("/login?{}", encode_query(&pairs)))
}

/// The session cookie: `__Host-…; Secure` over HTTPS, the plain name over HTTP (local use,
/// where a browser would drop a `Secure` cookie).
fn cookie(https: Https, value: &str, max_age_secs: u64) -> String {
    let name = https.cookie_name();
    let secure = if https.0 { "; Secure" } else { "" };
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}")
}

/// `POST /auth/login`: checks the name and password, then starts a new session (a fresh id
/// every time: a session id planted before sign-in is dropped, never promoted).
pub async fn login(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(address): Extension<ClientAddress>,
    Extension(https): Extension<Https>,
    Form(form): Form<LoginForm>,
) -> Response {
    let name = form.name.trim();
    // Bounded before it becomes a limiter key or a log field: no account has a longer name or
    // one with control characters, so such a sign-in fails at once, like a wrong password.
    if name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return back_to_login("invalid", &form.next, None);
    }
    if form.password.len() > MAX_PASSWORD_BYTES {
        return back_to_login("invalid", &form.next, None);
    }
    let name = name.to_string();
    let account_key = name.to_lowercase();
    let address_key = address_key(&address);
    let pair_key = format!("{account_key}\n{address_key}");
    let auth = &state.auth.inner;
    let started = Instant::now();
    // The attempt is counted before the password is checked: parallel guesses cannot pass a
    // limit together. The pair limit stops one guesser quickly; the account limit (slower)
    // stops guessers spread over many addresses; the address limit stops one address trying
    // many names.
    // The address first: one address adds at most its own allowance of keys to the others.
    // A pair that signed in lately is spared the name limit: guessers elsewhere cannot lock
    // the owner out of the places they sign in from.
    let known = auth.known.knows(&pair_key, started);
    let limited = auth
        .addresses
        .attempt(&address_key, started)
        .and_then(|()| auth.pairs.attempt(&pair_key, started))
        .and_then(|()| {
            if known {
                Ok(())
            } else {
                auth.accounts.attempt(&account_key, started)
            }
        });
    if let Err(wait) = limited {
        tracing::warn!(target: "redline::auth", account = %name.escape_debug(), address = %address_key, "sign-in refused: too many failures");
        let minutes = wait.as_secs().div_ceil(60).max(1);
        return back_to_login(
            "limited",
            &form.next,
            Some(("minutes", minutes.to_string())),
        );
    }

    let user = match state.store.find_user(&name).await {
        Ok(user) => user,
        Err(error) => return crate::error::AppError::from(error).into_response(),
    };
    // An unknown name costs the same hashing as a wrong password, and answers the same.
    let (hash, usable) = match &user {
        Some(user) if !user.disabled => (user.password_hash.clone(), true),
        _ => (auth.dummy_hash.clone(), false),
    };
    // At most `concurrent_hashes` checks at once: a burst of sign-ins waits instead of
    // taking every core and ~19 MiB each.
    let Ok(turn) = auth.hashes.clone().acquire_owned().await else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let matches = verify_holding(form.password.clone(), hash, turn).await;
    let Some(user) = user.filter(|_| usable && matches) else {
        tracing::warn!(target: "redline::auth", account = %name.escape_debug(), address = %address_key, "sign-in failed");
        return back_to_login("invalid", &form.next, None);
    };
    // The owner got in: their attempts no longer count against the name.
    auth.pairs.clear(&pair_key);
    auth.known.remember(&pair_key, started);
    if !known {
        auth.accounts.take_back(&account_key, started);
    }
    auth.addresses.take_back(&address_key, started);

    if let Caller::Person(previous) = &caller {
        // Signing in again replaces the session instead of keeping both.
        if let Err(error) = state.store.delete_session(&previous.session).await {
            return crate::error::AppError::from(error).into_response();
        }
    }
    let token = match secrets::random_hex(32) {
        Ok(token) => token,
        Err(error) => {
            tracing::error!(%error, "no session id could be made");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let now = Utc::now();
    let created = state
        .store
        .create_session(
            &secrets::token_hash(&token),
            user.id,
            address.0.as_deref(),
            now,
        )
        .await;
    if let Err(error) = created {
        return crate::error::AppError::from(error).into_response();
    }
    let signed_in = Caller::Person(crate::auth::Person {
        user_id: user.id,
        name: user.name.clone(),
        role: user.role,
        session: String::new(),
        must_change_password: false,
    });
    let entry = audit_entry(&signed_in, &address, "auth.login", &user.name, "");
    if let Err(error) = state.store.audit(&entry, now).await {
        tracing::error!(%error, "audit entry not written");
    }

    let config = state.auth.config();
    let mut response = see_other(safe_next(&form.next));
    let set = cookie(https, &token, config.absolute.as_secs());
    if let Ok(value) = HeaderValue::from_str(&set) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// The client address as the limiters count it (an IPv6 client by its /64).
fn address_key(address: &ClientAddress) -> String {
    address
        .0
        .as_deref()
        .and_then(|a| a.parse::<std::net::IpAddr>().ok())
        .map(|ip| super::middleware::limit_key(ip).to_string())
        .unwrap_or_else(|| "unknown".into())
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    repeat: String,
}

/// `POST /auth/password`: a signed-in person replaces their own password (required after
/// signing in with a generated one). The current password is checked under the same
/// per-name-and-address limit as sign-in, so a stolen session cannot guess it quickly; the
/// change ends the person's other sessions, and its audit entry is written with it.
pub async fn change_password(
    State(state): State<AppState>,
    caller: Option<Extension<Caller>>,
    address: Option<Extension<ClientAddress>>,
    Form(form): Form<PasswordForm>,
) -> Response {
    let caller = caller.map_or(Caller::Anonymous, |Extension(caller)| caller);
    let Caller::Person(person) = &caller else {
        return see_other(&format!(
            "/login?{}",
            encode_query(&[("next", crate::auth::policy::PASSWORD_PAGE.to_string())])
        ));
    };
    let address = address.map(|Extension(a)| a).unwrap_or_default();
    let back = |error: &str| {
        see_other(&format!(
            "{}?error={error}",
            crate::auth::policy::PASSWORD_PAGE
        ))
    };
    if form.current.len() > MAX_PASSWORD_BYTES || form.new.len() > MAX_PASSWORD_BYTES {
        return back("strength");
    }
    if form.new != form.repeat {
        return back("repeat");
    }
    if form.new == form.current {
        return back("same");
    }
    if secrets::check_password_strength(&form.new).is_err() {
        return back("strength");
    }
    let auth = &state.auth.inner;
    let pair_key = format!("{}\n{}", person.name.to_lowercase(), address_key(&address));
    let started = Instant::now();
    if auth.pairs.attempt(&pair_key, started).is_err() {
        return back("limited");
    }
    let user = match state.store.find_user(&person.name).await {
        Ok(Some(user)) => user,
        Ok(None) => return see_other("/login"),
        Err(error) => return crate::error::AppError::from(error).into_response(),
    };
    let Ok(turn) = auth.hashes.clone().acquire_owned().await else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    if !verify_holding(form.current, user.password_hash, turn).await {
        tracing::warn!(target: "redline::auth", account = %person.name.escape_debug(), "password change refused: wrong current password");
        return back("current");
    }
    auth.pairs.take_back(&pair_key, started);
    let hash = match crate::auth::hash_blocking(form.new).await {
        Ok(hash) => hash,
        Err(error) => {
            tracing::error!(%error, "hashing a new password failed");
            return crate::error::AppError::Internal.into_response();
        }
    };
    let entry = audit_entry(
        &caller,
        &address,
        "user.password",
        &person.name,
        "own password changed, other sessions ended",
    );
    let changed = state
        .store
        .change_own_password(person.user_id, &hash, &person.session, &entry, Utc::now())
        .await;
    match changed {
        Ok(()) => see_other("/calls"),
        Err(error) => crate::error::AppError::from(error).into_response(),
    }
}

/// `POST /auth/logout`: ends the session on the server (the cookie alone no longer works
/// anywhere) and clears the cookie.
pub async fn logout(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(address): Extension<ClientAddress>,
    Extension(https): Extension<Https>,
) -> Response {
    if let Caller::Person(person) = &caller {
        if let Err(error) = state.store.delete_session(&person.session).await {
            return crate::error::AppError::from(error).into_response();
        }
        let entry = audit_entry(&caller, &address, "auth.logout", &person.name, "");
        if let Err(error) = state.store.audit(&entry, Utc::now()).await {
            tracing::error!(%error, "audit entry not written");
        }
    }
    let mut response = see_other("/login");
    let clear = cookie(https, "", 0);
    if let Ok(value) = HeaderValue::from_str(&clear) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next("/calls?operation=x"), "/calls?operation=x");
        assert_eq!(safe_next("//evil.example/x"), "/calls");
        assert_eq!(safe_next("https://evil.example"), "/calls");
        assert_eq!(safe_next("/\\evil.example"), "/calls");
        assert_eq!(safe_next(""), "/calls");
        assert_eq!(safe_next("/login?next=/x"), "/calls");
    }
}
