//! Who may reach each route: the one table every request is checked against. A path the table
//! does not know needs a signed-in person (so a page added without an entry is never public),
//! and the authorization test fails for any page, server function or API route missing here.

use axum::http::Method;

use crate::model::auth::{Capability, Scope};

/// What a request needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not: sign-in, health checks, static files.
    Public,
    /// A signed-in person whose role has the capability (pages and server functions).
    Person(Capability),
    /// An API key with the scope (`/api/v1`).
    Key(Scope),
}

/// Server functions, by path (each declares a fixed `endpoint`): what each needs.
pub const SERVER_FUNCTIONS: &[(&str, Access)] = &[
    ("/api/viewer", Access::Public),
    ("/api/load_feed", Access::Person(Capability::Review)),
    (
        "/api/load_filter_choices",
        Access::Person(Capability::Review),
    ),
    ("/api/load_call", Access::Person(Capability::Review)),
    ("/api/draw_call", Access::Person(Capability::Review)),
    ("/api/next_call", Access::Person(Capability::Review)),
    ("/api/save_review", Access::Person(Capability::Review)),
    ("/api/check_correction", Access::Person(Capability::Review)),
    (
        "/api/list_operations",
        Access::Person(Capability::Operations),
    ),
    (
        "/api/load_operation",
        Access::Person(Capability::Operations),
    ),
    (
        "/api/create_operation",
        Access::Person(Capability::Operations),
    ),
    (
        "/api/save_operation",
        Access::Person(Capability::Operations),
    ),
    ("/api/change_tag", Access::Person(Capability::Operations)),
    ("/api/save_alert", Access::Person(Capability::Operations)),
    ("/api/load_trends", Access::Person(Capability::Trends)),
    (
        "/api/load_operation_trends",
        Access::Person(Capability::Trends),
    ),
    ("/api/list_keys", Access::Person(Capability::ApiKeys)),
    ("/api/create_key", Access::Person(Capability::ApiKeys)),
    ("/api/revoke_key", Access::Person(Capability::ApiKeys)),
    ("/api/list_users", Access::Person(Capability::Admin)),
    ("/api/add_user", Access::Person(Capability::Admin)),
    ("/api/update_user", Access::Person(Capability::Admin)),
    ("/api/list_audit", Access::Person(Capability::Admin)),
    ("/api/load_exports", Access::Person(Capability::Export)),
    ("/api/preview_export", Access::Person(Capability::Export)),
    ("/api/create_export", Access::Person(Capability::Export)),
    ("/api/cancel_export", Access::Person(Capability::Export)),
    ("/api/delete_export", Access::Person(Capability::Export)),
];

/// Where a person signed in with a generated password is sent until they choose their own.
pub const PASSWORD_PAGE: &str = "/account/password";

/// All such a person may reach besides public paths: the page, its form's handler, and who
/// they are (the page's header).
pub const PASSWORD_CHANGE_PATHS: &[&str] = &[PASSWORD_PAGE, "/auth/password", "/api/viewer"];

/// Pages (GET), by route pattern as the router lists them.
pub const PAGES: &[(&str, Access)] = &[
    ("/login", Access::Public),
    ("/calls", Access::Person(Capability::Review)),
    ("/calls/{id}", Access::Person(Capability::Review)),
    ("/review", Access::Person(Capability::Review)),
    ("/operations", Access::Person(Capability::Operations)),
    ("/operations/{name}", Access::Person(Capability::Operations)),
    ("/trends", Access::Person(Capability::Trends)),
    ("/trends/{operation}", Access::Person(Capability::Trends)),
    ("/keys", Access::Person(Capability::ApiKeys)),
    ("/exports", Access::Person(Capability::Export)),
    ("/admin", Access::Person(Capability::Admin)),
    ("/admin/audit", Access::Person(Capability::Admin)),
    (PASSWORD_PAGE, Access::Person(Capability::Review)),
];

