//! The HTML shell, the router and the layout around every page.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};

use crate::pages::call::CallPage;
use crate::pages::feed::FeedPage;
use crate::pages::not_found::NotFound;

/// The document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Effects run only in the browser: the marker tells tests (and people) that hydration ran.
    Effect::new(move |_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });

    view! {
        <Stylesheet id="leptos" href="/pkg/redline.css"/>
        <Title formatter=|title: String| if title.is_empty() { "Redline".to_string() } else { format!("{title} · Redline") }/>
        <Router>
            <header class="topbar">
                <a class="brand" href="/calls">
                    <span class="brand-mark" aria-hidden="true"></span>
                    "Redline"
                </a>
                <nav class="topnav" aria-label="Main">
                    <a href="/calls">"Calls"</a>
                </nav>
            </header>
            <main class="main">
                <Routes fallback=|| view! { <NotFound/> }>
                    <Route path=path!("/calls") view=FeedPage ssr=SsrMode::Async/>
                    <Route path=path!("/calls/:id") view=CallPage ssr=SsrMode::Async/>
                </Routes>
            </main>
        </Router>
    }
}
