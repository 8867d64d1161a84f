//! What a page shows in place of its content when its data could not be read; rendered on
//! the server, it also gives the page the error's status (a 503 says "try again later" to a
//! load balancer as much as to a reader).

use leptos::prelude::*;

use crate::error::AppError;

#[component]
pub fn Failure(
    title: &'static str,
    error: AppError,
    /// Actions under the message (a retry link).
    #[prop(optional)]
    children: Option<Children>,
) -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::error::set_page_status(&error);
    view! {
        <section class="panel error" role="alert" data-testid="failure">
            <h2>{title}</h2>
            <p>{error.to_string()}</p>
            {children.map(|children| children())}
        </section>
    }
}
