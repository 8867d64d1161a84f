//! A diff of an output against its correction, as text (never HTML): removed runs struck
//! through, added runs highlighted.

use leptos::prelude::*;

use crate::components::figures::bytes;
use crate::components::long_text::{clip, letter_direction, ClippedNote, SHOWN_BYTES};
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
        DiffOutcome::Parts(parts) => {
            // A long diff shows its first SHOWN_BYTES until the reader asks for all of it.
            let total: usize = parts.iter().map(|p| p.text.len()).sum();
            let dir = if total > SHOWN_BYTES {
                parts.first().map_or("ltr", |p| letter_direction(&p.text))
            } else {
                "auto"
            };
            let all = RwSignal::new(total <= SHOWN_BYTES);
            let render = move |limit: usize| {
                let mut left = limit;
                parts
                    .iter()
                    .map_while(|part| {
                        if left == 0 {
                            return None;
                        }
                        let text = clip(&part.text, left).to_string();
                        // A part cut short ends what is shown.
                        left = if text.len() < part.text.len() {
                            0
                        } else {
                            left - text.len()
                        };
                        Some(match part.change {
                            Change::Same => view! { <span>{text}</span> }.into_any(),
                            Change::Added => view! { <ins class="diff-add">{text}</ins> }.into_any(),
                            Change::Removed => view! { <del class="diff-del">{text}</del> }.into_any(),
                        })
                    })
                    .collect_view()
            };
            view! {
                <pre class="text diff" dir=dir data-testid="diff">
                    {move || render(if all.get() { usize::MAX } else { SHOWN_BYTES })}
                </pre>
                <ClippedNote total all/>
            }
            .into_any()
        }
    }
}
