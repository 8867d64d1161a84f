//! `/calls/{id}`: one call in full — its input as a conversation, its output, the review
//! editor, its metadata and its review history. The feed's filter rides along in the query
//! string, so "next" (and save-and-next) walks the feed the reviewer came from.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_location, use_params_map};

use crate::api::calls::{load_call, next_call};
use crate::api::reviews::SaveReview;
use crate::components::call_view::{follow_saves, CallView, Flow};
use crate::components::failure::Failure;
use crate::model::{filter_query, with_query};

#[component]
pub fn CallPage() -> impl IntoView {
    let params = use_params_map();
    let location = use_location();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let filter = Memo::new(move |_| filter_query(&location.search.get()));
    let save = ServerAction::<SaveReview>::new();
    let advance = RwSignal::new(false);
    // The call is read again after a save that went through; after a conflict it is not, so
    // the reviewer's text stays in the editor.
    let saves = RwSignal::new(0u32);
    let call = Resource::new(move || (id.get(), saves.get()), |(id, _)| load_call(id));
    let next = Resource::new(
        move || (id.get(), filter.get()),
        |(id, filter)| next_call(id, filter),
    );
    let call_href = move |next: Option<String>| match next {
        Some(next) => with_query(&format!("/calls/{next}"), &filter.get_untracked()),
        None => with_query("/calls", &filter.get_untracked()),
    };
    follow_saves(
        save,
        advance,
        move || {
            next.get_untracked()
                .and_then(Result::ok)
                .map(|n| call_href(n.older))
        },
        move || saves.update(|n| *n += 1),
        id,
    );
    view! {
        <div class="page call-page">
            <Transition fallback=|| view! { <p class="subtle">"Loading call…"</p> }>
                {move || Suspend::new(async move {
                    let beside = next.await.unwrap_or_default();
                    match call.await {
                        Ok(Some(call)) => {
                            let flow = Flow {
                                next_label: if beside.older.is_some() { "Next call" } else { "Back to the feed" },
                                next_title: "The next (older) call of the feed you came from",
                                prev_href: Some(call_href(beside.newer.clone())),
                                prev_label: if beside.newer.is_some() { "Previous" } else { "Back to the feed" },
                                next_href: call_href(beside.older),
                                back_href: with_query("/calls", &filter.get_untracked()),
                                back_label: "Calls",
                                skip_href: None,
                            };
                            view! { <CallView call save flow advance/> }.into_any()
                        }
                        Ok(None) => view! {
                            <Title text="Call not found"/>
                            <section class="panel empty" data-testid="call-missing">
                                <h1>"No such call"</h1>
                                <p>"There is no call with this id. It may have been mistyped."</p>
                                <a class="button" href="/calls">"Back to the feed"</a>
                            </section>
                        }.into_any(),
                        Err(error) => view! {
                            <Failure title="The call could not be loaded" error/>
                        }.into_any(),
                    }
                })}
            </Transition>
        </div>
    }
}
