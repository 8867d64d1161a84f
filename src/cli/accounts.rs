//! `redline user …` and `redline key …`: accounts and API keys from the command line, through
//! the same `auth::manage` as the admin and keys pages (audited alike).

use clap::Subcommand;

use super::{AnyError, TargetDatabase};
use crate::auth::manage::{self, Actor};
use crate::model::auth::{Role, Scope};

#[derive(Subcommand)]
pub enum UserCommand {
    /// Add a user; prints a generated password once unless --password-stdin is given.
    Add {
        name: String,
        /// reviewer, lead, engineer or admin.
        #[arg(long)]
        role: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        target: TargetDatabase,
    },
    /// Change a user's role.
    SetRole {
        name: String,
        role: String,
        #[command(flatten)]
        target: TargetDatabase,
    },
    /// Disable a user: their sessions end and their API keys stop working at once.
    Disable {
        name: String,
        #[command(flatten)]
        target: TargetDatabase,
    },
    /// Enable a disabled user again.
    Enable {
        name: String,
        #[command(flatten)]
        target: TargetDatabase,
    },
    /// Set a new password (generated and printed once, or from --password-stdin); ends the
    /// user's sessions.
    Reset {
        name: String,
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        target: TargetDatabase,
    },
    /// List users.
    List {
        #[command(flatten)]
        target: TargetDatabase,
    },
}

#[derive(Subcommand)]
pub enum KeyCommand {
    /// Create an API key and print it once (only its hash is stored).
    Create {
        /// Scopes, comma-separated: ingest, read, review, export.
        #[arg(long)]
        scope: String,
        /// What the key is for (e.g. the service that uses it).
        #[arg(long, default_value = "service")]
        name: String,
        /// The engineer or admin who owns the key.
        #[arg(long, default_value = "admin")]
        user: String,
        #[command(flatten)]
        target: TargetDatabase,
    },
    /// List keys (never their secrets).
    List {
        #[command(flatten)]
        target: TargetDatabase,
    },
    /// Revoke a key by its id (see `key list`); it stops working at once.
    Revoke {
        id: i64,
        #[command(flatten)]
        target: TargetDatabase,
    },
}

fn read_password(from_stdin: bool) -> Result<Option<String>, AnyError> {
    if !from_stdin {
        return Ok(None);
    }
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    let password = line.trim_end_matches(['\r', '\n']).to_string();
    Ok(Some(password))
}

fn parse_role(text: &str) -> Result<Role, AnyError> {
    Ok(manage::parse_role(text)?)
}

pub async fn run_user_command(command: UserCommand) -> Result<(), AnyError> {
    let actor = &Actor::cli();
    match command {
        UserCommand::Add {
            name,
            role,
            password_stdin,
            target,
        } => {
            let role = parse_role(&role)?;
            let password = read_password(password_stdin)?;
            let name = &name;
            let generated = target
                .act(|store| async move {
                    Ok(manage::add_user(&store, actor, name, role, password).await?)
                })
                .await?;
            match generated {
                Some(password) => println!("added {name} ({role}); password: {password}"),
                None => println!("added {name} ({role})"),
            }
        }
        UserCommand::SetRole { name, role, target } => {
            let role = parse_role(&role)?;
            let name = &name;
            target
                .act(|store| async move { Ok(manage::set_role(&store, actor, name, role).await?) })
                .await?;
            println!("{name} is now {role}");
        }
        UserCommand::Disable { name, target } => {
            let name = &name;
            target
                .act(|store| async move {
                    Ok(manage::set_disabled(&store, actor, name, true).await?)
                })
                .await?;
            println!("{name} is disabled; their sessions and API keys stopped working");
        }
        UserCommand::Enable { name, target } => {
            let name = &name;
            target
                .act(|store| async move {
                    Ok(manage::set_disabled(&store, actor, name, false).await?)
                })
                .await?;
            println!("{name} is enabled");
        }
        UserCommand::Reset {
            name,
            password_stdin,
            target,
        } => {
            let password = read_password(password_stdin)?;
            let name = &name;
            let generated = target
                .act(|store| async move {
                    Ok(manage::reset_password(&store, actor, name, password).await?)
                })
                .await?;
            match generated {
                Some(password) => println!("new password for {name}: {password}"),
                None => println!("password of {name} changed"),
            }
        }
        UserCommand::List { target } => {
            let users = target
                .act(|store| async move { Ok(store.list_users().await?) })
                .await?;
            for user in users {
                println!(
                    "{:<24} {:<9} {}",
                    user.name,
                    user.role,
                    if user.disabled { "disabled" } else { "" }
                );
            }
        }
    }
    Ok(())
}

pub async fn run_key_command(command: KeyCommand) -> Result<(), AnyError> {
    let actor = &Actor::cli();
    match command {
        KeyCommand::Create {
            scope,
            name,
            user,
            target,
        } => {
            let scopes = Scope::parse_list(&scope)?;
            let (user, name, scopes) = (&user, &name, &scopes);
            let (secret, key) = target
                .act(|store| async move {
                    Ok(manage::create_key(&store, actor, user, name, scopes).await?)
                })
                .await?;
            eprintln!(
                "created key {} (\"{}\" of {}, scopes {}); it is shown only now:",
                key.id,
                key.name,
                key.owner,
                Scope::join(&key.scopes)
            );
            println!("{secret}");
        }
        KeyCommand::List { target } => {
            let keys = target
                .act(|store| async move { Ok(store.list_keys(None).await?) })
                .await?;
            for key in keys {
                println!(
                    "{:>4}  {}…  {:<20} {:<12} {:<22} {}",
                    key.id,
                    key.prefix,
                    key.name,
                    key.owner,
                    Scope::join(&key.scopes),
                    if key.revoked_at.is_some() {
                        "revoked"
                    } else {
                        "live"
                    }
                );
            }
        }
        KeyCommand::Revoke { id, target } => {
            target
                .act(|store| async move { Ok(manage::revoke_key(&store, actor, id, None).await?) })
                .await?;
            println!("key {id} revoked");
        }
    }
    Ok(())
}
