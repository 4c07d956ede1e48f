//! VoltDB's JSON API: `GET|POST /api/1.0/` and `/api/2.0/`.
//!
//! Life of a request:
//! 1. The fields come from the query string and, for a POST, the form-encoded body
//!    ([`Fields`]); a body over [`MAX_BODY_BYTES`] is refused.
//! 2. `jsonp` (a header or a field) must be a plain function name; `Procedure` must be there;
//!    `Querytimeout`, when given, a positive number of milliseconds.
//! 3. The user logs in on every request ([`authenticate`]): an `Authorization` header
//!    (`Basic`, or VoltDB's `Hashed user:hexdigest`), else the `User` field with
//!    `Hashedpassword` or `Password`. With security off anyone may call. `admin=true` asks for
//!    an admin session (as on the admin port), which needs the ADMIN permission.
//! 4. `Parameters` becomes values ([`super::form::parameters`]), and the call runs on
//!    tokio's blocking pool in a session of its own: [`voltrs_engine::Session::call`] for
//!    every kind of procedure (stored, default, system).
//! 5. The response is written in the version's shape ([`super::json`]), wrapped as
//!    `fn( ... )` for jsonp.
//!
//! HTTP status codes follow VoltDB: 200 whenever a call ran (its failure is in the body's
//! `status`), 400 for a malformed request, 401 for a failed login. Refusals have status -3
//! (UNEXPECTED_FAILURE) and VoltDB's `/api/1.0/` shape with empty results.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use voltrs_engine::Status;

use super::form::{self, Fields};
use super::json::{self, Version};
use crate::ServerState;
use crate::auth::{Login, Users};

/// Largest request body read (VoltDB's limit on the parameters of an HTTP call).
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// The status of a refused request: VoltDB's UNEXPECTED_FAILURE.
const REFUSED: i8 = -3;

const JSON: &str = "application/json; charset=utf-8";
const JAVASCRIPT: &str = "application/javascript; charset=utf-8";

/// Answers one JSON API request (any of the four API paths).
pub async fn handle(
    State(state): State<Arc<ServerState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let version = if uri.path().starts_with("/api/2.0") {
        Version::V2
    } else {
        Version::V1
    };
    let mut fields = Fields::default();
    if let Some(query) = uri.query() {
        fields.add(query.as_bytes());
    }
    let form_body = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|ct| ct.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"));
    if method == Method::POST {
        match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
            Ok(bytes) if form_body => fields.add(&bytes),
            Ok(_) => {}
            Err(_) => {
                let message = format!("Query string too large: the body is over {MAX_BODY_BYTES} bytes");
                return refuse(StatusCode::OK, None, &message);
            }
        }
    }

    let jsonp = match headers
        .get("jsonp")
        .and_then(|v| v.to_str().ok())
        .or(fields.get("jsonp"))
    {
        Some("") | None => None,
        Some(f) if f.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$') => Some(f.to_string()),
        Some(_) => return refuse(StatusCode::BAD_REQUEST, None, "Invalid jsonp callback function name"),
    };
    let jsonp = jsonp.as_deref();
    let Some(procedure) = fields.get("Procedure").map(str::to_string) else {
        let mut message = "Procedure parameter is missing".to_string();
        if method == Method::POST && !form_body {
            message.push_str(" (a POST body must be application/x-www-form-urlencoded)");
        }
        return refuse(StatusCode::BAD_REQUEST, jsonp, &message);
    };
    let timeout = match fields.get("Querytimeout") {
        None => None,
        Some(t) => match t.trim().parse::<u64>() {
            Ok(ms) if ms > 0 => Some(Duration::from_millis(ms)),
            _ => return refuse(StatusCode::BAD_REQUEST, jsonp, &format!("invalid query timeout: {t}")),
        },
    };
    let admin = fields.get("admin").is_some_and(|a| a.eq_ignore_ascii_case("true"));
    let login = match authenticate(&state.users, &headers, &fields, admin) {
        Ok(login) => login,
        Err(message) => return refuse(StatusCode::UNAUTHORIZED, jsonp, &message),
    };
    let params = match fields.get("Parameters") {
        None => Vec::new(),
        Some(text) => match form::parameters(text) {
            Ok(p) => p,
            Err(why) => {
                let message = format!("failed to parse invocation parameters: {why}");
                return refuse(StatusCode::BAD_REQUEST, jsonp, &message);
            }
        },
    };

    let mut session = state.session(login, admin);
    if timeout.is_some() {
        session.set_statement_timeout(timeout);
    }
    let body = tokio::task::spawn_blocking(move || json::response(&session.call(&procedure, &params), version))
        .await
        .unwrap_or_else(|_| json::refusal(Status::UnexpectedFailure.code(), "internal error: the call panicked"));
    reply(StatusCode::OK, jsonp, body)
}

/// A JSON (or jsonp) answer.
fn reply(status: StatusCode, jsonp: Option<&str>, body: String) -> Response {
    match jsonp {
        Some(function) => (
            status,
            [(header::CONTENT_TYPE, JAVASCRIPT)],
            format!("{function}( {body} )"),
        )
            .into_response(),
        None => (status, [(header::CONTENT_TYPE, JSON)], body).into_response(),
    }
}

