//! What every server function checks first: who calls (as the router's middleware found
//! out) and whether their role allows it; and the store they work on.

use leptos::prelude::*;

use crate::auth::manage::Actor;
use crate::auth::{Caller, ClientAddress};
use crate::error::AppError;
use crate::model::auth::Capability;

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

/// The signed-in person if their role has `capability`; otherwise the refusal.
pub fn require(capability: Capability) -> Result<(Caller, ClientAddress), AppError> {
    let (caller, address) = caller();
    Ok((caller.person_with(capability)?, address))
}

pub fn actor(caller: &Caller, address: &ClientAddress) -> Actor {
    Actor::of(caller, address)
}

/// The store the router put in the context.
pub fn store() -> Result<crate::store::Store, AppError> {
    use_context::<crate::store::Store>().ok_or_else(|| {
        tracing::error!("a server function ran without the store in its context");
        AppError::Internal
    })
}
