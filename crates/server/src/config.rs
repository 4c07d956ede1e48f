//! The server's configuration: defaults, the TOML file (`--config FILE`) and the command
//! line flags, applied in that order. docs/CONFIG.md lists every key.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// Everything `voltrs start` needs.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The data folder (created if missing).
    pub dir: PathBuf,
    /// The address every port binds to.
    pub host: String,
    /// 0 picks a free port.
    pub client_port: u16,
    pub admin_port: u16,
    pub http_port: u16,
    /// The PostgreSQL port (served once the PostgreSQL frontend exists).
    pub pg_port: u16,
    /// Partitions (site threads); `None` = one per CPU core.
    pub sites: Option<usize>,
    /// Largest message a client may send, in bytes.
    pub max_message_bytes: usize,
    /// Open connections on the client and admin ports beyond which logins are refused.
    pub max_connections: usize,
    /// A connection that has not logged in by then is closed.
    pub login_timeout: Duration,
    /// Time limit of read-only transactions; `None` for no limit.
    pub query_timeout: Option<Duration>,
    /// Resident memory, in percent of physical memory, above which writes are refused;
    /// `None` turns the monitor off.
    pub memory_limit_percent: Option<u32>,
    /// The command log: mode, segment size, group commit wait, async flush interval.
    pub log: voltrs_engine::durability::LogSettings,
    /// Automatic snapshots: interval, log growth, how many are kept.
    pub snapshots: voltrs_engine::durability::SnapshotSettings,
    pub security: Security,
}

/// Users, roles and whether logins are checked.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Security {
    /// With security off (the default, as VoltDB) any user name and password are accepted.
    #[serde(default)]
    pub enabled: bool,
    #[serde(default)]
    pub users: Vec<UserConfig>,
    #[serde(default)]
    pub roles: Vec<RoleConfig>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    pub name: String,
    pub password: String,
    /// Role names: the built-in `administrator` and `user`, or one from `[[security.roles]]`.
    #[serde(default)]
    pub roles: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RoleConfig {
    pub name: String,
    /// VoltDB's permissions: `admin`, `sql`, `sqlread`, `defaultproc`, `defaultprocread`,
    /// `allproc`.
    #[serde(default)]
    pub permissions: Vec<String>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            dir: PathBuf::from("voltrs_data"),
            host: "127.0.0.1".into(),
            client_port: 21212,
            admin_port: 21211,
            http_port: 8080,
            pg_port: 5432,
            sites: None,
            max_message_bytes: voltrs_wire::codec::DEFAULT_MAX_MESSAGE_BYTES,
            max_connections: 10_000,
            login_timeout: Duration::from_secs(30),
            query_timeout: Some(Duration::from_secs(10)),
            memory_limit_percent: Some(80),
            snapshots: voltrs_engine::durability::SnapshotSettings::default(),
            log: voltrs_engine::durability::LogSettings::default(),
            security: Security::default(),
        }
    }
}

