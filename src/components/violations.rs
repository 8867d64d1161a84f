//! The JSON Schema rules a correction breaks, each with where in the correction and which rule.

use leptos::prelude::*;

use crate::model::operation::Violation;

#[component]
pub fn Violations(violations: Vec<Violation>) -> impl IntoView {
    (!violations.is_empty()).then(|| {
        let rows = violations
            .into_iter()
            .map(|v| {
                let path = if v.path.is_empty() { "/".to_string() } else { v.path };
                view! {
                    <li data-testid="violation">
                        <code class="violation-path" data-testid="violation-path">{path}</code>
                        " "<span>{v.message}</span>
                        " "<span class="subtle violation-rule" title="The schema rule">{v.rule}</span>
                    </li>
                }
            })
            .collect_view();
        view! { <ul class="violations" data-testid="violations">{rows}</ul> }
    })
}
