//! Unsaved review text, kept in the browser's local storage per call until it is saved or
//! discarded, so a reload or a stray click does not lose it.

use serde::{Deserialize, Serialize};

use crate::model::Verdict;

/// What the review editor holds (everything a save sends except the base revision).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Draft {
    pub verdict: Option<Verdict>,
    pub text: String,
    pub tags: String,
    pub note: String,
}

#[cfg(feature = "hydrate")]
fn storage() -> Option<leptos::web_sys::Storage> {
    leptos::web_sys::window()?.local_storage().ok().flatten()
}

#[cfg(feature = "hydrate")]
fn key(call_id: &str) -> String {
    format!("redline.draft.{call_id}")
}

/// The draft kept for a call, if any (and readable).
pub fn load(call_id: &str) -> Option<Draft> {
    #[cfg(feature = "hydrate")]
    {
        let text = storage()?.get_item(&key(call_id)).ok().flatten()?;
        serde_json::from_str(&text).ok()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = call_id;
        None
    }
}

/// Keeps `draft` for the call (a full storage quota only loses the safety net, not the text
/// in the editor).
pub fn keep(call_id: &str, draft: &Draft) {
    #[cfg(feature = "hydrate")]
    if let (Some(storage), Ok(text)) = (storage(), serde_json::to_string(draft)) {
        let _ = storage.set_item(&key(call_id), &text);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (call_id, draft);
}

pub fn discard(call_id: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(storage) = storage() {
        let _ = storage.remove_item(&key(call_id));
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = call_id;
}

/// Marks the page as holding unsaved changes (the body's `data-unsaved`), which the
/// navigation guard asks about before a link is followed.
pub fn mark_unsaved(unsaved: bool) {
    #[cfg(feature = "hydrate")]
    if let Some(body) = leptos::prelude::document().body() {
        if unsaved {
            let _ = body.set_attribute("data-unsaved", "true");
        } else {
            let _ = body.remove_attribute("data-unsaved");
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = unsaved;
}