/// The TOML file: every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    #[serde(default)]
    server: ServerSection,
    #[serde(default)]
    limits: LimitsSection,
    #[serde(default)]
    durability: DurabilitySection,
    #[serde(default)]
    security: Option<Security>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DurabilitySection {
    /// `sync`, `async` or `off`.
    command_log: Option<String>,
    log_segment_mb: Option<u64>,
    group_commit_wait_us: Option<u64>,
    async_flush_ms: Option<u64>,
    /// 0 turns time-based snapshots off.
    snapshot_interval_min: Option<u64>,
    /// 0 turns size-based snapshots off.
    snapshot_log_mb: Option<u64>,
    snapshot_retain: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServerSection {
    dir: Option<PathBuf>,
    host: Option<String>,
    client_port: Option<u16>,
    admin_port: Option<u16>,
    http_port: Option<u16>,
    pg_port: Option<u16>,
    sites: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitsSection {
    max_message_bytes: Option<usize>,
    max_connections: Option<usize>,
    login_timeout_ms: Option<u64>,
    /// 0 turns the limit off.
    query_timeout_ms: Option<u64>,
    /// 0 turns the monitor off.
    memory_limit_percent: Option<u32>,
}

impl ServerConfig {
    /// Applies a TOML configuration file over these settings.
    pub fn apply_file(&mut self, path: &Path) -> anyhow::Result<()> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read config file {}: {e}", path.display()))?;
        self.apply_toml(&text)
            .map_err(|e| anyhow::anyhow!("config file {}: {e}", path.display()))
    }

    /// Applies TOML configuration text over these settings.
    pub fn apply_toml(&mut self, text: &str) -> anyhow::Result<()> {
        let f: FileConfig = toml::from_str(text)?;
        let s = f.server;
        if let Some(v) = s.dir {
            self.dir = v;
        }
        if let Some(v) = s.host {
            self.host = v;
        }
        set(&mut self.client_port, s.client_port);
        set(&mut self.admin_port, s.admin_port);
        set(&mut self.http_port, s.http_port);
        set(&mut self.pg_port, s.pg_port);
        if s.sites.is_some() {
            self.sites = s.sites;
        }
        let l = f.limits;
        set(&mut self.max_message_bytes, l.max_message_bytes);
        set(&mut self.max_connections, l.max_connections);
        if let Some(ms) = l.login_timeout_ms {
            self.login_timeout = Duration::from_millis(ms);
        }
        if let Some(ms) = l.query_timeout_ms {
            self.query_timeout = (ms > 0).then(|| Duration::from_millis(ms));
        }
        if let Some(p) = l.memory_limit_percent {
            self.memory_limit_percent = (p > 0).then_some(p);
        }
        let d = f.durability;
        if let Some(m) = d.command_log {
            self.log.mode = parse_log_mode(&m)?;
        }
        if let Some(mb) = d.log_segment_mb {
            if !(1..=4096).contains(&mb) {
                anyhow::bail!("durability.log_segment_mb must be between 1 and 4096, not {mb}");
            }
            self.log.segment_bytes = mb << 20;
        }
        if let Some(us) = d.group_commit_wait_us {
            if us > 100_000 {
                anyhow::bail!("durability.group_commit_wait_us must be at most 100000, not {us}");
            }
            self.log.group_commit_wait = Duration::from_micros(us);
        }
        if let Some(ms) = d.async_flush_ms {
            if !(1..=60_000).contains(&ms) {
                anyhow::bail!("durability.async_flush_ms must be between 1 and 60000, not {ms}");
            }
            self.log.flush_interval = Duration::from_millis(ms);
        }
        if let Some(min) = d.snapshot_interval_min {
            self.snapshots.interval = (min > 0).then(|| Duration::from_secs(min * 60));
        }
        if let Some(mb) = d.snapshot_log_mb {
            self.snapshots.log_bytes = (mb > 0).then_some(mb << 20);
        }
        if let Some(n) = d.snapshot_retain {
            if n == 0 {
                anyhow::bail!("durability.snapshot_retain must be at least 1");
            }
            self.snapshots.retain = n;
        }
        if let Some(sec) = f.security {
            self.security = sec;
        }
        self.check()
    }

    /// Rejects settings that cannot work, naming them.
    pub fn check(&self) -> anyhow::Result<()> {
        if self.sites == Some(0) {
            anyhow::bail!("sites must be at least 1");
        }
        if self.max_message_bytes < 1024 {
            anyhow::bail!("limits.max_message_bytes must be at least 1024");
        }
        if let Some(p) = self.memory_limit_percent
            && p > 100
        {
            anyhow::bail!("limits.memory_limit_percent must be between 0 and 100, not {p}");
        }
        crate::auth::Users::from_config(&self.security)?;
        Ok(())
    }
}

/// A command-log mode from the config or the command line.
pub fn parse_log_mode(s: &str) -> anyhow::Result<voltrs_engine::durability::LogMode> {
    voltrs_engine::durability::LogMode::parse(s)
        .ok_or_else(|| anyhow::anyhow!("command log mode must be sync, async or off, not {s:?}"))
}

fn set<T>(slot: &mut T, v: Option<T>) {
    if let Some(v) = v {
        *slot = v;
    }
}
