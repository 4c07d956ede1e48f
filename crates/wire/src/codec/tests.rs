//! The worked examples of voltdb-wire-protocol.md, byte for byte, and malformed input.

use voltrs_storage::{Decimal, Value};

use super::*;

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn body(frame: &[u8]) -> &[u8] {
    let len = frame_length(frame[..4].try_into().unwrap(), DEFAULT_MAX_MESSAGE_BYTES).unwrap();
    assert_eq!(len, frame.len() - 4);
    &frame[4..]
}

#[test]
fn login_request_of_the_python_client() {
    let frame = hex(
        "00 00 00 37 01 01 00 00 00 08 64 61 74 61 62 61 73 65 00 00 00 05 61 64 6d 69 6e
         2b b8 0d 53 7b 1d a3 e3 8b d3 03 61 aa 85 56 86 bd e0 ea cd 71 62 fe f6 a2 5f e9 7b f5 27 a2 5b",
    );
    let login = LoginRequest::decode(body(&frame)).unwrap();
    assert_eq!(login.scheme, HashScheme::Sha256);
    assert_eq!(login.service, "database");
    assert_eq!(login.username, "admin");
    assert_eq!(login.digest.len(), 32);
    let mut again = Vec::new();
    login.encode(&mut again);
    assert_eq!(again, frame);
}

