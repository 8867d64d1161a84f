//! `redline operation …`: operation definitions as code, against the database directly
//! (`show` prints what `apply` reads; `apply` is idempotent and prints what it changed).

use std::io::Read;
use std::path::PathBuf;

use clap::Subcommand;

use super::{AnyError, TargetDatabase};
use crate::auth::manage::Actor;
use crate::model::operation::{OperationDefinition, MAX_DEFINITION_BYTES};

#[derive(Subcommand)]
pub enum OperationCommand {
    /// List operations with their call and review counts.
    List {
        #[command(flatten)]
        target: TargetDatabase,
    },
    /// Print an operation's definition as JSON (the file `apply` reads).
    Show {
        name: String,
        #[command(flatten)]
        target: TargetDatabase,
    },
    /// Make an operation as a JSON file defines it (`-` reads standard input); creates it
    /// when it does not exist yet. Prints each change; applying the same file again changes
    /// nothing.
    Apply {
        file: PathBuf,
        #[command(flatten)]
        target: TargetDatabase,
    },
}

pub async fn run(command: OperationCommand) -> Result<(), AnyError> {
    match command {
        OperationCommand::List { target } => {
            let operations = target
                .act(|store| async move { Ok(store.list_operations().await?) })
                .await?;
            for op in operations {
                println!(
                    "{}\t{}\t{} calls\t{} reviewed\t{}",
                    op.name,
                    op.output_kind.as_str(),
                    op.calls,
                    op.reviewed,
                    if op.configured {
                        "configured"
                    } else {
                        "not configured"
                    }
                );
            }
        }
        OperationCommand::Show { name, target } => {
            let name = &name;
            let record = target
                .act(|store| async move { Ok(store.operation(name).await?) })
                .await?
                .ok_or_else(|| format!("no operation named \"{name}\""))?;
            println!("{}", serde_json::to_string_pretty(&record.definition)?);
        }
        OperationCommand::Apply { file, target } => {
            let definition = read_definition(&file)?;
            let outcome = target
                .act(|store| async move {
                    Ok(crate::operations::apply(&store, &Actor::cli(), definition).await?)
                })
                .await?;
            if outcome.created {
                println!("created the operation");
            }
            if outcome.changes.is_empty() && !outcome.created {
                println!("unchanged: the operation already is as defined");
            }
            for change in outcome.changes {
                println!("- {change}");
            }
        }
    }
    Ok(())
}

/// The definition in `file` (`-`: standard input), read up to the size limit.
fn read_definition(file: &PathBuf) -> Result<OperationDefinition, AnyError> {
    let mut text = String::new();
    let limit = MAX_DEFINITION_BYTES as u64 + 1;
    if file.as_os_str() == "-" {
        std::io::stdin().take(limit).read_to_string(&mut text)?;
    } else {
        std::fs::File::open(file)
            .map_err(|e| format!("{}: {e}", file.display()))?
            .take(limit)
            .read_to_string(&mut text)
            .map_err(|e| format!("{}: {e}", file.display()))?;
    }
    if text.len() > MAX_DEFINITION_BYTES {
        return Err(format!(
            "{}: larger than {} KB; a definition is smaller",
            file.display(),
            MAX_DEFINITION_BYTES / 1024
        )
        .into());
    }
    let definition: OperationDefinition = serde_json::from_str(&text)
        .map_err(|e| format!("{}: not an operation definition: {e}", file.display()))?;
    if definition.name.is_empty() {
        return Err(format!("{}: the definition needs a \"name\"", file.display()).into());
    }
    Ok(definition)
}
