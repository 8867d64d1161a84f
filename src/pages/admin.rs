//! `/admin`: users (add, change role, disable, reset password) and `/admin/audit`: the audit
//! log, filterable by actor and action.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::accounts::{list_audit, list_users, AddUser, UpdateUser, UserChange};
use crate::components::failure::Failure;
use crate::components::figures;
use crate::components::grid::Grid;
use crate::error::AppError;
use crate::model::auth::{AuditEntry, Role, UserSummary};

#[component]
pub fn AdminPage() -> impl IntoView {
    let add = ServerAction::<AddUser>::new();
    let update = ServerAction::<UpdateUser>::new();
    let users = Resource::new(
        move || (add.version().get(), update.version().get()),
        |_| list_users(),
    );
    let (name, set_name) = signal(String::new());
    let (role, set_role) = signal(Role::Reviewer.as_str().to_string());
    let on_add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        add.dispatch(AddUser {
            name: name.get(),
            role: role.get(),
        });
    };

    view! {
        <Title text="Users"/>
        <div class="page admin-page">
            <div class="page-head">
                <h1>"Users"</h1>
                <a href="/admin/audit">"Audit log"</a>
            </div>
            <section class="card">
                <h2>"Add a user"</h2>
                // Without JavaScript the form posts to /admin/users/add, which shows the
                // generated password on a page of its own.
                <form class="inline-form" method="post" action="/admin/users/add" on:submit=on_add>
                    <label class="field grow">
                        <span class="field-label">"Name"</span>
                        <input name="name" required maxlength="64" data-testid="user-name" prop:value=name
                            on:input=move |ev| set_name.set(event_target_value(&ev))/>
                    </label>
                    <label class="field">
                        <span class="field-label">"Role"</span>
                        <select name="role" data-testid="user-role" on:change=move |ev| set_role.set(event_target_value(&ev))>
                            {Role::ALL.into_iter().map(|r| view! {
                                <option value=r.as_str() selected=move || role.get() == r.as_str()>{r.as_str()}</option>
                            }).collect_view()}
                        </select>
                    </label>
                    <button class="button primary" type="submit" data-testid="user-add" disabled=move || add.pending().get()>"Add user"</button>
                </form>
                <Outcome value=Signal::derive(move || add.value().get())/>
                <Outcome value=Signal::derive(move || update.value().get())/>
            </section>
            <Transition fallback=|| view! { <p class="subtle">"Loading users…"</p> }>
                {move || Suspend::new(async move {
                    match users.await {
                        Ok(list) => view! { <UserTable list update/> }.into_any(),
                        Err(error) => view! { <Failure title="The users could not be loaded" error/> }.into_any(),
                    }
                })}
            </Transition>
        </div>
    }
}

/// What the last change did, with a generated password shown once.
#[component]
fn Outcome(value: Signal<Option<Result<UserChange, AppError>>>) -> impl IntoView {
    move || {
        match value.get() {
        Some(Ok(change)) => view! {
            <div class="secret" role="status">
                <p>{change.message}</p>
                {change.password.map(|p| view! {
                    <p>"Password (shown only now; give it to them privately): "<code class="secret-value" data-testid="user-password">{p}</code></p>
                })}
            </div>
        }
        .into_any(),
        Some(Err(error)) => view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any(),
        None => ().into_any(),
    }
    }
}

