//! `/login`: name and password, posted as a plain form (works before and without the
//! WebAssembly). Errors come back in the URL and never say whether the name exists.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let message = move || {
        let q = query.read();
        match q.get("error").as_deref() {
            Some("invalid") => {
                Some("That name and password do not match an active account.".to_string())
            }
            // Only a small number is shown from the URL: a link cannot put words here.
            Some("limited") => Some(match limited_minutes(q.get("minutes").as_deref()) {
                Some(1) => "Too many failed sign-ins. Try again in a minute.".to_string(),
                Some(minutes) => {
                    format!("Too many failed sign-ins. Try again in {minutes} minutes.")
                }
                None => "Too many failed sign-ins. Try again later.".to_string(),
            }),
            _ => None,
        }
    };
    view! {
        <Title text="Sign in"/>
        <section class="login">
            <h1>"Sign in to Redline"</h1>
            <p class="subtle">"Your account comes from an admin of this Redline."</p>
            {move || message().map(|m| view! { <p class="form-error" role="alert" data-testid="login-error">{m}</p> })}
            <form method="post" action="/auth/login" class="stack">
                <input type="hidden" name="next" value=next/>
                <label class="field">
                    <span class="field-label">"Name"</span>
                    <input name="name" autocomplete="username" required autofocus data-testid="login-name"/>
                </label>
                <label class="field">
                    <span class="field-label">"Password"</span>
                    <input name="password" type="password" autocomplete="current-password" required data-testid="login-password"/>
                </label>
                <button class="button primary" type="submit" data-testid="login-submit">"Sign in"</button>
            </form>
        </section>
    }
}

/// The wait a sign-in refusal names: a whole number of minutes up to a day, or nothing.
fn limited_minutes(text: Option<&str>) -> Option<u32> {
    text?
        .parse::<u32>()
        .ok()
        .filter(|m| (1..=24 * 60).contains(m))
}

#[cfg(test)]
mod tests {
    use super::limited_minutes;

    #[test]
    fn only_a_number_of_minutes_comes_from_the_url() {
        assert_eq!(limited_minutes(Some("15")), Some(15));
        assert_eq!(
            limited_minutes(Some("15 — call +1 555 0100 to unlock")),
            None
        );
        assert_eq!(limited_minutes(Some("0")), None);
        assert_eq!(limited_minutes(Some("99999999")), None);
        assert_eq!(limited_minutes(None), None);
    }
}
