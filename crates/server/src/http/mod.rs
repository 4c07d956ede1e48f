//! HTTP: VoltDB's JSON API, Prometheus metrics and a health check (docs/HTTP.md).
//!
//! | Path | Methods | What |
//! |------|---------|------|
//! | `/api/1.0/`, `/api/2.0/` (with or without the trailing `/`) | GET, POST | call a procedure ([`api`]) |
//! | `/metrics` | GET | Prometheus text format ([`metrics`]) |
//! | `/health` | GET | `ok` while the server serves |
//!
//! Every request stands alone: the JSON API logs in and opens a session per request. The
//! handlers never block a tokio worker: calls and the metrics' table figures run on the
//! blocking pool.

pub mod api;
pub mod form;
pub mod json;
pub mod metrics;

use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use tokio::net::TcpListener;

use crate::ServerState;

/// The routes, over the shared server state.
pub fn router(state: Arc<ServerState>) -> Router {
    let call = || get(api::handle).post(api::handle);
    Router::new()
        .route("/api/1.0", call())
        .route("/api/1.0/", call())
        .route("/api/2.0", call())
        .route("/api/2.0/", call())
        .route("/api/1.0/{*rest}", get(not_found).post(not_found))
        .route("/api/2.0/{*rest}", get(not_found).post(not_found))
        .route("/metrics", get(metrics::handle))
        .route("/health", get(|| async { "ok\n" }))
        .with_state(state)
}

/// Anything below an API path other than the path itself (VoltDB's answer).
async fn not_found() -> (StatusCode, &'static str) {
    (StatusCode::NOT_FOUND, "Resource not found\n")
}

/// Serves HTTP on `listener` until the process ends.
pub async fn serve(listener: TcpListener, state: Arc<ServerState>) {
    if let Err(e) = axum::serve(listener, router(state)).await {
        eprintln!("voltrs: the HTTP server stopped: {e}");
    }
}