/// The REST API and the plain handlers beside the pages.
pub const ROUTES: &[(&str, &str, Access)] = &[
    ("GET", "/", Access::Public),
    ("GET", "/healthz", Access::Public),
    ("GET", "/readyz", Access::Public),
    ("POST", "/auth/login", Access::Public),
    ("POST", "/auth/logout", Access::Public),
    ("POST", "/auth/password", Access::Person(Capability::Review)),
    // The keys and users pages' forms without JavaScript (`http::forms`).
    ("POST", "/keys/create", Access::Person(Capability::ApiKeys)),
    ("POST", "/keys/revoke", Access::Person(Capability::ApiKeys)),
    (
        "POST",
        "/admin/users/add",
        Access::Person(Capability::Admin),
    ),
    (
        "POST",
        "/admin/users/change",
        Access::Person(Capability::Admin),
    ),
    ("GET", "/api/v1/calls", Access::Key(Scope::Read)),
    ("POST", "/api/v1/calls", Access::Key(Scope::Ingest)),
    ("POST", "/v1/traces", Access::Key(Scope::Ingest)),
    ("GET", "/api/v1/calls/{id}", Access::Key(Scope::Read)),
    (
        "POST",
        "/api/v1/calls/{id}/reviews",
        Access::Key(Scope::Review),
    ),
    ("GET", "/api/v1/operations", Access::Key(Scope::Read)),
    ("GET", "/api/v1/operations/{name}", Access::Key(Scope::Read)),
    (
        "PUT",
        "/api/v1/operations/{name}",
        Access::Key(Scope::Configure),
    ),
    ("GET", "/api/v1/accuracy", Access::Key(Scope::Read)),
    ("GET", "/api/v1/routing", Access::Key(Scope::Read)),
    (
        "GET",
        "/api/v1/routing/{operation}",
        Access::Key(Scope::Read),
    ),
    (
        "GET",
        "/exports/{id}/download",
        Access::Person(Capability::Export),
    ),
    ("GET", "/api/v1/exports", Access::Key(Scope::Export)),
    ("POST", "/api/v1/exports", Access::Key(Scope::Export)),
    (
        "POST",
        "/api/v1/exports/preview",
        Access::Key(Scope::Export),
    ),
    ("GET", "/api/v1/exports/{id}", Access::Key(Scope::Export)),
    ("DELETE", "/api/v1/exports/{id}", Access::Key(Scope::Export)),
    (
        "POST",
        "/api/v1/exports/{id}/cancel",
        Access::Key(Scope::Export),
    ),
    (
        "GET",
        "/api/v1/exports/{id}/download",
        Access::Key(Scope::Export),
    ),
];

/// The page a plain form post belongs to (the keys and users pages' forms without
/// JavaScript), where a refused sender is sent back to after signing in.
pub fn form_page(method: &Method, path: &str) -> Option<&'static str> {
    if method != Method::POST {
        return None;
    }
    if path.starts_with("/keys/") {
        Some("/keys")
    } else if path.starts_with("/admin/users/") {
        Some("/admin")
    } else {
        None
    }
}

/// Files under `public/` and the compiled site (`/pkg/…`), served by routes of their own that
/// answer only files.
pub fn is_static(path: &str) -> bool {
    path.starts_with("/pkg/") || path == "/favicon.svg"
}

/// Whether `path` (as sent, still percent-encoded) names what it seems to name. Refused: dot
/// segments (`.`, `..`, also encoded or with trailing dots the page router would resolve),
/// encoded separators (`%2f`, `%5c`) and encoded `%` (`%25`, a second round of decoding),
/// backslashes, empty segments (`//`), control characters, and anything the page router's
/// URL parser would normalize to another path. A canonical path reaches the same route in
/// axum, in the page router and in this table, so the table decides for the path actually
/// served. Redline's own links are always canonical.
pub fn is_canonical(path: &str) -> bool {
    if !path.starts_with('/') || path.contains("//") || path.contains('\\') {
        return false;
    }
    if path.bytes().any(|b| b.is_ascii_control() || b == b' ') {
        return false;
    }
    let lower = path.to_ascii_lowercase();
    if ["%2e", "%2f", "%5c", "%25", "%00"]
        .iter()
        .any(|encoded| lower.contains(encoded))
    {
        return false;
    }
    // A segment of dots only (`.`, `..`, `...`), or ending in a dot-and-semicolon trick.
    if path.split('/').any(|segment| {
        (!segment.is_empty() && segment.bytes().all(|b| b == b'.')) || segment.starts_with("..;")
    }) {
        return false;
    }
    // The page router parses the URL as a browser would (WHATWG): it must see the same path.
    let Ok(base) = url::Url::parse("http://redline.invalid/") else {
        return false;
    };
    matches!(base.join(path), Ok(parsed) if parsed.path() == path && parsed.host_str() == Some("redline.invalid"))
}

