//! What a logged-in user may do (VoltDB's roles and permissions). A session without
//! permissions (security off, the embedded API) may do everything.

use voltrs_sql::procedures::{ProcSource, ProcedureDef};

use crate::Error;

/// VoltDB's permissions, with their implications already applied: `admin` implies all,
/// `sql` implies `sql_read` and `default_proc`, `default_proc` implies
/// `default_proc_read`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Permissions {
    pub user: String,
    /// Role names, upper-case (matched against a procedure's ALLOW list).
    pub roles: Vec<String>,
    pub admin: bool,
    pub sql: bool,
    pub sql_read: bool,
    pub default_proc: bool,
    pub default_proc_read: bool,
    pub all_proc: bool,
}

impl Permissions {
    /// Adds one permission by VoltDB's name (any case); `false` if the name is unknown.
    pub fn grant(&mut self, name: &str) -> bool {
        match name.to_ascii_uppercase().as_str() {
            "ADMIN" => {
                self.admin = true;
                self.sql = true;
                self.sql_read = true;
                self.default_proc = true;
                self.default_proc_read = true;
                self.all_proc = true;
            }
            "SQL" => {
                self.sql = true;
                self.sql_read = true;
                self.default_proc = true;
                self.default_proc_read = true;
            }
            "SQLREAD" => {
                self.sql_read = true;
                self.default_proc_read = true;
            }
            "DEFAULTPROC" => {
                self.default_proc = true;
                self.default_proc_read = true;
            }
            "DEFAULTPROCREAD" => self.default_proc_read = true,
            "ALLPROC" => self.all_proc = true,
            _ => return false,
        }
        true
    }

    fn denied(&self, what: &str) -> Error {
        Error::Permission(format!("User {} does not have permission to {what}", self.user))
    }

    /// May this user invoke the procedure?
    pub(crate) fn check_procedure(&self, def: &ProcedureDef) -> Result<(), Error> {
        let ok = if matches!(def.body, ProcSource::Default) {
            if def.read_only {
                self.default_proc_read
            } else {
                self.default_proc
            }
        } else {
            self.all_proc || def.allow.iter().any(|r| self.roles.contains(r))
        };
        if ok {
            Ok(())
        } else {
            Err(self.denied(&format!("invoke procedure {}", def.name)))
        }
    }

    /// May this user run SQL that reads (`write` false), writes, or changes the schema?
    pub(crate) fn check_sql(&self, write: bool, ddl: bool) -> Result<(), Error> {
        let ok = if ddl {
            self.admin
        } else if write {
            self.sql
        } else {
            self.sql_read
        };
        if ok {
            Ok(())
        } else {
            let what = if ddl {
                "change the schema"
            } else if write {
                "run SQL that writes"
            } else {
                "run SQL"
            };
            Err(self.denied(what))
        }
    }

    /// May this user call system procedure `@name`? Administrative ones need `admin`;
    /// the informational ones any logged-in user may call.
    pub(crate) fn check_system(&self, name: &str) -> Result<(), Error> {
        let administrative = matches!(
            name.to_ascii_lowercase().as_str(),
            "pause" | "resume" | "shutdown" | "snapshotsave" | "snapshotrestore" | "snapshotdelete" | "updateclasses"
        );
        if administrative && !self.admin {
            return Err(self.denied(&format!("invoke procedure @{name}")));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use voltrs_sql::procedures::{ProcSource, ProcedureDef};

    use super::Permissions;

    fn procedure(body: ProcSource, read_only: bool, allow: &[&str]) -> ProcedureDef {
        ProcedureDef {
            name: "P".into(),
            partition: None,
            allow: allow.iter().map(|r| r.to_string()).collect(),
            params: Vec::new(),
            declared_params: false,
            body,
            statements: Vec::new(),
            read_only,
        }
    }

    fn with(grants: &[&str], roles: &[&str]) -> Permissions {
        let mut p = Permissions {
            user: "u".into(),
            roles: roles.iter().map(|r| r.to_string()).collect(),
            ..Permissions::default()
        };
        for g in grants {
            assert!(p.grant(g), "{g}");
        }
        p
    }

    #[test]
    fn permissions_imply_each_other_as_in_voltdb() {
        let admin = with(&["admin"], &[]);
        assert!(admin.sql && admin.sql_read && admin.default_proc && admin.default_proc_read && admin.all_proc);
        let sql = with(&["Sql"], &[]);
        assert!(sql.sql_read && sql.default_proc && sql.default_proc_read && !sql.all_proc && !sql.admin);
        let read = with(&["SQLREAD"], &[]);
        assert!(read.default_proc_read && !read.default_proc && !read.sql);
        assert!(!Permissions::default().grant("fly"));
    }

    #[test]
    fn procedures_need_allproc_or_an_allowed_role() {
        let reporting = with(&[], &["REPORTING"]);
        let stored = procedure(ProcSource::Sql, false, &["REPORTING"]);
        assert!(reporting.check_procedure(&stored).is_ok());
        assert!(
            reporting
                .check_procedure(&procedure(ProcSource::Sql, false, &[]))
                .is_err()
        );
        assert!(
            with(&["allproc"], &[])
                .check_procedure(&procedure(ProcSource::Sql, false, &[]))
                .is_ok()
        );
        // Default procedures: defaultproc for writes, defaultprocread for reads.
        let reader = with(&["defaultprocread"], &[]);
        assert!(
            reader
                .check_procedure(&procedure(ProcSource::Default, true, &[]))
                .is_ok()
        );
        let e = reader
            .check_procedure(&procedure(ProcSource::Default, false, &[]))
            .unwrap_err();
        assert_eq!(e.to_string(), "User u does not have permission to invoke procedure P");
    }

    #[test]
    fn sql_and_system_procedures() {
        let read = with(&["sqlread"], &[]);
        assert!(read.check_sql(false, false).is_ok());
        assert!(read.check_sql(true, false).is_err());
        let sql = with(&["sql"], &[]);
        assert!(sql.check_sql(true, false).is_ok());
        assert_eq!(
            sql.check_sql(true, true).unwrap_err().to_string(),
            "User u does not have permission to change the schema"
        );
        assert!(sql.check_system("Statistics").is_ok());
        assert!(sql.check_system("Shutdown").is_err());
        assert!(with(&["admin"], &[]).check_system("Pause").is_ok());
    }
}
