//! The connection flags `voltrs sql` and `voltrs bench` share.

use voltrs_client::ClientConfig;

#[derive(clap::Args)]
pub struct ServerArgs {
    /// Servers to connect to, comma-separated (`host` or `host:port`).
    #[arg(long, alias = "host", value_delimiter = ',', default_value = "localhost")]
    pub servers: Vec<String>,
    /// Client port of servers given without one.
    #[arg(long, default_value_t = voltrs_client::DEFAULT_PORT)]
    pub port: u16,
    #[arg(long, default_value = "")]
    pub user: String,
    #[arg(long, default_value = "")]
    pub password: String,
}

impl ServerArgs {
    /// Every server as `host:port`.
    pub fn addresses(&self) -> Vec<String> {
        self.servers
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .map(|s| voltrs_client::with_port(s, self.port))
            .collect()
    }

    /// The client's configuration for these servers.
    pub fn client_config(&self) -> ClientConfig {
        ClientConfig {
            user: self.user.clone(),
            password: self.password.clone(),
            ..ClientConfig::new(self.addresses())
        }
    }
}