/// The path as the tables match it: without a trailing slash (the page router ignores one),
/// lowercase (a differently cased path never gets less protection than the page).
fn table_path(path: &str) -> String {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        "/".to_string()
    } else {
        trimmed.to_ascii_lowercase()
    }
}

/// Whether `path` fits `pattern`, where `{name}` stands for one non-empty segment.
pub fn fits(pattern: &str, path: &str) -> bool {
    let mut pattern_parts = pattern.split('/');
    let mut path_parts = path.split('/');
    loop {
        match (pattern_parts.next(), path_parts.next()) {
            (None, None) => return true,
            (Some(p), Some(s)) if p.starts_with('{') && p.ends_with('}') => {
                if s.is_empty() {
                    return false;
                }
            }
            (Some(p), Some(s)) if p == s => {}
            _ => return false,
        }
    }
}

/// What a request for `method path` needs.
pub fn access(method: &Method, path: &str) -> Access {
    if is_static(path) {
        return Access::Public;
    }
    let path = table_path(path);
    let path = path.as_str();
    if let Some((_, access)) = SERVER_FUNCTIONS.iter().find(|(p, _)| *p == path) {
        return *access;
    }
    let method = method.as_str();
    let head_as_get = |m: &str| m == method || (method == "HEAD" && m == "GET");
    if let Some((_, _, access)) = ROUTES
        .iter()
        .find(|(m, p, _)| head_as_get(m) && fits(p, path))
    {
        return *access;
    }
    if path.starts_with("/api/v1/") || path == "/api/v1" || path == "/v1/traces" {
        // Unknown API routes answer 404 to a key of any scope, 401 without one.
        return Access::Key(Scope::Read);
    }
    if let Some((_, access)) = PAGES.iter().find(|(p, _)| fits(p, path)) {
        return *access;
    }
    Access::Person(Capability::Review)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_one_segment_per_placeholder() {
        assert!(fits("/calls/{id}", "/calls/abc"));
        assert!(!fits("/calls/{id}", "/calls/"));
        assert!(!fits("/calls/{id}", "/calls/abc/def"));
        assert!(fits("/calls", "/calls"));
        assert!(!fits("/calls", "/callsx"));
    }

    #[test]
    fn unknown_paths_need_a_signed_in_person() {
        assert_eq!(
            access(&Method::GET, "/nothing/here"),
            Access::Person(Capability::Review)
        );
        assert_eq!(
            access(&Method::DELETE, "/api/v1/calls"),
            Access::Key(Scope::Read)
        );
        assert_eq!(access(&Method::GET, "/pkg/redline.js"), Access::Public);
        assert_eq!(
            access(&Method::GET, "/admin/audit"),
            Access::Person(Capability::Admin)
        );
        assert_eq!(access(&Method::HEAD, "/healthz"), Access::Public);
        assert_eq!(
            access(&Method::GET, "/Admin/"),
            Access::Person(Capability::Admin),
            "a trailing slash or another case is still the admin page"
        );
    }

    #[test]
    fn only_canonical_paths_pass() {
        for path in [
            "/calls",
            "/calls/0191e0f2-aaaa-7bbb-8ccc-123456789abc",
            "/pkg/redline.js",
            "/",
            "/calls/%D8%A7",
            "/a.b/c.",
        ] {
            assert!(is_canonical(path), "{path}");
        }
        for path in [
            "/pkg/../calls",
            "/pkg/%2e%2e/calls",
            "/pkg/%2E%2E/calls",
            "/pkg/.%2e/calls",
            "/pkg%2f..%2fcalls",
            "/pkg/..;/calls",
            "//calls",
            "/pkg//calls",
            "/pkg\\..\\calls",
            "/pkg/%5c../calls",
            "/pkg/%252e%252e/calls",
            "/pkg/./calls",
            "/pkg/.../calls",
            "/calls/.",
            "calls",
        ] {
            assert!(!is_canonical(path), "{path}");
        }
    }
}