#[test]
fn login_with_a_short_digest_or_an_unknown_version_is_refused() {
    let frame = hex("00 00 00 14 01 01 00 00 00 08 64 61 74 61 62 61 73 65 00 00 00 00 01 02");
    let e = LoginRequest::decode(body(&frame)).unwrap_err();
    assert!(
        matches!(
            e,
            WireError::BadDigest {
                len: 2,
                expected: 32,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(e.to_string(), "password digest is 2 bytes, expected 32 for SHA-256");
    let e = LoginRequest::decode(&[7]).unwrap_err();
    assert_eq!(e.to_string(), "unsupported login version 7");
    // Version 0 implies SHA-1.
    let mut b = hex("00 00 00 00 08 64 61 74 61 62 61 73 65 00 00 00 00");
    b.extend_from_slice(&[0; 20]);
    assert_eq!(LoginRequest::decode(&b).unwrap().scheme, HashScheme::Sha1);
}

#[test]
fn login_response_matches_the_worked_example() {
    let mut out = Vec::new();
    let ok = LoginResponse {
        host_id: 0,
        connection_id: 1,
        cluster_start_ms: 1_700_000_000_000,
        leader_ipv4: 0x7f00_0001,
        build: "volt-rs-0.1".into(),
    };
    ok.encode(&mut out);
    assert_eq!(
        out,
        hex(
            "00 00 00 29 00 00 00 00 00 00 00 00 00 00 00 00 00 01 00 00 01 8b cf e5 68 00 7f 00 00 01
             00 00 00 0b 76 6f 6c 74 2d 72 73 2d 30 2e 31"
        )
    );
    assert_eq!(decode_login_response(&out[4..]).unwrap(), Ok(ok));
    let mut out = Vec::new();
    encode_login_failure(&mut out, LoginFailure::Authentication);
    assert_eq!(out, hex("00 00 00 02 00 ff"));
    assert_eq!(decode_login_response(&out[4..]).unwrap(), Err(-1));
}

#[test]
fn vote_invocation_version_0() {
    let frame = hex("00 00 00 2a 00 00 00 00 04 56 6f 74 65 00 00 00 00 00 00 00 01 00 03
         06 00 00 00 01 4a e1 1e 07 05 00 00 00 03 06 00 00 00 00 00 00 00 02");
    let call = decode_invocation(body(&frame)).unwrap();
    assert_eq!(call.procedure, "Vote");
    assert_eq!(call.handle, 1);
    assert_eq!(
        call.params,
        vec![
            Param::Value(Value::Integer(5_551_234_567)),
            Param::Value(Value::Integer(3)),
            Param::Value(Value::Integer(2))
        ]
    );
    let mut again = Vec::new();
    encode_invocation(
        &mut again,
        "Vote",
        1,
        None,
        &[Value::Integer(5_551_234_567), Value::Integer(3), Value::Integer(2)],
    );
    // Our encoder sends every integer as BIGINT: the INTEGER 3 differs.
    assert_eq!(decode_invocation(&again[4..]).unwrap().params, call.params);
}

#[test]
fn all_partition_leg_version_2() {
    let frame = hex(
        "00 00 00 26 02 00 00 00 09 43 6f 75 6e 74 52 6f 77 73 00 00 00 00 00 00 00 07
         02 02 00 03 03 00 00 00 03 00 01 05 00 00 30 39",
    );
    let call = decode_invocation(body(&frame)).unwrap();
    assert_eq!(call.procedure, "CountRows");
    assert_eq!(call.handle, 7);
    assert!(call.all_partition);
    assert_eq!(call.partition_destination, Some(3));
    assert_eq!(call.params, vec![Param::Value(Value::Integer(12345))]);
}

#[test]
fn ping_frame_of_voltclient() {
    let frame = hex("00 00 00 14 00 00 00 00 05 40 50 69 6e 67 7f ff ff ff ff ff ff ff 00 00");
    let call = decode_invocation(body(&frame)).unwrap();
    assert_eq!(call.procedure, "@Ping");
    assert_eq!(call.handle, PING_HANDLE);
    assert!(call.params.is_empty());
}

fn param(bytes: &str) -> Param {
    let mut b = hex("00 00 00 00 01 50 00 00 00 00 00 00 00 01 00 01");
    b.extend(hex(bytes));
    decode_invocation(&b).unwrap().params.remove(0)
}

#[test]
fn captured_parameter_encodings() {
    let v = |x: Value| Param::Value(x);
    assert_eq!(param("03 07"), v(Value::Integer(7)));
    assert_eq!(param("03 80"), v(Value::Null));
    assert_eq!(param("04 01 2c"), v(Value::Integer(300)));
    assert_eq!(param("05 80 00 00 00"), v(Value::Null));
    assert_eq!(param("08 3f f8 00 00 00 00 00 00"), v(Value::Float(1.5)));
    assert_eq!(param("08 ff ee 42 d1 30 77 3b 76"), v(Value::Null));
    assert_eq!(param("09 00 00 00 06 68 c3 a9 6c 6c 6f"), v(Value::str("héllo")));
    assert_eq!(param("09 ff ff ff ff"), v(Value::Null));
    assert_eq!(param("19 00 00 00 03 01 02 ff"), v(Value::bytes(&[1, 2, 0xff])));
    assert_eq!(
        param("0b 00 06 0a 24 18 20 22 40"),
        v(Value::Timestamp(1_700_000_000_123_456))
    );
    assert_eq!(
        param("16 00 00 00 00 00 00 00 00 00 00 70 48 57 06 80 00"),
        v(Value::Decimal(Decimal::parse("123.456").unwrap()))
    );
    assert_eq!(
        param("16 ff ff ff ff ff ff ff ff ff ff fe a2 c1 08 68 00"),
        v(Value::Decimal(Decimal::parse("-1.5").unwrap()))
    );
    assert_eq!(
        param("16 80 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"),
        v(Value::Null)
    );
    // 2024-02-29 as midnight UTC.
    assert_eq!(param("0c 07 e8 02 1d"), v(Value::Timestamp(19_782 * 86_400_000_000)));
    assert_eq!(param("17 01"), v(Value::Boolean(true)));
    assert_eq!(param("01"), v(Value::Null));
    assert_eq!(param("9d 03 00 00 00 02 01 02"), v(Value::bytes(&[1, 2])));
    assert_eq!(
        param("9d 05 00 02 00 00 00 01 80 00 00 00"),
        Param::Array(vec![Value::Integer(1), Value::Null])
    );
    assert_eq!(
        param("9d 09 00 02 00 00 00 01 61 ff ff ff ff"),
        Param::Array(vec![Value::str("a"), Value::Null])
    );
}

#[test]
fn malformed_parameters_are_errors_with_the_handle() {
    let bad = |bytes: &str| {
        let mut b = hex("00 00 00 00 01 50 00 00 00 00 00 00 00 2a 00 01");
        b.extend(hex(bytes));
        decode_invocation(&b).unwrap_err()
    };
    let e = bad("2a 00");
    assert_eq!(e.handle, Some(42));
    assert_eq!(e.error.to_string(), "unknown parameter type 42 at offset 16");
    assert!(
        bad("09 00 00 00 02 ff fe")
            .error
            .to_string()
            .contains("not valid UTF-8")
    );
    assert!(
        bad("06 00 00")
            .error
            .to_string()
            .starts_with("truncated message: BIGINT needs 8 bytes")
    );
    // The Python client's empty list: an array marker with no count.
    assert!(bad("9d 05").error.to_string().contains("truncated"));
    assert!(bad("1a 00").error.to_string().contains("GEOGRAPHY_POINT"));
    assert!(bad("09 ff ff ff f0").error.to_string().contains("invalid length -16"));
    // A procedure name that is not UTF-8, NULL or empty is answered on the handle after it.
    let e = decode_invocation(&hex("00 00 00 00 02 ff fe 00 00 00 00 00 00 00 07 00 00")).unwrap_err();
    assert_eq!(e.handle, Some(7));
    assert_eq!(e.error.to_string(), "procedure name at offset 5 is not valid UTF-8");
    let e = decode_invocation(&hex("00 ff ff ff ff 00 00 00 00 00 00 00 08 00 00")).unwrap_err();
    assert_eq!(
        (e.handle, e.error.to_string()),
        (Some(8), "the procedure name is NULL".into())
    );
    let e = decode_invocation(&hex("00 00 00 00 00 00 00 00 00 00 00 00 09 00 00")).unwrap_err();
    assert_eq!(
        (e.handle, e.error.to_string()),
        (Some(9), "the procedure name is empty".into())
    );
    // A header cut short has no handle.
    assert_eq!(
        decode_invocation(&hex("00 00 00 00 01 50 00")).unwrap_err().handle,
        None
    );
    assert!(
        decode_invocation(&[9])
            .unwrap_err()
            .error
            .to_string()
            .contains("unsupported invocation version 9")
    );
}

#[test]
fn frame_lengths_are_checked() {
    assert!(frame_length([0, 0, 0, 0], 100).is_err());
    assert!(frame_length([0xff, 0xff, 0xff, 0xff], 100).is_err());
    assert_eq!(
        frame_length([0, 0, 1, 0], 100).unwrap_err().to_string(),
        "message of 256 bytes is over the maximum message size of 100 bytes"
    );
    assert_eq!(frame_length([0, 0, 0, 100], 100), Ok(100));
}

#[test]
fn one_row_response_matches_the_worked_example() {
    let mut out = Vec::new();
    let head = ResponseHead {
        handle: 1,
        status: status::SUCCESS,
        status_string: None,
        app_status: status::APP_STATUS_UNSET,
        app_status_string: None,
        round_trip_ms: 3,
    };
    let start = begin_response(&mut out, &head, 1);
    let row = [Value::str("Edwina Burnam"), Value::Integer(757)];
    encode_table(
        &mut out,
        &[("CONTESTANT_NAME", VoltType::String), ("TOTAL_VOTES", VoltType::BigInt)],
        [&row[..]],
    );
    finish_frame(&mut out, start);
    let expected = hex("00 00 00 62 00 00 00 00 00 00 00 00 01 00 01 80 00 00 00 03 00 01
         00 00 00 4c 00 00 00 27 80 00 02 09 06
         00 00 00 0f 43 4f 4e 54 45 53 54 41 4e 54 5f 4e 41 4d 45
         00 00 00 0b 54 4f 54 41 4c 5f 56 4f 54 45 53
         00 00 00 01 00 00 00 19 00 00 00 0d 45 64 77 69 6e 61 20 42 75 72 6e 61 6d
         00 00 00 00 00 00 02 f5");
    assert_eq!(out, expected);
    let r = decode_response(&out[4..]).unwrap();
    assert_eq!(r.handle, 1);
    assert_eq!(r.tables[0].rows, vec![row.to_vec()]);
}

#[test]
fn error_response_matches_the_worked_example() {
    let mut out = Vec::new();
    encode_response(
        &mut out,
        &ResponseHead::failure(1, status::GRACEFUL_FAILURE, "unexpected token: FRM"),
    );
    let expected = hex("00 00 00 2b 00 00 00 00 00 00 00 00 01 20 fe 00 00 00 15
         75 6e 65 78 70 65 63 74 65 64 20 74 6f 6b 65 6e 3a 20 46 52 4d 80 00 00 00 00 00 00");
    assert_eq!(out, expected);
}

#[test]
fn every_type_and_null_round_trips_through_a_table() {
    let columns = [
        ("T", VoltType::TinyInt),
        ("S", VoltType::SmallInt),
        ("I", VoltType::Integer),
        ("B", VoltType::BigInt),
        ("F", VoltType::Float),
        ("D", VoltType::Decimal),
        ("V", VoltType::String),
        ("X", VoltType::Varbinary),
        ("TS", VoltType::Timestamp),
    ];
    let full = vec![
        Value::Integer(-127),
        Value::Integer(32767),
        Value::Integer(-2_147_483_647),
        Value::Integer(i64::MAX),
        Value::Float(-1.5e300),
        Value::Decimal(Decimal::MAX),
        Value::str("ünï"),
        Value::bytes(&[0, 255]),
        Value::Timestamp(-1),
    ];
    let nulls = vec![Value::Null; columns.len()];
    let mut out = Vec::new();
    encode_table(&mut out, &columns, [full.as_slice(), nulls.as_slice()]);
    let t = decode_table(&mut Reader::new(&out)).unwrap();
    assert_eq!(t.rows, vec![full, nulls]);
    assert_eq!(t.columns[6].name, "V");
    let mut again = Vec::new();
    t.encode(&mut again);
    assert_eq!(again, out);
}

#[test]
fn tables_with_lying_counts_are_errors() {
    // 1 column claimed, then 2^31-1 rows in a few bytes.
    let mut out = Vec::new();
    encode_table(&mut out, &[("A", VoltType::BigInt)], std::iter::empty());
    let n = out.len();
    out[n - 4..].copy_from_slice(&i32::MAX.to_be_bytes());
    assert!(decode_table(&mut Reader::new(&out)).is_err());
    // A total length past the end.
    let e = decode_table(&mut Reader::new(&hex("00 00 10 00 00"))).unwrap_err();
    assert!(e.to_string().contains("truncated"), "{e}");
}
