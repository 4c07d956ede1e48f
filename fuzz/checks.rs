//! What each fuzz target checks, shared with the corpus replay test
//! (crates/wire/tests/fuzz_corpus.rs) so CI runs the same checks over the committed corpus.
//!
//! Every decoder must return a value or an error for any bytes: never panic, never
//! allocate more than the input justifies (libFuzzer's -rss_limit_mb catches that). Where a
//! decoded value can be encoded again, encoding is checked to be a fixed point.

use voltrs_wire::codec::{self, LoginRequest, Reader, VoltType};

/// The largest frame the targets accept: the server's default maximum message size.
const MAX: usize = codec::DEFAULT_MAX_MESSAGE_BYTES;

/// Bytes as a client's stream after login: frames (4-byte length + body), each decoded as
/// an invocation, until the bytes end or the framing breaks. Ok(calls decoded).
pub fn invocation(data: &[u8]) -> Result<usize, String> {
    let mut rest = data;
    let mut calls = 0;
    while rest.len() >= 4 {
        let header = [rest[0], rest[1], rest[2], rest[3]];
        let len = codec::frame_length(header, MAX).map_err(|e| e.to_string())?;
        let body = rest.get(4..4 + len).ok_or("truncated frame")?;
        codec::decode_invocation(body).map_err(|e| format!("{} (handle {:?})", e.error, e.handle))?;
        calls += 1;
        rest = &rest[4 + len..];
    }
    if rest.is_empty() {
        Ok(calls)
    } else {
        Err("bytes after the last frame".into())
    }
}

/// A login frame's body as the server decodes it (and as a login answer, which the client
/// side decodes). A decoded login encodes as a version-1 frame that decodes to the same.
pub fn login(data: &[u8]) -> Result<(), String> {
    let _ = codec::decode_login_response(data);
    let request = LoginRequest::decode(data).map_err(|e| e.to_string())?;
    let mut frame = Vec::new();
    request.encode(&mut frame);
    let again = LoginRequest::decode(&frame[4..]).expect("an encoded login decodes");
    assert_eq!(again, request, "login round trip");
    Ok(())
}

/// A VoltTable (a VOLTTABLE parameter, or a result table on the client side), then the
/// same bytes as a whole response body. Encoding a decoded table is a fixed point.
pub fn table(data: &[u8]) -> Result<(), String> {
    let _ = codec::decode_response(data);
    let t = codec::decode_table(&mut Reader::new(data)).map_err(|e| e.to_string())?;
    // Column types no engine value has are not re-encodable as they came; skip those.
    let plain = t.columns.iter().all(|c| {
        !matches!(
            c.ty,
            VoltType::Null | VoltType::VoltTable | VoltType::GeographyPoint | VoltType::Geography
        )
    });
    if plain {
        let mut once = Vec::new();
        t.encode(&mut once);
        let t2 = codec::decode_table(&mut Reader::new(&once)).expect("an encoded table decodes");
        let mut twice = Vec::new();
        t2.encode(&mut twice);
        assert_eq!(once, twice, "table re-encoding is not a fixed point");
    }
    Ok(())
}
