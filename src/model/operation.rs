//! What leads define for each operation: its description, output kind and JSON Schema, review
//! guidelines, failure-tag taxonomy and the accuracy target trends use. The same definition is
//! read and written by the operation page, `GET`/`PUT /api/v1/operations/{name}` and
//! `redline operation show|apply`. Sizes are checked here, before any other work.

use serde::{Deserialize, Serialize};

use crate::model::skips::SkipSummary;

use super::filter::is_valid_operation_name;
use super::review::is_tag_name;
use super::OutputKind;

/// Longest description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 2_000;
/// Longest guidelines (Markdown), in bytes.
pub const MAX_GUIDELINES_BYTES: usize = 64 * 1024;
/// Largest JSON Schema, serialized, in bytes.
pub const MAX_SCHEMA_BYTES: usize = 256 * 1024;
/// Most tags in an operation's list.
pub const MAX_TAGS_LISTED: usize = 200;
/// Most former names (aliases) one tag may carry.
pub const MAX_ALIASES: usize = 50;
/// Longest tag description, in characters.
pub const MAX_TAG_DESCRIPTION_CHARS: usize = 500;
/// The minimum number of reviews a figure needs unless the operation says otherwise.
pub const DEFAULT_MIN_REVIEWS: i64 = 30;
/// The largest minimum a lead may set.
pub const MAX_MIN_REVIEWS: i64 = 100_000;
/// Largest body `PUT /api/v1/operations/{name}` and `redline operation apply` read.
pub const MAX_DEFINITION_BYTES: usize = 1024 * 1024;

/// An operation's definition as code: the body of `PUT /api/v1/operations/{name}`, the
/// answer of `GET`, the file `redline operation apply` reads.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperationDefinition {
    /// In a `PUT` body it may be left out; when given it must match the path.
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default = "text_kind")]
    pub output_kind: OutputKind,
    /// A draft 2020-12 JSON Schema that `json` outputs and corrections must meet.
    #[serde(default)]
    pub json_schema: Option<serde_json::Value>,
    /// Review guidelines in Markdown.
    #[serde(default)]
    pub guidelines: String,
    /// The failure-tag list. Listed tags absent from a `PUT` are unlisted (past reviews keep
    /// them; they are no longer offered).
    #[serde(default)]
    pub tags: Vec<TagDefinition>,
    /// Reviewers may only pick listed, unretired tags: any other tag in a review is refused.
    #[serde(default)]
    pub listed_tags_only: bool,
    /// The accuracy this operation should reach (0 < target ≤ 1), drawn on trends.
    #[serde(default)]
    pub accuracy_target: Option<f64>,
    /// A figure from fewer reviews is shown as "too few reviews", never as a value.
    #[serde(default = "default_min_reviews")]
    pub min_reviews: i64,
}

fn text_kind() -> OutputKind {
    OutputKind::Text
}

fn default_min_reviews() -> i64 {
    DEFAULT_MIN_REVIEWS
}

/// One tag of an operation's list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagDefinition {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// No longer offered to reviewers; past reviews keep it.
    #[serde(default)]
    pub retired: bool,
    /// Former names that now mean this tag (a rename or a merge): reviews that used them
    /// count, filter and export as this tag.
    #[serde(default)]
    pub aliases: Vec<String>,
}

impl OperationDefinition {
    /// A new operation's definition: text output, nothing else set.
    pub fn new(name: &str) -> OperationDefinition {
        OperationDefinition {
            name: name.to_string(),
            description: String::new(),
            output_kind: OutputKind::Text,
            json_schema: None,
            guidelines: String::new(),
            tags: Vec::new(),
            listed_tags_only: false,
            accuracy_target: None,
            min_reviews: DEFAULT_MIN_REVIEWS,
        }
    }

