//! An operation's failure tags: the names reviews use, the choices reviewers are offered,
//! the names that now mean another tag, and the changes a definition makes to them (add,
//! describe, retire, unlist, rename and merge as aliases), inside the apply's transaction.

use std::collections::HashMap;

use super::counts::recount_tags;
use super::{Sql, Store, StoreResult, Tx};
use crate::model::operation::{TagChoice, TagDefinition};

/// One tag row: id, name, description, listed, retired, and the name it is an alias of.
pub(super) type TagRow = (i64, String, String, bool, bool, Option<String>);

pub(super) const TAGS_OF: &str = "SELECT t.id, t.name, t.description, t.listed, t.retired, a.name
     FROM tags t LEFT JOIN tags a ON a.id = t.alias_of
     WHERE t.operation_id = $1 ORDER BY t.name";

impl Store {
    /// How many calls' current reviews use each tag of `operation`, by the tag's name now.
    pub async fn tag_uses(&self, operation: &str) -> StoreResult<Vec<(String, i64)>> {
        self.db
            .all(
                &Sql::new(
                    "SELECT t.name, count(*) FROM call_tags ct JOIN tags t ON t.id = ct.tag_id
                     WHERE t.operation_id = (SELECT id FROM operations WHERE name = $1)
                     GROUP BY t.name ORDER BY count(*) DESC, t.name",
                )
                .arg(operation),
            )
            .await
    }

    /// The tags reviewers are offered: the listed ones that are not retired, then (unless
    /// reviewers may only pick listed tags) the other names past reviews used, so an
    /// operation without a list still offers the tags in use.
    pub async fn tag_choices(
        &self,
        operation_id: i64,
        listed_only: bool,
    ) -> StoreResult<Vec<TagChoice>> {
        let rows: Vec<(String, String, bool)> = self
            .db
            .all(
                &Sql::new(
                    "SELECT name, description, listed FROM tags
                     WHERE operation_id = $1 AND alias_of IS NULL AND NOT retired AND (listed OR NOT $2)
                     ORDER BY listed DESC, name",
                )
                .arg(operation_id)
                .arg(listed_only),
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|(name, description, listed)| TagChoice {
                name,
                description,
                listed,
            })
            .collect())
    }

    /// For each name `operation_id` knows, the tag it means now (names that are no alias are
    /// left out): old reviews show their tags by their current names.
    pub async fn tag_aliases(&self, operation_id: i64) -> StoreResult<HashMap<String, String>> {
        let rows: Vec<(String, String)> = self
            .db
            .all(
                &Sql::new(
                    "SELECT t.name, a.name FROM tags t JOIN tags a ON a.id = t.alias_of WHERE t.operation_id = $1",
                )
                .arg(operation_id),
            )
            .await?;
        Ok(rows.into_iter().collect())
    }
}

