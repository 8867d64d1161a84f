//! Keyboard first: one key handler for every page, and the `?` overlay that lists the keys.
//!
//! The handler does not know the pages' code: it acts on what the page marks with `data-key`
//! (`next`, `prev`, `correct`, `incorrect`, `editor`, `diff`, `save-next`) and on the feed's
//! rows. Letters never fire while the focus is in a field (typing stays typing); only
//! Ctrl/Cmd+Enter (save and next) and Esc (leave the field) work there. Following a link
//! while the review editor holds unsaved changes asks first.

use leptos::prelude::*;

/// The keys, as the overlay lists them.
pub const KEYS: &[(&str, &str)] = &[
    ("j", "Next call (feed: move down the list; queue: skip)"),
    ("k", "Previous call (feed: move up the list)"),
    ("Enter", "Open the selected call"),
    ("c", "Verdict: correct"),
    ("x", "Verdict: incorrect, and edit the output"),
    ("Ctrl/⌘ Enter", "Save the review and go to the next call"),
    ("d", "Show or hide the diff against the original"),
    ("Esc", "Leave the editor / close this help"),
    ("?", "Show or hide this help"),
];

#[component]
pub fn Shortcuts() -> impl IntoView {
    let open = RwSignal::new(false);
    #[cfg(feature = "hydrate")]
    {
        let keys = window_event_listener(leptos::ev::keydown, move |ev| on_key(&ev, open));
        on_cleanup(move || keys.remove());
        guard_links();
    }
    view! {
        <button type="button" class="shortcut-hint" aria-label="Keyboard shortcuts" title="Keyboard shortcuts (?)"
            data-testid="shortcuts-button" on:click=move |_| open.update(|o| *o = !*o)>"?"</button>
        {move || open.get().then(|| view! {
            <div class="overlay" on:click=move |_| open.set(false)>
                <section class="shortcuts" role="dialog" aria-modal="true" aria-labelledby="shortcuts-title"
                    data-testid="shortcuts" on:click=|ev| ev.stop_propagation()>
                    <h2 id="shortcuts-title">"Keyboard shortcuts"</h2>
                    <dl>
                        {KEYS.iter().map(|(key, what)| view! {
                            <div><dt><kbd>{*key}</kbd></dt><dd>{*what}</dd></div>
                        }).collect_view()}
                    </dl>
                    <p class="subtle">"Letters do nothing while you type in a field."</p>
                    <button type="button" class="button" on:click=move |_| open.set(false)>"Close"</button>
                </section>
            </div>
        })}
    }
}

#[cfg(feature = "hydrate")]
fn on_key(ev: &leptos::web_sys::KeyboardEvent, open: RwSignal<bool>) {
    use leptos::wasm_bindgen::JsCast;
    use leptos::web_sys::{Element, HtmlElement};

    if ev.default_prevented() || ev.is_composing() {
        return;
    }
    let key = ev.key();
    let command = ev.ctrl_key() || ev.meta_key();
    let target: Option<Element> = ev.target().and_then(|t| t.dyn_into::<Element>().ok());
    let typing = target.as_ref().is_some_and(|el| {
        matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
            || el.closest("[contenteditable]").ok().flatten().is_some()
    });
    let find = |selector: &str| -> Option<HtmlElement> {
        document()
            .query_selector(selector)
            .ok()
            .flatten()
            .and_then(|el| el.dyn_into::<HtmlElement>().ok())
    };
    let press = |selector: &str| -> bool {
        match find(selector) {
            Some(el) => {
                el.click();
                true
            }
            None => false,
        }
    };

    if key == "Enter" && command {
        if press("[data-key=save-next]:not([disabled])") {
            ev.prevent_default();
        }
        return;
    }
    if key == "Escape" {
        if open.get_untracked() {
            open.set(false);
        } else if let Some(el) = target.and_then(|t| t.dyn_into::<HtmlElement>().ok()) {
            let _ = el.blur();
        }
        return;
    }
    if typing || command || ev.alt_key() {
        return;
    }
    let handled = match key.as_str() {
        "?" => {
            open.update(|o| *o = !*o);
            true
        }
        "j" | "k" => {
            move_in_feed(key == "j")
                || press(if key == "j" {
                    "[data-key=next]"
                } else {
                    "[data-key=prev]"
                })
        }
        "Enter" => {
            // A focused link or button does its own thing; otherwise open the selected row.
            let on_control = target
                .as_ref()
                .is_some_and(|el| matches!(el.tag_name().as_str(), "A" | "BUTTON"));
            !on_control && press("tr.call-row.selected a.preview")
        }
        "c" => press("[data-key=correct]"),
        "x" => {
            let pressed = press("[data-key=incorrect]");
            if let Some(editor) = find("[data-key=editor]") {
                let _ = editor.focus();
            }
            pressed
        }
        "d" => press("[data-key=diff]"),
        _ => false,
    };
    if handled {
        ev.prevent_default();
    }
}

/// Moves the feed's selection one row down (`j`) or up (`k`), focusing the row's link so
/// Enter opens it. False when the page has no feed.
#[cfg(feature = "hydrate")]
fn move_in_feed(down: bool) -> bool {
    use leptos::wasm_bindgen::JsCast;
    use leptos::web_sys::HtmlElement;

    let Ok(rows) = document().query_selector_all("tr.call-row") else {
        return false;
    };
    let count = rows.length();
    if count == 0 {
        return false;
    }
    let rows: Vec<leptos::web_sys::Element> = (0..count)
        .filter_map(|i| rows.item(i).and_then(|n| n.dyn_into().ok()))
        .collect();
    let current = rows
        .iter()
        .position(|row| row.class_list().contains("selected"));
    let next = match (current, down) {
        (None, _) => 0,
        (Some(i), true) => (i + 1).min(rows.len() - 1),
        (Some(i), false) => i.saturating_sub(1),
    };
    if let Some(i) = current {
        let _ = rows[i].class_list().remove_1("selected");
    }
    let row = &rows[next];
    let _ = row.class_list().add_1("selected");
    if let Some(link) = row
        .query_selector("a.preview")
        .ok()
        .flatten()
        .and_then(|el| el.dyn_into::<HtmlElement>().ok())
    {
        let _ = link.focus();
    }
    true
}

/// Asks before a link is followed while the review editor holds unsaved changes (the body's
/// `data-unsaved`, see `drafts`). Listens in the capture phase, before the router does; the
/// draft stays in the browser either way. Installed once for the life of the page.
#[cfg(feature = "hydrate")]
fn guard_links() {
    use leptos::wasm_bindgen::closure::Closure;
    use leptos::wasm_bindgen::JsCast;

    let callback =
        Closure::<dyn Fn(leptos::web_sys::MouseEvent)>::new(|ev: leptos::web_sys::MouseEvent| {
            let unsaved = document()
                .body()
                .is_some_and(|body| body.has_attribute("data-unsaved"));
            if !unsaved || ev.default_prevented() {
                return;
            }
            let link = ev
                .target()
                .and_then(|t| t.dyn_into::<leptos::web_sys::Element>().ok())
                .and_then(|el| el.closest("a[href]").ok().flatten());
            if link.is_none() {
                return;
            }
            let leave = window()
                .confirm_with_message(
                    "Leave this call? Your unsaved review stays in this browser as a draft.",
                )
                .unwrap_or(true);
            if !leave {
                ev.prevent_default();
                ev.stop_propagation();
            }
        });
    let _ = window().add_event_listener_with_callback_and_bool(
        "click",
        callback.as_ref().unchecked_ref(),
        true,
    );
    callback.forget();
}