    /// Checks every size, name and range (not the schema's meaning: the server compiles it).
    /// Trims names and descriptions; the error names the field.
    pub fn check(&mut self) -> Result<(), DefinitionError> {
        if !is_valid_operation_name(&self.name) {
            return Err(refuse(
                "name",
                "an operation name is a lowercase letter, then up to 63 of a-z 0-9 _ - .",
            ));
        }
        self.description = self.description.trim().to_string();
        if self.description.chars().count() > MAX_DESCRIPTION_CHARS {
            return Err(refuse(
                "description",
                format!("at most {MAX_DESCRIPTION_CHARS} characters"),
            ));
        }
        if self.guidelines.len() > MAX_GUIDELINES_BYTES {
            return Err(refuse(
                "guidelines",
                format!("at most {} KB of Markdown", MAX_GUIDELINES_BYTES / 1024),
            ));
        }
        if let Some(schema) = &self.json_schema {
            if self.output_kind != OutputKind::Json {
                return Err(refuse(
                    "json_schema",
                    "only a json operation has a schema: set output_kind to json, or leave the schema out",
                ));
            }
            let size = serde_json::to_string(schema).map(|s| s.len()).unwrap_or(0);
            if size > MAX_SCHEMA_BYTES {
                return Err(refuse(
                    "json_schema",
                    format!("at most {} KB", MAX_SCHEMA_BYTES / 1024),
                ));
            }
        }
        if let Some(target) = self.accuracy_target {
            if !(target > 0.0 && target <= 1.0) {
                return Err(refuse(
                    "accuracy_target",
                    "a share between 0 and 1 (0.95 for 95%), or left out",
                ));
            }
        }
        if !(1..=MAX_MIN_REVIEWS).contains(&self.min_reviews) {
            return Err(refuse(
                "min_reviews",
                format!("between 1 and {MAX_MIN_REVIEWS}"),
            ));
        }
        self.check_tags()
    }

    fn check_tags(&mut self) -> Result<(), DefinitionError> {
        if self.tags.len() > MAX_TAGS_LISTED {
            return Err(refuse("tags", format!("at most {MAX_TAGS_LISTED} tags")));
        }
        let mut seen = std::collections::HashSet::new();
        for tag in &mut self.tags {
            tag.name = tag.name.trim().to_string();
            tag.description = tag.description.trim().to_string();
            if tag.aliases.len() > MAX_ALIASES {
                return Err(refuse(
                    "tags",
                    format!("{}: at most {MAX_ALIASES} aliases", shown(&tag.name)),
                ));
            }
            if tag.description.chars().count() > MAX_TAG_DESCRIPTION_CHARS {
                return Err(refuse(
                    "tags",
                    format!(
                        "{}: a description has at most {MAX_TAG_DESCRIPTION_CHARS} characters",
                        shown(&tag.name)
                    ),
                ));
            }
            for alias in &mut tag.aliases {
                *alias = alias.trim().to_string();
            }
            for name in std::iter::once(&tag.name).chain(&tag.aliases) {
                if !is_tag_name(name) {
                    return Err(refuse(
                        "tags",
                        format!(
                            "{} is not a tag name: a lowercase letter, then a-z, 0-9, _ or -, at most 48",
                            shown(name)
                        ),
                    ));
                }
                if !seen.insert(name.clone()) {
                    return Err(refuse(
                        "tags",
                        format!("{} is listed twice (as a tag or an alias)", shown(name)),
                    ));
                }
            }
        }
        Ok(())
    }
}

fn shown(name: &str) -> String {
    format!("\"{}\"", name.chars().take(60).collect::<String>())
}

/// One change to an operation's tag list, as the operation page makes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TagAction {
    /// Lists a tag (new, or one reviews used without it being listed).
    Add {
        name: String,
        description: String,
    },
    Describe {
        name: String,
        description: String,
    },
    /// The old name becomes an alias: reviews that used it show, filter and count as `to`.
    Rename {
        name: String,
        to: String,
    },
    /// `name` (and its aliases) becomes a name for `into`, with its reviews.
    Merge {
        name: String,
        into: String,
    },
    Retire {
        name: String,
    },
    Restore {
        name: String,
    },
}

impl OperationDefinition {
    fn listed(&self, name: &str) -> Option<usize> {
        self.tags.iter().position(|t| t.name == name)
    }

    /// The listed tag that `name` is, or is an alias of.
    fn known(&self, name: &str) -> Option<&TagDefinition> {
        self.tags
            .iter()
            .find(|t| t.name == name || t.aliases.iter().any(|a| a == name))
    }