/// Makes the operation's tag rows match `wanted`: adds, describes, retires and unlists tags,
/// and turns each alias into a name for its tag (merging the reviews of a name that was a tag
/// of its own).
pub(super) async fn apply_tags(
    tx: &mut Tx,
    operation_id: i64,
    rows: &[TagRow],
    wanted: &[TagDefinition],
    changes: &mut Vec<String>,
) -> StoreResult<()> {
    let mut by_name: HashMap<String, TagRow> = rows
        .iter()
        .map(|row| (row.1.clone(), row.clone()))
        .collect();
    for tag in wanted {
        // Where "tag … added" was written, when this apply adds the tag: an existing tag that
        // becomes its alias makes the pair a rename.
        let mut added_at: Option<usize> = None;
        let id = match by_name.get(&tag.name) {
            None => {
                let id: i64 = tx
                    .scalar(
                        &Sql::new(
                            "INSERT INTO tags (operation_id, name, description, listed, retired)
                             VALUES ($1, $2, $3, $4, $5) RETURNING id",
                        )
                        .arg(operation_id)
                        .arg(&tag.name)
                        .arg(&tag.description)
                        .arg(true)
                        .arg(tag.retired),
                    )
                    .await?;
                added_at = Some(changes.len());
                changes.push(format!("tag {} added", tag.name));
                id
            }
            Some((id, _, description, listed, retired, alias_of)) => {
                if let Some(meant) = alias_of {
                    changes.push(format!(
                        "tag {} is a tag of its own again (it meant {meant}; reviews merged then stay with {meant})",
                        tag.name
                    ));
                } else if !listed {
                    changes.push(format!("tag {} listed", tag.name));
                }
                if *description != tag.description {
                    changes.push(format!("tag {} description changed", tag.name));
                }
                if *retired != tag.retired {
                    changes.push(format!(
                        "tag {} {}",
                        tag.name,
                        if tag.retired {
                            "retired"
                        } else {
                            "offered again"
                        }
                    ));
                }
                if alias_of.is_some()
                    || !listed
                    || *description != tag.description
                    || *retired != tag.retired
                {
                    tx.execute(
                        &Sql::new(
                            "UPDATE tags SET description = $2, listed = $3, retired = $4, alias_of = NULL WHERE id = $1",
                        )
                        .arg(*id)
                        .arg(&tag.description)
                        .arg(true)
                        .arg(tag.retired),
                    )
                    .await?;
                }
                *id
            }
        };
        by_name.insert(
            tag.name.clone(),
            (
                id,
                tag.name.clone(),
                tag.description.clone(),
                true,
                tag.retired,
                None,
            ),
        );
        for alias in &tag.aliases {
            match by_name.get(alias).cloned() {
                None => {
                    tx.execute(
                        &Sql::new(
                            "INSERT INTO tags (operation_id, name, alias_of) VALUES ($1, $2, $3)",
                        )
                        .arg(operation_id)
                        .arg(alias)
                        .arg(id),
                    )
                    .await?;
                    changes.push(format!("{alias} now means {}", tag.name));
                }
                Some((_, _, _, _, _, Some(meant))) if meant == tag.name => {}
                Some((alias_id, _, _, _, _, meant)) => {
                    let moved = merge_tag(tx, alias_id, id).await?;
                    let reviews = format!(
                        "{moved} current review{}",
                        if moved == 1 { "" } else { "s" }
                    );
                    // A tag added by this apply that takes over an existing tag is a rename.
                    let renamed = meant.is_none() && added_at.is_some();
                    if let (true, Some(at)) = (renamed, added_at.take()) {
                        changes.remove(at);
                    }
                    changes.push(match meant {
                        Some(meant) => format!("{alias} now means {} (it meant {meant})", tag.name),
                        None if renamed => {
                            format!("{alias} renamed to {} ({reviews} moved)", tag.name)
                        }
                        None => format!("{alias} merged into {} ({reviews})", tag.name),
                    });
                }
            }
            by_name.insert(
                alias.clone(),
                (
                    0,
                    alias.clone(),
                    String::new(),
                    false,
                    false,
                    Some(tag.name.clone()),
                ),
            );
        }
    }
    // Listed tags the definition leaves out are no longer offered; reviews keep them.
    for (id, name, _, listed, _, alias_of) in rows {
        let kept = wanted
            .iter()
            .any(|t| &t.name == name || t.aliases.contains(name));
        if *listed && alias_of.is_none() && !kept {
            tx.execute(
                &Sql::new("UPDATE tags SET listed = $2 WHERE id = $1")
                    .arg(*id)
                    .arg(false),
            )
            .await?;
            changes.push(format!("tag {name} unlisted"));
        }
    }
    Ok(())
}

/// Makes tag `from` an alias of tag `into`: its current reviews' tags, and the names that
/// meant it, now mean `into`. Returns how many calls' tags moved.
async fn merge_tag(tx: &mut Tx, from: i64, into: i64) -> StoreResult<u64> {
    tx.execute(
        &Sql::new(
            "INSERT INTO call_tags (tag_id, call_seq) SELECT $2, call_seq FROM call_tags WHERE tag_id = $1
             ON CONFLICT DO NOTHING",
        )
        .arg(from)
        .arg(into),
    )
    .await?;
    let moved = tx
        .execute(&Sql::new("DELETE FROM call_tags WHERE tag_id = $1").arg(from))
        .await?;
    recount_tags(tx, &[from, into]).await?;
    tx.execute(
        &Sql::new("UPDATE tags SET alias_of = $2 WHERE alias_of = $1")
            .arg(from)
            .arg(into),
    )
    .await?;
    tx.execute(
        &Sql::new(
            "UPDATE tags SET alias_of = $2, listed = $3, retired = $3, description = '' WHERE id = $1",
        )
        .arg(from)
        .arg(into)
        .arg(false),
    )
    .await?;
    Ok(moved)
}
