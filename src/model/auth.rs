//! Who may do what: roles of people, scopes of API keys, and what each allows. Shared by the
//! server (which enforces it) and the browser (which only hides what would be refused).

use serde::{Deserialize, Serialize};

/// A person's role. Each user has exactly one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Role {
    /// Reads the feed and reviews calls.
    Reviewer,
    /// A reviewer who also watches trends, routes operations to models and keeps tag lists.
    Lead,
    /// A reviewer who also watches trends, exports training sets and manages API keys.
    Engineer,
    /// Everything, plus users, every key and the audit log.
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Reviewer, Role::Lead, Role::Engineer, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Reviewer => "reviewer",
            Role::Lead => "lead",
            Role::Engineer => "engineer",
            Role::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == text.trim())
    }

    /// Whether this role may use a capability.
    pub fn can(self, capability: Capability) -> bool {
        use Capability::*;
        match self {
            Role::Admin => true,
            Role::Reviewer => matches!(capability, Review),
            Role::Lead => matches!(capability, Review | Trends | Routing | Operations),
            Role::Engineer => matches!(capability, Review | Trends | Export | ApiKeys),
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a page, server function or action needs from a signed-in person.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Capability {
    /// The feed, call pages, saving reviews.
    Review,
    /// Accuracy over time and per model version.
    Trends,
    /// Which model serves each operation.
    Routing,
    /// Operation settings: description, output kind and JSON Schema, guidelines, the
    /// failure-tag list, the accuracy target.
    Operations,
    /// Training-set exports.
    Export,
    /// Creating and revoking API keys (one's own; admins: everyone's).
    ApiKeys,
    /// Users and the audit log.
    Admin,
}

/// What an API key may do. A key holds one or more scopes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Scope {
    /// `POST /api/v1/calls`.
    Ingest,
    /// Reading calls and reviews.
    Read,
    /// Saving reviews.
    Review,
    /// Creating and downloading exports.
    Export,
    /// Defining operations (`PUT /api/v1/operations/{name}`): only for keys whose owner may
    /// define operations on the pages too (admins; leads hold no keys).
    Configure,
}

impl Scope {
    pub const ALL: [Scope; 5] = [
        Scope::Ingest,
        Scope::Read,
        Scope::Review,
        Scope::Export,
        Scope::Configure,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Ingest => "ingest",
            Scope::Read => "read",
            Scope::Review => "review",
            Scope::Export => "export",
            Scope::Configure => "configure",
        }
    }

    /// The capability a key's owner must also have for the key to use this scope.
    pub fn owner_needs(self) -> Option<Capability> {
        match self {
            Scope::Configure => Some(Capability::Operations),
            // Exports carry every input and correction: only engineers and admins take them.
            Scope::Export => Some(Capability::Export),
            _ => None,
        }
    }

    pub fn parse(text: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.as_str() == text.trim())
    }

    /// A comma-separated list (`ingest,read`): every entry must be a scope, at least one.
    pub fn parse_list(text: &str) -> Result<Vec<Scope>, String> {
        let mut scopes = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let scope = Scope::parse(part).ok_or_else(|| {
                format!(
                    "unknown scope \"{part}\" (known: {})",
                    Scope::ALL.map(Scope::as_str).join(", ")
                )
            })?;
            if !scopes.contains(&scope) {
                scopes.push(scope);
            }
        }
        if scopes.is_empty() {
            return Err("name at least one scope".into());
        }
        scopes.sort();
        Ok(scopes)
    }

    pub fn join(scopes: &[Scope]) -> String {
        scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// The signed-in person, as pages show them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewer {
    pub name: String,
    pub role: Role,
}

impl Viewer {
    pub fn can(&self, capability: Capability) -> bool {
        self.role.can(capability)
    }
}

/// A user as the admin page lists them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSummary {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub last_login_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// An API key as lists show it: never the secret, which is shown once at creation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeySummary {
    pub id: i64,
    pub name: String,
    /// The first characters of the key (`rl_3f9a…`), to recognise it.
    pub prefix: String,
    pub owner: String,
    pub scopes: Vec<Scope>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub last_used_at: Option<chrono::DateTime<chrono::Utc>>,
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// One audit-log entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: chrono::DateTime<chrono::Utc>,
    /// The user's name, `key:<prefix>` for an API key, or `cli` for the command line.
    pub actor: String,
    /// `review.save`, `key.create`, `user.set_role`, …
    pub action: String,
    /// What it was done to: a call id, a key prefix, a user name.
    pub target: String,
    /// Further detail (the new role, the scopes, the verdict), as short text.
    pub detail: String,
    /// The client address, when the action came over HTTP.
    pub address: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_have_their_capabilities_and_no_more() {
        use Capability::*;
        let all = [Review, Trends, Routing, Operations, Export, ApiKeys, Admin];
        let allowed =
            |role: Role| -> Vec<Capability> { all.into_iter().filter(|c| role.can(*c)).collect() };
        assert_eq!(allowed(Role::Reviewer), vec![Review]);
        assert_eq!(
            allowed(Role::Lead),
            vec![Review, Trends, Routing, Operations]
        );
        assert_eq!(
            allowed(Role::Engineer),
            vec![Review, Trends, Export, ApiKeys]
        );
        assert_eq!(allowed(Role::Admin), all.to_vec());
    }

    #[test]
    fn scope_lists_parse_strictly() {
        assert_eq!(
            Scope::parse_list("read, ingest,read").unwrap(),
            vec![Scope::Ingest, Scope::Read]
        );
        assert!(Scope::parse_list("read,admin")
            .unwrap_err()
            .contains("admin"));
        assert!(Scope::parse_list(" , ").is_err());
        assert_eq!(Role::parse("lead"), Some(Role::Lead));
        assert_eq!(Role::parse("root"), None);
    }
}
