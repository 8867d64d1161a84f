//! The failure-tag list of `/operations/{name}`: each tag's description edited inline,
//! Change… to rename, merge into another tag, retire or offer again, the tags in use that
//! are not listed, and a form to add one. Each is a form that works without JavaScript.

use leptos::prelude::*;

use super::Outcome;
use crate::api::operations::ChangeTag;
use crate::components::grid::Grid;
use crate::model::operation::{OperationView, TagDefinition};

/// The fields every tag change carries: the operation, the page's version, what and which.
fn tag_fields(operation: &str, version: &str, action: &'static str, tag: &str) -> impl IntoView {
    view! {
        <input type="hidden" name="name" value=operation.to_string()/>
        <input type="hidden" name="version" value=version.to_string()/>
        <input type="hidden" name="action" value=action/>
        <input type="hidden" name="tag" value=tag.to_string()/>
    }
}

#[component]
pub(super) fn Tags(op: OperationView, change: ServerAction<ChangeTag>) -> impl IntoView {
    let name = op.definition.name.clone();
    let version = op.version.to_string();
    let uses = |tag: &str| {
        op.tag_uses
            .iter()
            .find(|(t, _)| t == tag)
            .map_or(0, |(_, n)| *n)
    };
    let listed: Vec<String> = op.definition.tags.iter().map(|t| t.name.clone()).collect();
    let rows = op
        .definition
        .tags
        .iter()
        .map(|tag| {
            let TagDefinition { name: tag_name, description, retired, aliases } = tag.clone();
            let others: Vec<String> = listed.iter().filter(|t| **t != tag_name).cloned().collect();
            let toggle = if retired { "restore" } else { "retire" };
            let count = uses(&tag_name);
            let describe = tag_fields(&name, &version, "describe", &tag_name);
            let rename = tag_fields(&name, &version, "rename", &tag_name);
            let merge = tag_fields(&name, &version, "merge", &tag_name);
            let retire = tag_fields(&name, &version, toggle, &tag_name);
            let describe_label = format!("Description of {tag_name}");
            let rename_label = format!("New name for {tag_name}");
            let merge_label = format!("Merge {tag_name} into");
            let merge_form = (!others.is_empty()).then(move || view! {
                <ActionForm action=change attr:class="row-form">
                    {merge}
                    <select name="value" aria-label=merge_label data-testid="merge-into">
                        {others.into_iter().map(|o| { let label = o.clone(); view! { <option value=o>{label}</option> } }).collect_view()}
                    </select>
                    <button class="button" type="submit" data-testid="merge">"Merge into"</button>
                </ActionForm>
            });
            view! {
                <tr data-testid="tag-row" class:revoked=retired>
                    <td>
                        <span class="chip" title=description.clone()>{tag_name.clone()}</span>
                        {(!aliases.is_empty()).then(|| view! {
                            <div class="subtle row-note" data-testid="tag-aliases">"also: "{aliases.join(", ")}</div>
                        })}
                    </td>
                    <td>
                        <ActionForm action=change attr:class="row-form grow-form">
                            {describe}
                            <input name="value" value=description maxlength="500" placeholder="What this failure means"
                                aria-label=describe_label/>
                            <button class="button ghost" type="submit">"Set"</button>
                        </ActionForm>
                    </td>
                    <td class="num">{count}</td>
                    <td>{if retired { "retired" } else { "offered" }}</td>
                    <td class="actions">
                        <details class="tag-actions">
                            <summary class="button ghost" data-testid="tag-change">"Change…"</summary>
                            <div class="tag-actions-body">
                                <ActionForm action=change attr:class="row-form">
                                    {rename}
                                    <input name="value" required maxlength="48" placeholder="new name" data-testid="rename-to"
                                        aria-label=rename_label/>
                                    <button class="button" type="submit" data-testid="rename">"Rename"</button>
                                </ActionForm>
                                {merge_form}
                                <ActionForm action=change attr:class="row-form">
                                    {retire}
                                    <button class="button" type="submit" data-testid="retire">
                                        {if retired { "Offer again" } else { "Retire" }}
                                    </button>
                                </ActionForm>
                            </div>
                        </details>
                    </td>
                </tr>
            }
        })
        .collect_view();
    let unlisted = op
        .unlisted_tags
        .iter()
        .map(|tag| {
            let fields = tag_fields(&name, &version, "add", tag);
            let count = format!("{} reviews", uses(tag));
            let tag = tag.clone();
            view! {
                <li>
                    <ActionForm action=change attr:class="row-form">
                        {fields}
                        <span class="chip">{tag}</span>
                        <span class="subtle">{count}</span>
                        <button class="button ghost" type="submit" data-testid="list-tag">"Add to the list"</button>
                    </ActionForm>
                </li>
            }
        })
        .collect_view();
    let add_fields = view! {
        <input type="hidden" name="name" value=name.clone()/>
        <input type="hidden" name="version" value=version.clone()/>
        <input type="hidden" name="action" value="add"/>
    };
    let has_tags = !op.definition.tags.is_empty();
    let has_unlisted = !op.unlisted_tags.is_empty();
    view! {
        <section class="card" data-testid="tags">
            <h2>"Failure tags"</h2>
            <p class="subtle">"Renaming or merging keeps every past review's meaning: the old name becomes an alias, and the feed filter, tag counts and exports follow it. A retired tag is no longer offered; past reviews keep it."</p>
            <Outcome value=Signal::derive(move || change.value().get()) testid="tags-outcome"/>
            {if has_tags {
                view! { <Grid columns=&["Tag", "Description", "Reviews", "Status", ""]>{rows}</Grid> }.into_any()
            } else {
                view! { <p class="subtle" data-testid="no-tags">"No tags listed yet."</p> }.into_any()
            }}
            {has_unlisted.then(|| view! {
                <h3>"In use but not listed"</h3>
                <ul class="unlisted">{unlisted}</ul>
            })}
            <ActionForm action=change attr:class="inline-form add-tag">
                {add_fields}
                <label class="field">
                    <span class="field-label">"New tag"</span>
                    <input name="tag" required maxlength="48" placeholder="wrong_amount" data-testid="new-tag"/>
                </label>
                <label class="field grow">
                    <span class="field-label">"Description"</span>
                    <input name="value" maxlength="500" placeholder="The amount differs from the invoice" data-testid="new-tag-description"/>
                </label>
                <button class="button" type="submit" data-testid="add-tag">"Add tag"</button>
            </ActionForm>
        </section>
    }
}
