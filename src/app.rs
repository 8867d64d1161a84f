//! The HTML shell, the router and the layout around every page.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};

use crate::api::accounts::load_viewer;
use crate::components::shortcuts::Shortcuts;
use crate::model::auth::{Capability, Viewer};
use crate::pages::account::PasswordPage;
use crate::pages::admin::{AdminPage, AuditPage};
use crate::pages::call::CallPage;
use crate::pages::exports::ExportsPage;
use crate::pages::feed::FeedPage;
use crate::pages::keys::KeysPage;
use crate::pages::login::LoginPage;
use crate::pages::not_found::NotFound;
use crate::pages::operations::{OperationPage, OperationsPage};
use crate::pages::queue::QueuePage;
use crate::pages::trends::{OperationTrendsPage, TrendsPage};

/// The document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <DocumentMeta/>
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

/// What every document Redline serves has in its head: charset, viewport, both colour
/// schemes, the icon.
#[component]
pub fn DocumentMeta() -> impl IntoView {
    view! {
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <meta name="color-scheme" content="light dark"/>
        <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
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

    let viewer = Resource::new(|| (), |_| load_viewer());

    view! {
        <Stylesheet id="leptos" href="/pkg/redline.css"/>
        <Title formatter=|title: String| if title.is_empty() { "Redline".to_string() } else { format!("{title} · Redline") }/>
        <Router>
            <header class="topbar">
                <a class="brand" href="/calls">
                    <span class="brand-mark" aria-hidden="true"></span>
                    "Redline"
                </a>
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        viewer.await.ok().flatten().map(|viewer| view! { <Account viewer/> })
                    })}
                </Transition>
            </header>
            <main class="main">
                <Routes fallback=|| view! { <NotFound/> }>
                    <Route path=path!("/calls") view=FeedPage ssr=SsrMode::Async/>
                    <Route path=path!("/calls/:id") view=CallPage ssr=SsrMode::Async/>
                    <Route path=path!("/review") view=QueuePage ssr=SsrMode::Async/>
                    <Route path=path!("/login") view=LoginPage/>
                    <Route path=path!("/operations") view=OperationsPage ssr=SsrMode::Async/>
                    <Route path=path!("/operations/:name") view=OperationPage ssr=SsrMode::Async/>
                    <Route path=path!("/trends") view=TrendsPage ssr=SsrMode::Async/>
                    <Route path=path!("/trends/:operation") view=OperationTrendsPage ssr=SsrMode::Async/>
                    <Route path=path!("/keys") view=KeysPage ssr=SsrMode::Async/>
                    <Route path=path!("/exports") view=ExportsPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin") view=AdminPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/audit") view=AuditPage ssr=SsrMode::Async/>
                    <Route path=path!("/account/password") view=PasswordPage/>
                </Routes>
            </main>
            <Shortcuts/>
        </Router>
    }
}

/// The navigation the signed-in person may use, their name and role, and sign-out (a plain
/// form post: it works before the page's WebAssembly loads).
#[component]
fn Account(viewer: Viewer) -> impl IntoView {
    let keys = viewer.can(Capability::ApiKeys);
    let admin = viewer.can(Capability::Admin);
    let operations = viewer.can(Capability::Operations);
    let trends = viewer.can(Capability::Trends);
    let exports = viewer.can(Capability::Export);
    view! {
        <nav class="topnav" aria-label="Main">
            <a href="/calls">"Calls"</a>
            <a href="/review" data-testid="nav-review">"Review queue"</a>
            {trends.then(|| view! { <a href="/trends" data-testid="nav-trends">"Trends"</a> })}
            {operations.then(|| view! { <a href="/operations" data-testid="nav-operations">"Operations"</a> })}
            {exports.then(|| view! { <a href="/exports" data-testid="nav-exports">"Exports"</a> })}
            {keys.then(|| view! { <a href="/keys" data-testid="nav-keys">"API keys"</a> })}
            {admin.then(|| view! { <a href="/admin" data-testid="nav-admin">"Users"</a> })}
            {admin.then(|| view! { <a href="/admin/audit">"Audit log"</a> })}
        </nav>
        <div class="account">
            <span class="account-name" data-testid="viewer">{viewer.name.clone()}</span>
            <span class="chip">{viewer.role.as_str()}</span>
            <a class="button ghost" href="/account/password" data-testid="nav-password">"Password"</a>
            <form method="post" action="/auth/logout">
                <button class="button ghost" type="submit" data-testid="logout">"Sign out"</button>
            </form>
        </div>
    }
}
