//! `/exports` (engineers and admins): a new export from the feed's filter (carried over by
//! "Export this view") with its live counts and redaction preview, and the list of exports
//! with their progress, downloads, cancel and delete.

mod form;
mod list;

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::exports::{load_exports, CancelExport, CreateExport, DeleteExport};
use crate::components::failure::Failure;

#[component]
pub fn ExportsPage() -> impl IntoView {
    let create = ServerAction::<CreateExport>::new();
    let cancel = ServerAction::<CancelExport>::new();
    let delete = ServerAction::<DeleteExport>::new();
    // Bumped every 1.5 s in the browser while an export is queued or running.
    let (tick, set_tick) = signal(0u64);
    let exports = Resource::new(
        move || {
            (
                tick.get(),
                create.version().get(),
                cancel.version().get(),
                delete.version().get(),
            )
        },
        |_| load_exports(),
    );
    let busy = move || {
        exports
            .get()
            .and_then(Result::ok)
            .is_some_and(|list| list.iter().any(|e| !e.state.is_finished()))
    };
    Effect::new(move |_| {
        if let Ok(handle) = set_interval_with_handle(
            move || {
                if busy() {
                    set_tick.update(|t| *t += 1);
                }
            },
            std::time::Duration::from_millis(1_500),
        ) {
            on_cleanup(move || handle.clear());
        }
    });

    view! {
        <Title text="Exports"/>
        <div class="page exports-page">
            <div class="page-head">
                <h1>"Exports"</h1>
                <p class="subtle">"Corrections as training sets (chat or preference JSONL) and calls as data files (JSONL, CSV). Scripts: "<code>"POST /api/v1/exports"</code>" with an "<code>"export"</code>" key."</p>
            </div>
            <form::NewExport create/>
            <section class="card">
                <h2>"Recent exports"</h2>
                <Transition fallback=|| view! { <p class="subtle">"Loading exports…"</p> }>
                    {move || Suspend::new(async move {
                        match exports.await {
                            Ok(list) if list.is_empty() => view! {
                                <p class="subtle empty" data-testid="no-exports">"No exports yet. Choose a filter and a format above."</p>
                            }.into_any(),
                            Ok(list) => view! { <list::ExportTable list cancel delete/> }.into_any(),
                            Err(error) => view! { <Failure title="The exports could not be loaded" error/> }.into_any(),
                        }
                    })}
                </Transition>
            </section>
        </div>
    }
}
