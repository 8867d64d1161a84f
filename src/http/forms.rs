//! Plain form posts behind the keys and users pages, for browsers without JavaScript (with
//! it, the pages call their server functions). Each handler checks its caller itself, makes
//! the change through `auth::manage` as the server function does, and answers with the page
//! again (303), or, when the change made a secret to show once or was refused, with a page of
//! its own (`pages::once`).

use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use leptos::tachys::view::RenderHtml;

use super::state::AppState;
use crate::auth::manage::{self, Actor};
use crate::auth::{Caller, ClientAddress};
use crate::error::AppError;
use crate::model::auth::{Capability, Role, Scope};
use crate::pages::once::{OnceDocument, OnceDocumentProps};

/// Fields a form of these pages sends at most (a key's name and four scopes).
const MAX_FIELDS: usize = 16;
/// Bytes such a form sends at most; a longer body is read as no fields at all.
const MAX_FORM_BYTES: usize = 16 * 1024;

/// Where each page's forms go back to.
const KEYS: (&str, &str) = ("/keys", "Back to API keys");
const USERS: (&str, &str) = ("/admin", "Back to users");

/// A form post as the handlers need it: the store, who sent it (as the middleware found
/// them; anonymous without), and its fields (at most `MAX_FIELDS`).
pub struct FormPost {
    store: crate::store::Store,
    caller: Caller,
    address: ClientAddress,
    fields: Vec<(String, String)>,
}

impl FromRequest<AppState> for FormPost {
    type Rejection = std::convert::Infallible;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let extensions = request.extensions();
        let caller = extensions
            .get::<Caller>()
            .cloned()
            .unwrap_or(Caller::Anonymous);
        let address = extensions
            .get::<ClientAddress>()
            .cloned()
            .unwrap_or_default();
        let body = axum::body::to_bytes(request.into_body(), MAX_FORM_BYTES)
            .await
            .unwrap_or_default();
        let fields = url::form_urlencoded::parse(&body)
            .take(MAX_FIELDS)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        Ok(FormPost {
            store: state.store.clone(),
            caller,
            address,
            fields,
        })
    }
}

impl FormPost {
    fn field(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// The sender if they are signed in with `capability`, and who they are for the audit log.
    fn actor(&self, capability: Capability) -> Result<(Caller, Actor), AppError> {
        let caller = self.caller.clone().person_with(capability)?;
        let actor = Actor::of(&caller, &self.address);
        Ok((caller, actor))
    }
}

fn once(
    status: StatusCode,
    title: &str,
    message: String,
    secret: Option<String>,
    (back_href, back_label): (&'static str, &'static str),
) -> Response {
    let page = OnceDocument(OnceDocumentProps {
        title: title.to_string(),
        message,
        secret,
        back_href,
        back_label,
    });
    // A secret shown once must not stay in a cache.
    (
        status,
        [(axum::http::header::CACHE_CONTROL, "no-store")],
        Html(page.to_html()),
    )
        .into_response()
}

/// A refused change, as a page with the reason and the way back.
fn refused(error: AppError, back: (&'static str, &'static str)) -> Response {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST);
    once(status, "Not done", error.to_string(), None, back)
}

/// `POST /keys/create`: `name` and one `scope` field per scope.
pub async fn create_key(post: FormPost) -> Response {
    let answer = async {
        let (caller, actor) = post.actor(Capability::ApiKeys)?;
        let Caller::Person(person) = &caller else {
            return Err(AppError::sign_in_first());
        };
        let scopes: Vec<&str> = post
            .fields
            .iter()
            .filter(|(k, _)| k == "scope")
            .map(|(_, v)| v.as_str())
            .collect();
        let scopes = Scope::parse_list(&scopes.join(",")).map_err(AppError::bad_request)?;
        let name = post.field("name");
        Ok(manage::create_key(&post.store, &actor, &person.name, name, &scopes).await?)
    };
    match answer.await {
        Ok((secret, key)) => once(
            StatusCode::OK,
            "API key created",
            format!(
                "Copy the key \"{}\" ({}) now. It is shown only this once; Redline keeps only its hash.",
                key.name,
                Scope::join(&key.scopes)
            ),
            Some(secret),
            KEYS,
        ),
        Err(error) => refused(error, KEYS),
    }
}

/// `POST /keys/revoke`: `id`. Engineers revoke only their own keys.
pub async fn revoke_key(post: FormPost) -> Response {
    let answer = async {
        let (caller, actor) = post.actor(Capability::ApiKeys)?;
        let id = post
            .field("id")
            .parse::<i64>()
            .map_err(|_| AppError::bad_request("which key? (a key id)"))?;
        let owner = caller.key_owner_limit();
        Ok(manage::revoke_key(&post.store, &actor, id, owner).await?)
    };
    match answer.await {
        Ok(()) => Redirect::to(KEYS.0).into_response(),
        Err(error) => refused(error, KEYS),
    }
}

fn role(text: &str) -> Result<Role, AppError> {
    Ok(manage::parse_role(text)?)
}

/// `POST /admin/users/add`: `name` and `role`; the generated password is shown once.
pub async fn add_user(post: FormPost) -> Response {
    let answer = async {
        let (_, actor) = post.actor(Capability::Admin)?;
        let (name, role) = (post.field("name").trim(), role(post.field("role"))?);
        let password = manage::add_user(&post.store, &actor, name, role, None).await?;
        Ok((format!("Added {name} as {role}."), password))
    };
    match answer.await {
        Ok((message, password)) => once(
            StatusCode::OK,
            "User added",
            format!("{message} Their password is shown only now; give it to them privately. They choose their own at first sign-in."),
            password,
            USERS,
        ),
        Err(error) => refused(error, USERS),
    }
}

/// `POST /admin/users/change`: `name`, `change` (`role` with `role`, `disable`, `enable`,
/// `reset`). A reset's new password is shown once; the others go back to the page.
pub async fn change_user(post: FormPost) -> Response {
    let answer = async {
        let (_, actor) = post.actor(Capability::Admin)?;
        let name = post.field("name");
        let store = &post.store;
        match post.field("change") {
            "role" => {
                manage::set_role(store, &actor, name, role(post.field("role"))?).await?;
                Ok(None)
            }
            change @ ("disable" | "enable") => {
                manage::set_disabled(store, &actor, name, change == "disable").await?;
                Ok(None)
            }
            "reset" => Ok(manage::reset_password(store, &actor, name, None)
                .await?
                .map(|password| (name.to_string(), password))),
            other => Err(AppError::bad_request(format!("unknown change \"{other}\""))),
        }
    };
    match answer.await {
        Ok(None) => Redirect::to(USERS.0).into_response(),
        Ok(Some((name, password))) => once(
            StatusCode::OK,
            "Password reset",
            format!("New password for {name}; their sessions ended. It is shown only now; give it to them privately."),
            Some(password),
            USERS,
        ),
        Err(error) => refused(error, USERS),
    }
}
