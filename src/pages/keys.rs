//! `/keys`: API keys for services (engineers: their own; admins: everyone's). A new key's
//! secret is shown once, right after it is created.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::accounts::{list_keys, CreateKey, RevokeKey};
use crate::components::failure::Failure;
use crate::components::figures;
use crate::components::grid::Grid;
use crate::model::auth::{KeySummary, Scope};

#[component]
pub fn KeysPage() -> impl IntoView {
    let create = ServerAction::<CreateKey>::new();
    let revoke = ServerAction::<RevokeKey>::new();
    let keys = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| list_keys(),
    );
    let (name, set_name) = signal(String::new());
    let chosen = RwSignal::new(vec![Scope::Ingest]);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let scopes = Scope::join(&chosen.get());
        create.dispatch(CreateKey {
            name: name.get(),
            scopes,
        });
    };
    let created = move || create.value().get();

    view! {
        <Title text="API keys"/>
        <div class="page keys-page">
            <div class="page-head">
                <h1>"API keys"</h1>
                <p class="subtle">"Services send calls and read results with a key: "<code>"Authorization: Bearer rl_…"</code></p>
            </div>
            <section class="card">
                <h2>"New key"</h2>
                // Without JavaScript the form posts to /keys/create, which shows the secret
                // on a page of its own.
                <form class="inline-form" method="post" action="/keys/create" on:submit=on_submit>
                    <label class="field grow">
                        <span class="field-label">"Name"</span>
                        <input
                            name="name"
                            placeholder="billing-service"
                            maxlength="80"
                            required
                            data-testid="key-name"
                            prop:value=name
                            on:input=move |ev| set_name.set(event_target_value(&ev))
                        />
                    </label>
                    <fieldset class="scopes">
                        <legend class="field-label">"Scopes"</legend>
                        {Scope::ALL.into_iter().map(|scope| view! {
                            <label class="check">
                                <input
                                    type="checkbox"
                                    name="scope"
                                    value=scope.as_str()
                                    checked=scope == Scope::Ingest
                                    data-testid=format!("scope-{}", scope.as_str())
                                    prop:checked=move || chosen.read().contains(&scope)
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        chosen.update(|list| {
                                            list.retain(|s| *s != scope);
                                            if on { list.push(scope); list.sort(); }
                                        });
                                    }
                                />
                                {scope.as_str()}
                            </label>
                        }).collect_view()}
                    </fieldset>
                    <button class="button primary" type="submit" data-testid="key-create" disabled=move || create.pending().get()>"Create key"</button>
                </form>
                {move || match created() {
                    Some(Ok(key)) => view! {
                        <div class="secret" role="status">
                            <p><strong>"Copy this key now."</strong>" It is shown only this once; Redline keeps only its hash."</p>
                            <code class="secret-value" data-testid="key-secret">{key.secret}</code>
                        </div>
                    }.into_any(),
                    Some(Err(error)) => view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any(),
                    None => ().into_any(),
                }}
            </section>
            <Transition fallback=|| view! { <p class="subtle">"Loading keys…"</p> }>
                {move || Suspend::new(async move {
                    match keys.await {
                        Ok(list) if list.is_empty() => view! {
                            <section class="panel empty"><p>"No keys yet. Create one above, or with "<code>"redline key create"</code>"."</p></section>
                        }.into_any(),
                        Ok(list) => view! { <KeyTable list revoke/> }.into_any(),
                        Err(error) => view! { <Failure title="The keys could not be loaded" error/> }.into_any(),
                    }
                })}
            </Transition>
        </div>
    }
}

#[component]
fn KeyTable(list: Vec<KeySummary>, revoke: ServerAction<RevokeKey>) -> impl IntoView {
    let rows = list
        .into_iter()
        .map(|key| {
            let id = key.id;
            let live = key.revoked_at.is_none();
            view! {
                <tr data-testid="key-row" class:revoked=!live>
                    <td>{key.name.clone()}</td>
                    <td class="mono">{format!("{}…", key.prefix)}</td>
                    <td>{key.owner.clone()}</td>
                    <td>{key.scopes.iter().map(|s| view! { <span class="chip">{s.as_str()}</span>" " }).collect_view()}</td>
                    <td class="col-time">{figures::short_time(&key.created_at)}</td>
                    <td class="col-time">{key.last_used_at.as_ref().map(figures::short_time).unwrap_or_else(|| "never".into())}</td>
                    <td class="actions">
                        {if live {
                            view! {
                                <form method="post" action="/keys/revoke"
                                    on:submit=move |ev| { ev.prevent_default(); revoke.dispatch(RevokeKey { id }); }>
                                    <input type="hidden" name="id" value=id/>
                                    <button class="button ghost danger" type="submit" data-testid="key-revoke">"Revoke"</button>
                                </form>
                            }.into_any()
                        } else {
                            view! { <span class="badge badge-incorrect">"revoked"</span> }.into_any()
                        }}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <Grid columns=&["Name", "Key", "Owner", "Scopes", "Created", "Last used", ""]>{rows}</Grid>
    }
}
