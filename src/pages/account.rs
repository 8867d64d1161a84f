//! `/account/password`: a person chooses their own password (required after signing in with a
//! generated one). A plain form post, like sign-in; errors come back as a code in the URL.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn PasswordPage() -> impl IntoView {
    let query = use_query_map();
    // Only known codes are shown: a link cannot put words on this page.
    let message = move || {
        query
            .read()
            .get("error")
            .and_then(|code| error_message(&code))
    };
    view! {
        <Title text="Your password"/>
        <section class="login">
            <h1>"Choose your password"</h1>
            <p class="subtle">
                "If you signed in with a password someone gave you or one Redline generated, "
                "replace it with one only you know. Your other sessions end when it changes."
            </p>
            {move || message().map(|m| view! { <p class="form-error" role="alert" data-testid="password-error">{m}</p> })}
            <form method="post" action="/auth/password" class="stack">
                <label class="field">
                    <span class="field-label">"Current password"</span>
                    <input name="current" type="password" autocomplete="current-password" required data-testid="password-current"/>
                </label>
                <label class="field">
                    <span class="field-label">"New password"</span>
                    <input name="new" type="password" autocomplete="new-password" minlength="10" required data-testid="password-new"/>
                </label>
                <label class="field">
                    <span class="field-label">"New password again"</span>
                    <input name="repeat" type="password" autocomplete="new-password" minlength="10" required data-testid="password-repeat"/>
                </label>
                <button class="button primary" type="submit" data-testid="password-submit">"Change password"</button>
            </form>
        </section>
    }
}

fn error_message(code: &str) -> Option<&'static str> {
    Some(match code {
        "current" => "The current password is not right.",
        "repeat" => "The two new passwords differ.",
        "same" => "The new password is the one you have now; choose another.",
        "strength" => "A password needs at least 10 characters (and at most 1,024 bytes).",
        "limited" => "Too many wrong passwords. Try again in a few minutes.",
        _ => return None,
    })
}
