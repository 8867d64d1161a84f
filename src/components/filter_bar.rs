//! The feed's filter bar: a GET form, so filters live in the URL and work without JavaScript.

use leptos::prelude::*;

use crate::model::{CallFilter, FilterChoices};

/// The form's fields in the order links are written (the same order as `CallFilter::to_pairs`).
#[cfg(feature = "hydrate")]
const FIELDS: [&str; 9] = [
    "operation",
    "verdict",
    "model",
    "model_version",
    "from",
    "to",
    "tag",
    "reviewer",
    "q",
];

/// Submits the surrounding form when a select or date changes (only once hydrated).
fn submit_on_change(ev: leptos::ev::Event) {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast;
        let form = ev
            .target()
            .and_then(|target| target.dyn_into::<leptos::web_sys::Element>().ok())
            .and_then(|element| element.closest("form").ok().flatten())
            .and_then(|form| form.dyn_into::<leptos::web_sys::HtmlFormElement>().ok());
        if let Some(form) = form {
            let _ = form.request_submit();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = ev;
}

fn options(values: Vec<(String, String)>, selected: Option<&str>) -> impl IntoView {
    values
        .into_iter()
        .map(|(value, label)| {
            let is_selected = selected == Some(value.as_str());
            // The attribute serves the server render; the property moves a live select on navigation.
            view! { <option value=value selected=is_selected prop:selected=is_selected>{label}</option> }
        })
        .collect_view()
}

/// One select of the bar: "any" first, then the choices; a change submits the form.
#[component]
fn SelectFilter(
    label: &'static str,
    name: &'static str,
    testid: &'static str,
    /// The first option's text: no filter.
    any: &'static str,
    values: Vec<(String, String)>,
    selected: Option<String>,
) -> impl IntoView {
    let none = selected.is_none();
    view! {
        <label class="field">
            <span class="field-label">{label}</span>
            <select name=name data-testid=testid on:change=submit_on_change>
                <option value="" selected=none prop:selected=none>{any}</option>
                {options(values, selected.as_deref())}
            </select>
        </label>
    }
}

#[component]
pub fn FilterBar(
    filter: CallFilter,
    choices: FilterChoices,
    /// The page the form leads to: the feed, or the review queue with the same filters.
    #[prop(default = "/calls")]
    base: &'static str,
) -> impl IntoView {
    let mut model_names: Vec<String> = choices.models.iter().map(|m| m.model.clone()).collect();
    model_names.dedup();
    let versions: Vec<(String, String)> = choices
        .models
        .iter()
        .filter(|m| filter.model.as_ref().is_none_or(|model| model == &m.model))
        .map(|m| (m.version.clone(), format!("{} · {}", m.model, m.version)))
        .collect();
    let operations = choices
        .operations
        .iter()
        .map(|o| (o.clone(), o.clone()))
        .collect();
    let tags = choices
        .tags
        .iter()
        .map(|t| (t.clone(), t.clone()))
        .collect();
    let reviewers = choices
        .reviewers
        .iter()
        .map(|r| (r.clone(), r.clone()))
        .collect();
    let models = model_names.into_iter().map(|m| (m.clone(), m)).collect();
    let from = filter
        .from
        .as_ref()
        .map(|b| b.date_text())
        .unwrap_or_default();
    let to = filter
        .to
        .as_ref()
        .map(|b| b.date_text())
        .unwrap_or_default();
    let q = filter.q.clone().unwrap_or_default();
    let verdict = filter.verdict.map(|v| v.as_str()).unwrap_or("");

    // Without JavaScript the form is a plain GET. Once hydrated, submitting navigates inside
    // the app to a link without the empty fields.
    let navigate = leptos_router::hooks::use_navigate();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        #[cfg(feature = "hydrate")]
        {
            use leptos::wasm_bindgen::JsCast;
            let form = ev
                .target()
                .and_then(|target| target.dyn_into::<leptos::web_sys::HtmlFormElement>().ok());
            let Some(data) =
                form.and_then(|form| leptos::web_sys::FormData::new_with_form(&form).ok())
            else {
                return;
            };
            ev.prevent_default();
            let pairs: Vec<(&str, String)> = FIELDS
                .iter()
                .filter_map(|name| {
                    data.get(name)
                        .as_string()
                        .map(|value| (*name, value.trim().to_string()))
                })
                .filter(|(_, value)| !value.is_empty())
                .collect();
            let href = if pairs.is_empty() {
                base.to_string()
            } else {
                format!("{base}?{}", crate::model::encode_query(&pairs))
            };
            navigate(&href, Default::default());
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, &navigate, base);
    };

    view! {
        <form method="get" action=base class="filters" role="search" on:submit=on_submit>
            <input type="hidden" name="verdict" value=verdict prop:value=verdict/>
            <label class="field field-search">
                <span class="field-label">"Search"</span>
                <input
                    type="search"
                    name="q"
                    value=q.clone()
                    prop:value=q
                    placeholder="Words in input or output (refun* for prefixes)"
                    data-testid="filter-q"
                />
            </label>
            <SelectFilter label="Operation" name="operation" testid="filter-operation" any="All operations"
                values=operations selected=filter.operation.clone()/>
            <SelectFilter label="Model" name="model" testid="filter-model" any="All models"
                values=models selected=filter.model.clone()/>
            <SelectFilter label="Version" name="model_version" testid="filter-model-version" any="All versions"
                values=versions selected=filter.model_version.clone()/>
            <SelectFilter label="Tag" name="tag" testid="filter-tag" any="Any tag"
                values=tags selected=filter.tag.clone()/>
            <SelectFilter label="Reviewer" name="reviewer" testid="filter-reviewer" any="Anyone"
                values=reviewers selected=filter.reviewer.clone()/>
            <label class="field field-date">
                <span class="field-label">"From"</span>
                <input type="date" name="from" value=from.clone() prop:value=from data-testid="filter-from" on:change=submit_on_change/>
            </label>
            <label class="field field-date">
                <span class="field-label">"To"</span>
                <input type="date" name="to" value=to.clone() prop:value=to data-testid="filter-to" on:change=submit_on_change/>
            </label>
            <div class="filter-actions">
                <button type="submit" class="button primary" data-testid="filter-apply">"Apply"</button>
                <a class="button ghost" href=base data-testid="filter-clear">"Clear"</a>
            </div>
        </form>
    }
}
