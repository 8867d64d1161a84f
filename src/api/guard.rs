//! What every server function checks first: who calls (as the router's middleware found
//! out), whether their role allows it, and how refusals and store failures are answered.

use axum::http::StatusCode;
use leptos::prelude::*;

use crate::model::auth::Capability;
use crate::server::auth::manage::{Actor, ManageError};
use crate::server::auth::{Caller, ClientAddress};

/// The caller and their address, as the router's middleware found them.
pub fn caller() -> (Caller, ClientAddress) {
    let parts = use_context::<axum::http::request::Parts>();
    let get = |parts: &axum::http::request::Parts| {
        (
            parts.extensions.get::<Caller>().cloned(),
            parts.extensions.get::<ClientAddress>().cloned(),
        )
    };
    match parts.as_ref().map(get) {
        Some((Some(caller), address)) => (caller, address.unwrap_or_default()),
        _ => (Caller::Anonymous, ClientAddress::default()),
    }
}

fn status(code: StatusCode) {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(code);
    }
}

/// The signed-in person if their role has `capability`; otherwise the refusal.
pub fn require(capability: Capability) -> Result<(Caller, ClientAddress), ServerFnError> {
    let (caller, address) = caller();
    match &caller {
        Caller::Person(_) if caller.can(capability) => Ok((caller, address)),
        Caller::Person(person) => {
            status(StatusCode::FORBIDDEN);
            Err(ServerFnError::new(format!(
                "the {} role may not do this",
                person.role
            )))
        }
        _ => {
            status(StatusCode::UNAUTHORIZED);
            Err(ServerFnError::new("sign in first"))
        }
    }
}

pub fn actor(caller: &Caller, address: &ClientAddress) -> Actor {
    Actor::of(caller, address)
}

/// A refused change is the person's mistake (400/404), a store failure the server's.
pub fn manage_error(error: ManageError) -> ServerFnError {
    match error {
        ManageError::Invalid(message) => {
            status(StatusCode::BAD_REQUEST);
            ServerFnError::new(message)
        }
        ManageError::NotFound(message) => {
            status(StatusCode::NOT_FOUND);
            ServerFnError::new(message)
        }
        ManageError::Store(error) => crate::api::calls::internal(error),
    }
}