    /// Makes `action` on the tag list; the caller applies the definition. The error names
    /// the field `tags`.
    pub fn change_tag(&mut self, action: TagAction) -> Result<(), DefinitionError> {
        let listed = |d: &OperationDefinition, name: &str| {
            d.listed(name)
                .ok_or_else(|| refuse("tags", format!("{} is not a listed tag", shown(name))))
        };
        let free = |d: &OperationDefinition, name: &str| match d.known(name) {
            Some(tag) if tag.name == name => {
                Err(refuse("tags", format!("{} is already listed", shown(name))))
            }
            Some(tag) => Err(refuse(
                "tags",
                format!("{} already means {}", shown(name), shown(&tag.name)),
            )),
            None if !is_tag_name(name) => Err(refuse(
                "tags",
                format!(
                    "{} is not a tag name: a lowercase letter, then up to 47 of a-z 0-9 _ -",
                    shown(name)
                ),
            )),
            None => Ok(()),
        };
        match action {
            TagAction::Add { name, description } => {
                let name = name.trim().to_string();
                free(self, &name)?;
                self.tags.push(TagDefinition {
                    name,
                    description: description.trim().to_string(),
                    retired: false,
                    aliases: Vec::new(),
                });
            }
            TagAction::Describe { name, description } => {
                let at = listed(self, &name)?;
                self.tags[at].description = description.trim().to_string();
            }
            TagAction::Rename { name, to } => {
                let at = listed(self, &name)?;
                let to = to.trim().to_string();
                free(self, &to)?;
                let tag = &mut self.tags[at];
                tag.aliases.push(std::mem::replace(&mut tag.name, to));
            }
            TagAction::Merge { name, into } => {
                let from = listed(self, &name)?;
                let into_at = listed(self, &into)?;
                if from == into_at {
                    return Err(refuse("tags", "a tag cannot be merged into itself"));
                }
                let merged = self.tags.remove(from);
                let into_at = if into_at > from { into_at - 1 } else { into_at };
                let target = &mut self.tags[into_at];
                target.aliases.push(merged.name);
                target.aliases.extend(merged.aliases);
            }
            TagAction::Retire { name } => {
                let at = listed(self, &name)?;
                self.tags[at].retired = true;
            }
            TagAction::Restore { name } => {
                let at = listed(self, &name)?;
                self.tags[at].retired = false;
            }
        }
        Ok(())
    }
}

/// Why a definition was refused: the field and a reason a person can act on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefinitionError {
    pub field: String,
    pub reason: String,
}

impl std::fmt::Display for DefinitionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

fn refuse(field: &str, reason: impl Into<String>) -> DefinitionError {
    DefinitionError {
        field: field.into(),
        reason: reason.into(),
    }
}

/// What applying a definition did: `created` when the operation did not exist, and one line
/// per change (empty: the operation already was as defined, and nothing was written).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyOutcome {
    pub created: bool,
    pub changes: Vec<String>,
}

/// One operation's page: its settings, how its tags are used, its skips, and (for a `json`
/// operation with a schema) how many recent outputs and corrections fail the schema.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OperationView {
    pub definition: OperationDefinition,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub configured_at: Option<chrono::DateTime<chrono::Utc>>,
    /// What a change must name to be applied: a change made from a page that is older than
    /// the settings is refused, not applied over them.
    pub version: i64,
    /// Tags current reviews use that are not on the list.
    pub unlisted_tags: Vec<String>,
    /// Current reviews per tag name.
    pub tag_uses: Vec<(String, i64)>,
    pub skips: SkipSummary,
    pub schema_report: Option<SchemaReport>,
    /// The accuracy alert with its webhook (this page is for leads and admins only).
    pub alert: crate::model::alerts::AlertRule,
    pub alert_status: crate::model::alerts::AlertStatus,
}

/// How the newest calls of an operation fare against its JSON Schema.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SchemaReport {
    /// Calls checked (the newest ones, at most [`SCHEMA_REPORT_CALLS`]).
    pub checked: i64,
    pub failing_outputs: i64,
    /// Corrections among the checked calls' current reviews.
    pub corrections: i64,
    pub failing_corrections: i64,
    /// The first failures, newest first (at most [`SCHEMA_REPORT_EXAMPLES`]).
    pub examples: Vec<SchemaFailure>,
    /// Outputs and corrections left unchecked: longer than [`SCHEMA_REPORT_MAX_CHARS`].
    pub too_long: i64,
}

/// Most calls a schema report reads.
pub const SCHEMA_REPORT_CALLS: i64 = 1_000;
/// Longest text a schema report checks, in characters: a report holds at most
/// 2 × [`SCHEMA_REPORT_CALLS`] texts of this size in memory (128 M characters).
pub const SCHEMA_REPORT_MAX_CHARS: i64 = 64 * 1024;
/// Most failures a schema report lists.
pub const SCHEMA_REPORT_EXAMPLES: usize = 20;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SchemaFailure {
    pub call_id: String,
    /// The correction failed (otherwise the original output).
    pub correction: bool,
    /// The first broken rule, or why the text is not JSON.
    pub problem: String,
}

/// An operation as the operations page lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OperationSummary {
    pub name: String,
    pub description: String,
    pub output_kind: OutputKind,
    pub calls: i64,
    pub reviewed: i64,
    /// Tags used by current reviews, most used first, with their counts (at most ten).
    pub top_tags: Vec<(String, i64)>,
    pub last_call_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Someone has changed its settings since it was created.
    pub configured: bool,
}

