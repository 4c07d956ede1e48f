//! Users and their passwords, checked on every port when security is on.
//!
//! The VoltDB protocol never carries a password, only its SHA-1 or SHA-256 digest (the
//! client's choice), so both digests of every configured password are kept. HTTP sends the
//! password itself or the hex of one of its digests.

use std::collections::HashMap;
use std::sync::Arc;

use sha1::Sha1;
use sha2::{Digest, Sha256};
use voltrs_engine::Permissions;
use voltrs_wire::codec::HashScheme;

use crate::config::Security;

struct User {
    sha1: [u8; 20],
    sha256: [u8; 32],
    permissions: Arc<Permissions>,
}

/// The configured users. With security off every login succeeds with no limits.
pub struct Users {
    enabled: bool,
    users: HashMap<String, User>,
}

/// Why a login failed. The message never says whether the user exists.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("authentication failed for user '{0}'")]
pub struct AuthError(pub String);

/// A successful login: the user's permissions, or `None` when security is off.
pub type Login = Option<Arc<Permissions>>;

impl Users {
    /// Builds the user table; unknown roles or permissions are errors naming them.
    pub fn from_config(security: &Security) -> anyhow::Result<Users> {
        let mut roles: HashMap<String, Vec<String>> = HashMap::new();
        roles.insert("ADMINISTRATOR".into(), vec!["ADMIN".into()]);
        roles.insert(
            "USER".into(),
            vec!["SQL".into(), "ALLPROC".into(), "DEFAULTPROC".into()],
        );
        for r in &security.roles {
            let mut probe = Permissions::default();
            for p in &r.permissions {
                if !probe.grant(p) {
                    anyhow::bail!(
                        "role {}: unknown permission '{p}' (admin, sql, sqlread, defaultproc, defaultprocread or allproc)",
                        r.name
                    );
                }
            }
            roles.insert(r.name.to_uppercase(), r.permissions.clone());
        }
        let mut users = HashMap::new();
        for u in &security.users {
            let mut permissions = Permissions {
                user: u.name.clone(),
                ..Permissions::default()
            };
            for role in &u.roles {
                let key = role.to_uppercase();
                let Some(grants) = roles.get(&key) else {
                    anyhow::bail!("user {}: unknown role '{role}'", u.name);
                };
                for g in grants {
                    permissions.grant(g);
                }
                permissions.roles.push(key);
            }
            let user = User {
                sha1: Sha1::digest(u.password.as_bytes()).into(),
                sha256: Sha256::digest(u.password.as_bytes()).into(),
                permissions: Arc::new(permissions),
            };
            if users.insert(u.name.clone(), user).is_some() {
                anyhow::bail!("user {} is defined twice", u.name);
            }
        }
        if security.enabled && users.is_empty() {
            anyhow::bail!("security is enabled but no user is defined ([[security.users]])");
        }
        Ok(Users {
            enabled: security.enabled,
            users,
        })
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// A VoltDB-protocol login: the digest of the password under the client's scheme.
    pub fn login_digest(&self, name: &str, scheme: HashScheme, digest: &[u8]) -> Result<Login, AuthError> {
        if !self.enabled {
            return Ok(None);
        }
        let user = self.users.get(name).ok_or_else(|| AuthError(name.into()))?;
        let expected: &[u8] = match scheme {
            HashScheme::Sha1 => &user.sha1,
            HashScheme::Sha256 => &user.sha256,
        };
        if same(expected, digest) {
            Ok(Some(user.permissions.clone()))
        } else {
            Err(AuthError(name.into()))
        }
    }

    /// A login with the password itself (HTTP `Password`, the PostgreSQL port).
    pub fn login_password(&self, name: &str, password: &str) -> Result<Login, AuthError> {
        let digest: [u8; 32] = Sha256::digest(password.as_bytes()).into();
        self.login_digest(name, HashScheme::Sha256, &digest)
    }

    /// A login with the hex of the password's SHA-1 (40 digits) or SHA-256 (64 digits)
    /// digest (HTTP `Hashedpassword`).
    pub fn login_hashed(&self, name: &str, hex: &str) -> Result<Login, AuthError> {
        let digest = decode_hex(hex).ok_or_else(|| AuthError(name.into()))?;
        let scheme = match digest.len() {
            20 => HashScheme::Sha1,
            32 => HashScheme::Sha256,
            _ => return Err(AuthError(name.into())),
        };
        self.login_digest(name, scheme, &digest)
    }
}

/// Compares without stopping at the first difference.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{RoleConfig, UserConfig};

    fn security() -> Security {
        Security {
            enabled: true,
            users: vec![
                UserConfig {
                    name: "admin".into(),
                    password: "secret".into(),
                    roles: vec!["administrator".into()],
                },
                UserConfig {
                    name: "reader".into(),
                    password: "r".into(),
                    roles: vec!["readers".into()],
                },
            ],
            roles: vec![RoleConfig {
                name: "readers".into(),
                permissions: vec!["sqlread".into()],
            }],
        }
    }

    #[test]
    fn digests_of_either_scheme_log_in() {
        let users = Users::from_config(&security()).unwrap();
        let sha256: [u8; 32] = Sha256::digest(b"secret").into();
        let sha1: [u8; 20] = Sha1::digest(b"secret").into();
        assert!(
            users
                .login_digest("admin", HashScheme::Sha256, &sha256)
                .unwrap()
                .unwrap()
                .admin
        );
        assert!(users.login_digest("admin", HashScheme::Sha1, &sha1).is_ok());
        assert!(users.login_digest("admin", HashScheme::Sha1, &sha256[..20]).is_err());
        assert!(users.login_digest("nobody", HashScheme::Sha256, &sha256).is_err());
        assert!(users.login_password("admin", "secret").is_ok());
        assert!(users.login_password("admin", "Secret").is_err());
        let hex: String = sha1.iter().map(|b| format!("{b:02x}")).collect();
        assert!(users.login_hashed("admin", &hex).is_ok());
        assert!(users.login_hashed("admin", "zz").is_err());
        let reader = users.login_password("reader", "r").unwrap().unwrap();
        assert!(reader.sql_read && !reader.sql && !reader.admin);
        assert_eq!(reader.roles, vec!["READERS".to_string()]);
    }

    #[test]
    fn security_off_accepts_anyone_and_bad_roles_are_errors() {
        let users = Users::from_config(&Security::default()).unwrap();
        assert_eq!(users.login_password("x", "y"), Ok(None));
        let mut s = security();
        s.users[1].roles = vec!["nosuch".into()];
        let e = Users::from_config(&s).err().unwrap().to_string();
        assert_eq!(e, "user reader: unknown role 'nosuch'");
        let mut s = security();
        s.roles[0].permissions = vec!["fly".into()];
        assert!(
            Users::from_config(&s)
                .err()
                .unwrap()
                .to_string()
                .contains("unknown permission 'fly'")
        );
    }
}
