//! HTTP: VoltDB's JSON API, `/metrics`, `/health` (placeholder until the HTTP frontend lands).

use std::sync::Arc;

use tokio::net::TcpListener;

use crate::ServerState;

/// Serves HTTP on `listener` until the process ends.
pub async fn serve(listener: TcpListener, state: Arc<ServerState>) {
    let app = axum::Router::new().route("/health", axum::routing::get(|| async { "ok\n" }));
    let _ = state;
    let _ = axum::serve(listener, app).await;
}
