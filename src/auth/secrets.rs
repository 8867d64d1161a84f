//! Random tokens, their hashes, and password hashing (argon2id).

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use sha2::{Digest, Sha256};

/// `bytes` random bytes from the operating system, as lowercase hex.
pub fn random_hex(bytes: usize) -> Result<String, String> {
    let mut buf = vec![0u8; bytes];
    getrandom::getrandom(&mut buf).map_err(|e| format!("no randomness available: {e}"))?;
    Ok(hex(&buf))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of a token, as stored: a leaked table holds no usable cookie or key.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// A new API key: `rl_` and 48 hex characters (192 random bits).
pub fn new_api_key() -> Result<String, String> {
    Ok(format!("rl_{}", random_hex(24)?))
}

/// The part of a key lists show to recognise it.
pub fn key_prefix(key: &str) -> String {
    key.chars().take(11).collect()
}

/// A generated password: 20 characters from an alphabet without look-alikes (~114 bits).
pub fn generate_password() -> Result<String, String> {
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut buf = [0u8; 20];
    getrandom::getrandom(&mut buf).map_err(|e| format!("no randomness available: {e}"))?;
    Ok(buf
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect())
}

/// Shortest password accepted for a person.
pub const MIN_PASSWORD_CHARS: usize = 10;

pub fn check_password_strength(password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(format!(
            "a password needs at least {MIN_PASSWORD_CHARS} characters"
        ));
    }
    if password.len() > 1024 {
        return Err("a password may have at most 1,024 bytes".into());
    }
    Ok(())
}

/// argon2id with the crate's default cost (19 MiB, 2 passes), as a PHC string.
pub fn hash_password(password: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt).map_err(|e| format!("no randomness available: {e}"))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| format!("hashing failed: {e}"))
}

/// Whether `password` matches a stored PHC string. A malformed stored hash matches nothing.
pub fn verify_password(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_against_their_own_hash() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batterY", &hash));
        assert!(!verify_password("anything", "not a hash"));
        assert_ne!(
            hash,
            hash_password("correct horse battery").unwrap(),
            "salted"
        );
    }

    #[test]
    fn keys_and_tokens_are_random_and_hashed() {
        let key = new_api_key().unwrap();
        assert_eq!(key.len(), 51);
        assert!(key.starts_with("rl_"));
        assert_ne!(key, new_api_key().unwrap());
        assert_eq!(key_prefix(&key).len(), 11);
        assert_eq!(token_hash("abc").len(), 64);
        assert_ne!(token_hash("abc"), token_hash("abd"));
        assert_eq!(generate_password().unwrap().len(), 20);
        assert!(check_password_strength("short").is_err());
        assert!(check_password_strength("long enough!").is_ok());
    }
}