/// A tag as a reviewer is offered it: name, what it means, and whether it is on the
/// operation's list (or only used by past reviews).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagChoice {
    pub name: String,
    pub description: String,
    pub listed: bool,
}

/// One rule a JSON value broke: where (a JSON pointer into the value, `""` for the whole
/// value), which schema rule (a JSON pointer into the schema) and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    pub path: String,
    pub rule: String,
    pub message: String,
}

/// The editor's live check of a `json` correction: why it does not parse, or the schema
/// rules it breaks (the first [`Violation`]s and how many in all). Empty: it is fine.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CorrectionCheck {
    pub not_json: Option<String>,
    pub violations: Vec<Violation>,
    pub count: usize,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn definition(value: serde_json::Value) -> Result<OperationDefinition, DefinitionError> {
        let mut definition: OperationDefinition = serde_json::from_value(value).unwrap();
        definition.check().map(|_| definition)
    }

    #[test]
    fn a_bare_definition_is_a_text_operation_with_the_default_minimum() {
        let d = definition(json!({"name": "ticket_summarize"})).unwrap();
        assert_eq!(d.output_kind, OutputKind::Text);
        assert_eq!(d.min_reviews, DEFAULT_MIN_REVIEWS);
        assert!(d.tags.is_empty() && d.json_schema.is_none());
    }

    #[test]
    fn out_of_range_values_name_their_field() {
        let field = |v| definition(v).unwrap_err().field;
        assert_eq!(field(json!({"name": "Bad Name"})), "name");
        assert_eq!(
            field(json!({"name": "a", "json_schema": {"type": "object"}})),
            "json_schema"
        );
        assert_eq!(
            field(json!({"name": "a", "accuracy_target": 1.5})),
            "accuracy_target"
        );
        assert_eq!(field(json!({"name": "a", "min_reviews": 0})), "min_reviews");
        assert_eq!(
            field(json!({"name": "a", "guidelines": "x".repeat(MAX_GUIDELINES_BYTES + 1)})),
            "guidelines"
        );
    }

    #[test]
    fn a_tag_name_may_appear_once_as_a_tag_or_an_alias() {
        let error = definition(json!({"name": "a", "tags": [
            {"name": "wrong_amount", "aliases": ["amt"]},
            {"name": "amt"}
        ]}))
        .unwrap_err();
        assert!(error.reason.contains("\"amt\" is listed twice"), "{error}");
        let error =
            definition(json!({"name": "a", "tags": [{"name": "Wrong Amount"}]})).unwrap_err();
        assert!(error.reason.contains("not a tag name"), "{error}");
    }

    #[test]
    fn unknown_fields_are_refused() {
        let parsed = serde_json::from_value::<OperationDefinition>(
            json!({"name": "a", "output_kinds": "json"}),
        );
        assert!(parsed.is_err());
    }

    #[test]
    fn tag_actions_keep_old_names_as_aliases_and_refuse_clashes() {
        let mut d = definition(json!({"name": "op", "tags": [
            {"name": "wrong_amount", "aliases": ["amt"]},
            {"name": "amount_wrong"},
            {"name": "tone"}
        ]}))
        .unwrap();
        d.change_tag(TagAction::Merge {
            name: "amount_wrong".into(),
            into: "wrong_amount".into(),
        })
        .unwrap();
        d.change_tag(TagAction::Rename {
            name: "wrong_amount".into(),
            to: "bad_amount".into(),
        })
        .unwrap();
        d.change_tag(TagAction::Retire {
            name: "tone".into(),
        })
        .unwrap();
        assert_eq!(d.tags.len(), 2);
        assert_eq!(d.tags[0].name, "bad_amount");
        assert_eq!(d.tags[0].aliases, ["amt", "amount_wrong", "wrong_amount"]);
        assert!(d.tags[1].retired);
        let refused =
            |d: &mut OperationDefinition, action| d.change_tag(action).unwrap_err().reason;
        assert!(refused(
            &mut d,
            TagAction::Add {
                name: "amt".into(),
                description: String::new()
            }
        )
        .contains("already means \"bad_amount\""));
        assert!(refused(
            &mut d,
            TagAction::Rename {
                name: "tone".into(),
                to: "bad_amount".into()
            }
        )
        .contains("already listed"));
        assert!(refused(
            &mut d,
            TagAction::Merge {
                name: "tone".into(),
                into: "tone".into()
            }
        )
        .contains("itself"));
        assert!(refused(
            &mut d,
            TagAction::Retire {
                name: "nope".into()
            }
        )
        .contains("not a listed tag"));
        assert!(refused(
            &mut d,
            TagAction::Add {
                name: "Bad Tag".into(),
                description: String::new()
            }
        )
        .contains("not a tag name"));
    }
}