#[component]
fn UserTable(list: Vec<UserSummary>, update: ServerAction<UpdateUser>) -> impl IntoView {
    let rows = list
        .into_iter()
        .map(|user| {
            let name = user.name.clone();
            let change = move |change: &'static str, role: Option<String>| {
                let name = name.clone();
                move || {
                    update.dispatch(UpdateUser {
                        name: name.clone(),
                        change: change.to_string(),
                        role: role.clone(),
                    });
                }
            };
            let set_role = {
                let name = user.name.clone();
                move |ev: leptos::ev::Event| {
                    update.dispatch(UpdateUser {
                        name: name.clone(),
                        change: "role".into(),
                        role: Some(event_target_value(&ev)),
                    });
                }
            };
            let toggle = if user.disabled {
                change("enable", None)
            } else {
                change("disable", None)
            };
            let reset = change("reset", None);
            let current = user.role;
            // Each change is a form of its own: without JavaScript it posts to
            // /admin/users/change (a reset shows the new password on a page of its own).
            let hidden = |change: &'static str| {
                view! {
                    <input type="hidden" name="name" value=user.name.clone()/>
                    <input type="hidden" name="change" value=change/>
                }
            };
            let toggle_change = if user.disabled { "enable" } else { "disable" };
            view! {
                <tr data-testid="user-row" class:revoked=user.disabled>
                    <td><strong>{user.name.clone()}</strong></td>
                    <td>
                        <form class="row-form" method="post" action="/admin/users/change" on:submit=|ev| ev.prevent_default()>
                            {hidden("role")}
                            <select name="role" aria-label=format!("Role of {}", user.name) data-testid="user-row-role" on:change=set_role>
                                {Role::ALL.into_iter().map(|r| view! {
                                    <option value=r.as_str() selected=r == current>{r.as_str()}</option>
                                }).collect_view()}
                            </select>
                            <noscript><button class="button ghost" type="submit">"Set"</button></noscript>
                        </form>
                    </td>
                    <td>{if user.disabled { view! { <span class="badge badge-incorrect">"disabled"</span> }.into_any() } else { view! { <span class="badge badge-correct">"active"</span> }.into_any() }}</td>
                    <td class="col-time">{user.last_login_at.as_ref().map(figures::short_time).unwrap_or_else(|| "never".into())}</td>
                    <td class="actions">
                        <form class="row-form" method="post" action="/admin/users/change"
                            on:submit=move |ev| { ev.prevent_default(); toggle(); }>
                            {hidden(toggle_change)}
                            <button class="button ghost" type="submit" data-testid="user-toggle">
                                {if user.disabled { "Enable" } else { "Disable" }}
                            </button>
                        </form>
                        <form class="row-form" method="post" action="/admin/users/change"
                            on:submit=move |ev| { ev.prevent_default(); reset(); }>
                            {hidden("reset")}
                            <button class="button ghost" type="submit" data-testid="user-reset">"Reset password"</button>
                        </form>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <Grid columns=&["Name", "Role", "Status", "Last sign-in", ""]>{rows}</Grid>
    }
}

#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query_map();
    let params = move || {
        let q = query.read();
        (
            q.get("actor"),
            q.get("action"),
            q.get("before").and_then(|b| b.parse::<i64>().ok()),
        )
    };
    let entries = Resource::new(params, |(actor, action, before)| {
        list_audit(actor, action, before)
    });
    view! {
        <Title text="Audit log"/>
        <div class="page audit-page">
            <nav class="crumbs"><a href="/admin">"Users"</a>" / Audit log"</nav>
            <div class="page-head">
                <h1>"Audit log"</h1>
                <p class="subtle">"Every review save, export, key and user change · newest first · UTC"</p>
            </div>
            <form method="get" action="/admin/audit" class="filters">
                <label class="field">
                    <span class="field-label">"Actor"</span>
                    <input name="actor" placeholder="name or key:rl_…" prop:value=move || params().0.unwrap_or_default() data-testid="audit-actor"/>
                </label>
                <label class="field">
                    <span class="field-label">"Action"</span>
                    <select name="action" data-testid="audit-action">
                        {[("", "Any action"), ("review", "Reviews"), ("export", "Exports"), ("key", "API keys"), ("user", "Users"), ("auth", "Sign-ins")]
                            .into_iter()
                            .map(|(value, label)| view! {
                                <option value=value selected=move || params().1.unwrap_or_default() == value>{label}</option>
                            })
                            .collect_view()}
                    </select>
                </label>
                <div class="filter-actions"><button class="button" type="submit">"Filter"</button></div>
            </form>
            <Transition fallback=|| view! { <p class="subtle">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let (actor, action, _) = params();
                    match entries.await {
                        Ok(list) if list.is_empty() => view! { <section class="panel empty"><p>"No entries match."</p></section> }.into_any(),
                        Ok(list) => view! { <AuditTable list actor action/> }.into_any(),
                        Err(error) => view! { <Failure title="The audit log could not be loaded" error/> }.into_any(),
                    }
                })}
            </Transition>
        </div>
    }
}

#[component]
fn AuditTable(
    list: Vec<AuditEntry>,
    actor: Option<String>,
    action: Option<String>,
) -> impl IntoView {
    let older = (list.len() >= 100).then(|| {
        let mut pairs = Vec::new();
        if let Some(a) = actor {
            pairs.push(("actor", a));
        }
        if let Some(a) = action {
            pairs.push(("action", a));
        }
        let last = list.last().map(|e| e.id).unwrap_or_default();
        pairs.push(("before", last.to_string()));
        format!("/admin/audit?{}", crate::model::encode_query(&pairs))
    });
    let rows = list
        .into_iter()
        .map(|e| {
            view! {
                <tr data-testid="audit-row">
                    <td class="col-time" title=figures::full_time(&e.at)>{figures::short_time(&e.at)}</td>
                    <td>{e.actor}</td>
                    <td><span class="chip">{e.action}</span></td>
                    <td class="mono">{e.target}</td>
                    <td>{e.detail}</td>
                    <td class="mono subtle">{e.address.unwrap_or_default()}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <Grid columns=&["Time", "Who", "Action", "Target", "Detail", "From"]>{rows}</Grid>
        {older.map(|href| view! { <div class="pager"><span></span><a class="button" href=href>"Older entries"</a></div> })}
    }
}
