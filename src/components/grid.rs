//! The plain data table of the account pages: column headings, then the rows given.

use leptos::prelude::*;

/// A bordered table with `columns` as headings (an empty one for an actions column).
#[component]
pub fn Grid(columns: &'static [&'static str], children: Children) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="grid">
                <thead><tr>
                    {columns.iter().map(|c| view! { <th scope="col">{*c}</th> }).collect_view()}
                </tr></thead>
                <tbody>{children()}</tbody>
            </table>
        </div>
    }
}
