//! Text that may be very long (a 2 MB output): the first [`SHOWN_BYTES`] are shown, with
//! "Show all" for the rest, so the page stays responsive. Always rendered as text.

use leptos::prelude::*;

use crate::components::figures::bytes;

/// How much of a long text a page shows before "Show all".
pub const SHOWN_BYTES: usize = 100 * 1024;

/// The longest start of `text` of at most `max` bytes that ends on a character boundary.
pub fn clip(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The `dir` of an element showing `text`: `auto` (the browser finds it) for texts up to
/// [`SHOWN_BYTES`]; for longer ones the direction of the first letter, found here once:
/// Chromium's `dir="auto"` on a 2 MB textarea took 40 s to parse the page (measured).
pub fn direction(text: &str) -> &'static str {
    if text.len() <= SHOWN_BYTES {
        "auto"
    } else {
        letter_direction(text)
    }
}

/// `rtl` when the first letter of `text` is of a right-to-left script, else `ltr`.
pub fn letter_direction(text: &str) -> &'static str {
    let rtl = |c: char| matches!(c as u32, 0x0590..=0x08FF | 0xFB1D..=0xFDFF | 0xFE70..=0xFEFF | 0x1E900..=0x1E95F);
    match text.chars().take(SHOWN_BYTES).find(|c| c.is_alphabetic()) {
        Some(c) if rtl(c) => "rtl",
        _ => "ltr",
    }
}

/// `text` in a `<pre>` of `class`, clipped when longer than [`SHOWN_BYTES`].
#[component]
pub fn LongText(text: String, class: &'static str, testid: &'static str) -> impl IntoView {
    if text.len() <= SHOWN_BYTES {
        return view! { <pre class=class dir="auto" data-testid=testid>{text}</pre> }.into_any();
    }
    let all = RwSignal::new(false);
    let total = text.len();
    let shown = clip(&text, SHOWN_BYTES).to_string();
    let dir = direction(&text);
    view! {
        <pre class=class dir=dir data-testid=testid>
            {move || if all.get() { text.clone() } else { shown.clone() }}
        </pre>
        <ClippedNote total all/>
    }
    .into_any()
}

/// "Showing the first 100 KB of 2.0 MB · Show all", until the reader asks for all.
#[component]
pub fn ClippedNote(total: usize, all: RwSignal<bool>) -> impl IntoView {
    move || {
        (!all.get()).then(|| {
            view! {
                <p class="clipped" data-testid="clipped">
                    {format!("Showing the first {} of {}. ", bytes(SHOWN_BYTES), bytes(total))}
                    <button type="button" class="link-button" data-testid="show-all" on:click=move |_| all.set(true)>
                        "Show all"
                    </button>
                </p>
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{clip, direction, SHOWN_BYTES};

    #[test]
    fn clipping_never_splits_a_character() {
        assert_eq!(clip("short", 10), "short");
        // "é" is two bytes: a cut in its middle moves back before it.
        assert_eq!(clip("aé", 2), "a");
        assert_eq!(clip("مرحبا", 5), "مر");
    }

    #[test]
    fn a_long_text_takes_the_direction_of_its_first_letter() {
        assert_eq!(direction("مرحبا"), "auto");
        let long = |start: &str| format!("{start}{}", " x".repeat(SHOWN_BYTES));
        assert_eq!(direction(&long("  1. مرحبا")), "rtl");
        assert_eq!(direction(&long("שלום")), "rtl");
        assert_eq!(direction(&long("12 hello")), "ltr");
    }
}
