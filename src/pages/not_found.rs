//! The page for a path that matches no route.

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found"/>
        <section class="panel empty">
            <h1>"Nothing here"</h1>
            <p>"This address matches no page of Redline."</p>
            <a class="button" href="/calls">"Go to the call feed"</a>
        </section>
    }
}
