use super::{Reader, WireError, finish_frame, put_str, start_frame};

/// The password digest a client sends (the server never sees the password).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashScheme {
    Sha1,
    Sha256,
}

impl HashScheme {
    pub fn digest_len(self) -> usize {
        match self {
            HashScheme::Sha1 => 20,
            HashScheme::Sha256 => 32,
        }
    }
}

/// The first message of a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginRequest {
    pub scheme: HashScheme,
    pub service: String,
    pub username: String,
    pub digest: Vec<u8>,
}

/// Why a login is refused; the byte VoltDB sends for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginFailure {
    Authentication,
    TooManyConnections,
    Timeout,
    Format,
    UnknownService,
}

impl LoginFailure {
    pub fn code(self) -> i8 {
        match self {
            LoginFailure::Authentication => -1,
            LoginFailure::TooManyConnections => 1,
            LoginFailure::Timeout => 2,
            LoginFailure::Format => 3,
            LoginFailure::UnknownService => 5,
        }
    }
}

impl LoginRequest {
    /// Decodes a login body: versions 0 (SHA-1) and 1 (scheme byte); Kerberos is refused.
    pub fn decode(body: &[u8]) -> Result<LoginRequest, WireError> {
        let mut r = Reader::new(body);
        let version = r.i8("login version")?;
        let scheme = match version {
            0 => HashScheme::Sha1,
            1 => match r.i8("hash scheme")? {
                0 => HashScheme::Sha1,
                1 => HashScheme::Sha256,
                s => return Err(WireError::Invalid(format!("unsupported password hash scheme {s}"))),
            },
            v => {
                return Err(WireError::UnsupportedVersion {
                    what: "login",
                    version: v,
                });
            }
        };
        let service = r.required_string("service name")?.to_string();
        let username = r.string("user name")?.unwrap_or_default().to_string();
        let digest = r.rest().to_vec();
        if digest.len() != scheme.digest_len() {
            return Err(WireError::BadDigest {
                len: digest.len(),
                expected: scheme.digest_len(),
                scheme: match scheme {
                    HashScheme::Sha1 => "SHA-1",
                    HashScheme::Sha256 => "SHA-256",
                },
            });
        }
        Ok(LoginRequest {
            scheme,
            service,
            username,
            digest,
        })
    }

    /// A whole login frame (version 1).
    pub fn encode(&self, out: &mut Vec<u8>) {
        let start = start_frame(out);
        out.push(1);
        out.push(match self.scheme {
            HashScheme::Sha1 => 0,
            HashScheme::Sha256 => 1,
        });
        put_str(out, Some(&self.service));
        put_str(out, Some(&self.username));
        out.extend_from_slice(&self.digest);
        finish_frame(out, start);
    }
}

/// A successful login's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginResponse {
    pub host_id: i32,
    pub connection_id: i64,
    pub cluster_start_ms: i64,
    pub leader_ipv4: u32,
    pub build: String,
}

impl LoginResponse {
    /// The whole success frame.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let start = start_frame(out);
        out.push(0);
        out.push(0);
        out.extend_from_slice(&self.host_id.to_be_bytes());
        out.extend_from_slice(&self.connection_id.to_be_bytes());
        out.extend_from_slice(&self.cluster_start_ms.to_be_bytes());
        out.extend_from_slice(&self.leader_ipv4.to_be_bytes());
        put_str(out, Some(&self.build));
        finish_frame(out, start);
    }
}

/// The whole two-byte failure frame; the server closes the connection after it.
pub fn encode_login_failure(out: &mut Vec<u8>, why: LoginFailure) {
    out.extend_from_slice(&2i32.to_be_bytes());
    out.push(0);
    out.push(why.code() as u8);
}

/// A login answer's body: the success fields, or the failure code.
pub fn decode_login_response(body: &[u8]) -> Result<Result<LoginResponse, i8>, WireError> {
    let mut r = Reader::new(body);
    let version = r.i8("login response version")?;
    if version != 0 {
        return Err(WireError::UnsupportedVersion {
            what: "login response",
            version,
        });
    }
    let code = r.i8("login result")?;
    if code != 0 {
        return Ok(Err(code));
    }
    Ok(Ok(LoginResponse {
        host_id: r.i32("host id")?,
        connection_id: r.i64("connection id")?,
        cluster_start_ms: r.i64("cluster start")?,
        leader_ipv4: r.i32("leader address")? as u32,
        build: r.string("build string")?.unwrap_or_default().to_string(),
    }))
}
