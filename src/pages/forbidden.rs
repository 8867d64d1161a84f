//! The document a signed-in person gets for a page their role may not open, rendered by the
//! middleware before the app runs (so it is a whole document, not a route of the app).

use leptos::prelude::*;

use crate::app::DocumentMeta;
use crate::model::auth::{Capability, Role};

/// What a capability opens, in words for the refusal.
fn what(capability: Capability) -> &'static str {
    match capability {
        Capability::Admin => "user administration and the audit log",
        Capability::ApiKeys => "API keys",
        Capability::Export => "exports",
        Capability::Trends => "trends",
        Capability::Routing => "model routing",
        Capability::Operations => "operation settings",
        Capability::Review => "the review pages",
    }
}

#[component]
pub fn ForbiddenDocument(name: String, role: Role, capability: Capability) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <DocumentMeta/>
                <title>"Not allowed · Redline"</title>
                <link rel="stylesheet" href="/pkg/redline.css"/>
            </head>
            <body>
                <main class="main">
                    <section class="notice" data-testid="forbidden">
                        <h1>"Not allowed"</h1>
                        <p>
                            "You are signed in as " <strong>{name}</strong> {format!(" ({role}); that role has no access to {}.", what(capability))}
                        </p>
                        <p><a href="/calls">"Back to the calls"</a></p>
                    </section>
                </main>
            </body>
        </html>
    }
}