/// A request refused before any call.
fn refuse(status: StatusCode, jsonp: Option<&str>, message: &str) -> Response {
    reply(status, jsonp, json::refusal(REFUSED, message))
}

/// What the request offers as a password.
enum Secret {
    Password(String),
    /// Hex of the password's SHA-1 or SHA-256 digest.
    Hashed(String),
    Nothing,
}

/// The user and secret of an `Authorization` header (`Basic base64(user:password)` or
/// `Hashed user:hexdigest`); `None` when there is none or it is malformed (then the fields
/// are used, as VoltDB does).
fn from_header(headers: &HeaderMap) -> Option<(String, Secret)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = value.trim().split_once(' ')?;
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD.decode(rest.trim()).ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (user, password) = text.split_once(':')?;
        Some((user.to_string(), Secret::Password(password.to_string())))
    } else if scheme.eq_ignore_ascii_case("hashed") {
        let (user, hex) = rest.trim().split_once(':')?;
        Some((user.to_string(), Secret::Hashed(hex.to_string())))
    } else {
        None
    }
}

/// Logs the request's user in: `Ok(None)` with security off, the user's permissions with
/// it on, or why not (the message of a 401 answer).
fn authenticate(users: &Users, headers: &HeaderMap, fields: &Fields, admin: bool) -> Result<Login, String> {
    if !users.enabled() {
        return Ok(None);
    }
    let (user, secret) = from_header(headers).unwrap_or_else(|| {
        let user = fields.get("User").unwrap_or_default().to_string();
        let secret = match (fields.get("Hashedpassword"), fields.get("Password")) {
            (Some(h), _) => Secret::Hashed(h.to_string()),
            (None, Some(p)) => Secret::Password(p.to_string()),
            (None, None) => Secret::Nothing,
        };
        (user, secret)
    });
    if user.is_empty() {
        return Err("authentication required: security is on, so send User with Password or Hashedpassword".into());
    }
    let login = match secret {
        Secret::Hashed(hex) if hex.len() != 40 && hex.len() != 64 => {
            return Err(
                "Hashedpassword must be the hex of the password's SHA-1 (40 digits) or SHA-256 (64 digits) digest"
                    .into(),
            );
        }
        Secret::Hashed(hex) => users.login_hashed(&user, &hex),
        Secret::Password(password) => users.login_password(&user, &password),
        Secret::Nothing => return Err(format!("authentication failed for user '{user}': no password was sent")),
    }
    .map_err(|e| e.to_string())?;
    if admin && !login.as_ref().is_some_and(|p| p.admin) {
        return Err(format!(
            "user '{user}' may not use admin=true: that needs the ADMIN permission"
        ));
    }
    Ok(login)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Security, UserConfig};

    fn users() -> Users {
        Users::from_config(&Security {
            enabled: true,
            users: vec![
                UserConfig {
                    name: "admin".into(),
                    password: "secret".into(),
                    roles: vec!["administrator".into()],
                },
                UserConfig {
                    name: "bob".into(),
                    password: "pw:with:colons".into(),
                    roles: vec!["user".into()],
                },
            ],
            roles: Vec::new(),
        })
        .unwrap()
    }

    fn fields(text: &str) -> Fields {
        let mut f = Fields::default();
        f.add(text.as_bytes());
        f
    }

    fn header(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, value.parse().unwrap());
        h
    }

    #[test]
    fn fields_or_headers_log_in() {
        let u = users();
        let none = HeaderMap::new();
        let admin = authenticate(&u, &none, &fields("User=admin&Password=secret"), true).unwrap();
        assert!(admin.unwrap().admin);
        let basic = base64::engine::general_purpose::STANDARD.encode("bob:pw:with:colons");
        assert!(authenticate(&u, &header(&format!("Basic {basic}")), &Fields::default(), false).is_ok());
        // SHA-256 of "secret".
        let hashed = "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b";
        assert!(
            authenticate(
                &u,
                &header(&format!("Hashed admin:{hashed}")),
                &Fields::default(),
                false
            )
            .is_ok()
        );
        assert!(
            authenticate(
                &u,
                &none,
                &fields(&format!("User=admin&Hashedpassword={hashed}")),
                false
            )
            .is_ok()
        );
    }

    #[test]
    fn refusals_say_why() {
        let u = users();
        let none = HeaderMap::new();
        let e = |f: &str, admin| authenticate(&u, &none, &fields(f), admin).unwrap_err();
        assert!(e("", false).starts_with("authentication required"));
        assert_eq!(
            e("User=admin&Password=nope", false),
            "authentication failed for user 'admin'"
        );
        assert_eq!(
            e("User=ghost&Password=secret", false),
            "authentication failed for user 'ghost'"
        );
        assert!(e("User=admin", false).ends_with("no password was sent"));
        assert!(e("User=admin&Hashedpassword=abc", false).starts_with("Hashedpassword must be"));
        assert_eq!(
            e("User=bob&Password=pw:with:colons", true),
            "user 'bob' may not use admin=true: that needs the ADMIN permission"
        );
    }

    #[test]
    fn security_off_lets_anyone_in() {
        let u = Users::from_config(&Security::default()).unwrap();
        assert_eq!(authenticate(&u, &HeaderMap::new(), &Fields::default(), true), Ok(None));
    }
}
