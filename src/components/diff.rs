//! A diff of an output against its correction, as text (never HTML): removed runs struck
//! through, added runs highlighted.

use leptos::prelude::*;

use crate::components::figures::bytes;
use crate::model::diff::{diff, Change, DiffOutcome};
use crate::model::OutputKind;

#[component]
pub fn DiffView(old: String, new: String, kind: OutputKind) -> impl IntoView {
    match diff(&old, &new, kind) {
        DiffOutcome::TooLong { old_bytes, new_bytes } => view! {
            <p class="subtle" data-testid="diff">
                {format!("Too long to compare here ({} against {}).", bytes(old_bytes), bytes(new_bytes))}
            </p>
        }
        .into_any(),
        DiffOutcome::TooDifferent { old_bytes, new_bytes } => view! {
            <p class="subtle" data-testid="diff">
                {format!("Too different to compare ({} against {}): the texts differ almost everywhere.", bytes(old_bytes), bytes(new_bytes))}
            </p>
        }
        .into_any(),
        DiffOutcome::Parts(parts) if parts.iter().all(|p| p.change == Change::Same) => {
            view! { <p class="subtle" data-testid="diff">"No changes to the original output."</p> }
                .into_any()
        }
        DiffOutcome::Parts(parts) => view! {
            <pre class="text diff" dir="auto" data-testid="diff">
                {parts.into_iter().map(|part| match part.change {
                    Change::Same => view! { <span>{part.text}</span> }.into_any(),
                    Change::Added => view! { <ins class="diff-add">{part.text}</ins> }.into_any(),
                    Change::Removed => view! { <del class="diff-del">{part.text}</del> }.into_any(),
                }).collect_view()}
            </pre>
        }
        .into_any(),
    }
}
