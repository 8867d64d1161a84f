//! What a page shows in place of its content when its data could not be read.

use leptos::prelude::*;

#[component]
pub fn Failure(
    title: &'static str,
    message: String,
    /// Actions under the message (a retry link).
    #[prop(optional)]
    children: Option<Children>,
) -> impl IntoView {
    view! {
        <section class="panel error" role="alert" data-testid="failure">
            <h2>{title}</h2>
            <p>{message}</p>
            {children.map(|children| children())}
        </section>
    }
}
