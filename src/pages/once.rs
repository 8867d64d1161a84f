//! The page a plain form post (no JavaScript) answers with when its change made a secret to
//! show once (a new API key, a generated password), or was refused. Rendered by the form
//! handlers in `http::forms`, a whole document like the forbidden page.

use leptos::prelude::*;

use crate::app::DocumentMeta;

#[component]
pub fn OnceDocument(
    title: String,
    message: String,
    /// Shown once, to be copied now.
    secret: Option<String>,
    /// Where to go on: the page the form was on.
    back_href: &'static str,
    back_label: &'static str,
) -> impl IntoView {
    let refused = secret.is_none();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <DocumentMeta/>
                <title>{format!("{title} · Redline")}</title>
                <link rel="stylesheet" href="/pkg/redline.css"/>
            </head>
            <body>
                <main class="main">
                    <section class="notice" data-testid="once">
                        <h1>{title}</h1>
                        <p class:form-error=refused role=if refused { "alert" } else { "status" }>{message}</p>
                        {secret.map(|secret| view! {
                            <div class="secret">
                                <code class="secret-value" data-testid="once-secret">{secret}</code>
                            </div>
                        })}
                        <p><a class="button" href=back_href>{back_label}</a></p>
                    </section>
                </main>
            </body>
        </html>
    }
}
