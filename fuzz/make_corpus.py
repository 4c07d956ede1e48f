#!/usr/bin/env python3
"""Writes the seed corpus fuzz/corpus/<target>/ (committed; run again after editing).

Seeds are the worked examples of ../shared/reference/voltdb-wire-protocol.md and what the
Python client sends, plus malformed variants. File names say what the replay test
(crates/wire/tests/fuzz_corpus.rs) expects: `ok-*` must decode, `bad-*` must be refused
with an error, anything else (files libFuzzer adds) must only not panic.
"""

import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def h(s):
    return bytes.fromhex(s.replace(" ", "").replace("\n", ""))


def i8(v): return struct.pack(">b", v)
def i16(v): return struct.pack(">h", v)
def i32(v): return struct.pack(">i", v)
def i64(v): return struct.pack(">q", v)
def s(v): return i32(len(v.encode())) + v.encode() if isinstance(v, str) else i32(len(v)) + v


def frame(body):
    return i32(len(body)) + body


def call(name, handle, params, version=0, extensions=b""):
    """An invocation body: params is the parameter set, count included."""
    name = name.encode() if isinstance(name, str) else name
    head = i8(version) + (extensions if version == 1 else b"") + s(name) + i64(handle)
    return head + (extensions if version == 2 else b"") + params


def params(*encoded):
    return i16(len(encoded)) + b"".join(encoded)


def table(types, names, rows, status=-128, header_len=None):
    """A VoltTable; rows are lists of already-encoded values."""
    header = i8(status) + i16(len(types)) + bytes(t & 0xFF for t in types) + b"".join(s(n) for n in names)
    body = i32(len(header) if header_len is None else header_len) + header + i32(len(rows))
    for r in rows:
        data = b"".join(r)
        body += i32(len(data)) + data
    return i32(len(body)) + body


# Captured parameter encodings (reference §4.3), type byte included.
TYPED = [
    "03 07", "03 80", "04 01 2c", "05 00 00 00 03", "05 80 00 00 00",
    "06 00 00 00 01 4a e1 1e 07", "08 3f f8 00 00 00 00 00 00", "08 ff ee 42 d1 30 77 3b 76",
    "09 00 00 00 06 68 c3 a9 6c 6c 6f", "09 00 00 00 00", "09 ff ff ff ff", "19 00 00 00 03 01 02 ff",
    "0b 00 06 0a 24 18 20 22 40", "16 00 00 00 00 00 00 00 00 00 00 70 48 57 06 80 00",
    "16 ff ff ff ff ff ff ff ff ff ff fe a2 c1 08 68 00", "0c 07 e8 02 1d", "17 01", "01",
    "9d 03 00 00 00 02 01 02", "9d 04 00 02 00 01 00 02", "9d 05 00 02 00 00 00 01 80 00 00 00",
    "9d 09 00 02 00 00 00 01 61 ff ff ff ff",
    "9d 16 00 01 00 00 00 00 00 00 00 00 00 00 00 e8 d4 a5 10 00",
]
VOTE = h("00 00 00 2a 00 00 00 00 04 56 6f 74 65 00 00 00 00 00 00 00 01 00 03"
         "06 00 00 00 01 4a e1 1e 07 05 00 00 00 03 06 00 00 00 00 00 00 00 02")
PING = h("00 00 00 14 00 00 00 00 05 40 50 69 6e 67 7f ff ff ff ff ff ff ff 00 00")
COUNT_ROWS_V2 = h("00 00 00 26 02 00 00 00 09 43 6f 75 6e 74 52 6f 77 73 00 00 00 00 00 00 00 07"
                  "02 02 00 03 03 00 00 00 03 00 01 05 00 00 30 39")
# The one-row table of the response worked example (reference §5).
EDWINA = table([9, 6], ["CONTESTANT_NAME", "TOTAL_VOTES"], [[s("Edwina Burnam"), i64(757)]])
LOAD_ROWS = table([6, 9], ["ID", "NAME"], [[i64(1), s("a")], [i64(2), i32(-1)]], status=0)

INVOCATION = {
    "ok-vote-v0": VOTE,
    "ok-ping-voltclient": PING,
    "ok-pipelined-vote-and-ping": VOTE + PING,
    "ok-subscribe": frame(call("@Subscribe", 5, params(h("09") + s("TOPOLOGY")))),
    "ok-statistics-topo": frame(call("@Statistics", 6, params(h("09") + s("TOPO"), h("05 00 00 00 00")))),
    "ok-all-partition-leg-v2": COUNT_ROWS_V2,
    "ok-v1-batch-timeout": frame(call("@Ping", 8, params(), version=1, extensions=h("01 00 00 27 10"))),
    "ok-v2-unknown-extension": frame(call("@Ping", 9, params(), version=2, extensions=h("01 09 03 00 00 00 00"))),
    "ok-every-type": frame(call("Types", 10, params(*(h(t) for t in TYPED)))),
    "ok-bulk-load": frame(call("@LoadSinglepartitionTable", 11, params(
        h("19") + s(b"\x01\x00\x00\x00\x00\x00\x00\x00"), h("09") + s("T"), h("03 00"), h("15") + LOAD_ROWS))),
    "ok-utf8-name": frame(call("Vötè", 12, params(h("09") + s("héllo ✓ 𝄞")))),
    "bad-truncated-frame": VOTE[:-3],
    "bad-zero-length": h("00 00 00 00"),
    "bad-negative-length": h("ff ff ff ff"),
    "bad-version-5": frame(b"\x05" + call("@Ping", 1, params())[1:]),
    "bad-unknown-type-42": frame(call("P", 1, params(h("2a")))),
    "bad-python-empty-list": frame(call("P", 1, params(h("9d 05")))),
    "bad-name-not-utf8": frame(call(b"\xff\xfe", 1, params())),
    "bad-name-null": frame(i8(0) + i32(-1) + i64(1) + params()),
    "bad-name-empty": frame(call("", 1, params())),
    "bad-string-not-utf8": frame(call("P", 1, params(h("09 00 00 00 02 c3 28")))),
    "bad-negative-param-count": frame(call("P", 1, h("ff ff"))),
    "bad-param-count-past-end": frame(call("P", 1, h("7f ff 05"))),
    "bad-extension-size-code-9": frame(call("P", 1, params(), version=2, extensions=h("01 01 09"))),
    "bad-batch-call": frame(call("P", 1, params(), version=2, extensions=h("01 04 00"))),
    "bad-trailing-bytes": frame(call("P", 1, params(h("05 00 00 00 01")) + h("ab"))),
    "bad-decimal-out-of-range": frame(call("P", 1, params(h("16 7f ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff")))),
    "bad-date-month-13": frame(call("P", 1, params(h("0c 07 e8 0d 01")))),
    "bad-array-of-tables": frame(call("P", 1, params(h("9d 15 00 01")))),
    "bad-array-length-past-end": frame(call("P", 1, params(h("9d 06 7f ff")))),
    "bad-table-param-lying-rows": frame(call("P", 1, params(h("15") + table([5], ["A"], [])[:-4] + i32(2 ** 31 - 1)))),
}

LOGIN_ADMIN = h("01 01 00 00 00 08 64 61 74 61 62 61 73 65 00 00 00 05 61 64 6d 69 6e"
                "2b b8 0d 53 7b 1d a3 e3 8b d3 03 61 aa 85 56 86 bd e0 ea cd 71 62 fe f6 a2 5f e9 7b f5 27 a2 5b")
SHA256_EMPTY = h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
SHA1_EMPTY = h("da39a3ee5e6b4b0d3255bfef95601890afd80709")
LOGIN = {
    "ok-python-admin-sha256": LOGIN_ADMIN,
    "ok-anonymous-sha256": h("01 01") + s("database") + s("") + SHA256_EMPTY,
    "ok-version-0-sha1": h("00") + s("database") + s("app") + SHA1_EMPTY,
    "ok-version-1-sha1": h("01 00") + s("database") + s("app") + SHA1_EMPTY,
    "ok-unknown-service": h("01 01") + s("export") + s("") + SHA256_EMPTY,  # refused later, not here
    "bad-version-7": h("07 01"),
    "bad-scheme-9": h("01 09") + s("database") + s("") + SHA256_EMPTY,
    "bad-short-digest": h("01 01") + s("database") + s("") + h("01 02"),
    "bad-null-service": h("01 01 ff ff ff ff"),
    "bad-negative-length": h("01 01 ff ff ff f0"),
    "bad-string-past-end": h("01 01 00 00 00 32 64"),
    "bad-user-not-utf8": h("01 01") + s("database") + s(b"\xff\xfe") + SHA256_EMPTY,
    "bad-empty": b"",
    # Login answers (the client side's decoder runs on every input too).
    "response-success": h("00 00 00 00 00 00 00 00 00 00 00 00 00 01 00 00 01 8b cf e5 68 00 7f 00 00 01"
                          "00 00 00 0b 76 6f 6c 74 2d 72 73 2d 30 2e 31"),
    "response-failure": h("00 ff"),
}

TABLE = {
    "ok-worked-example": EDWINA,
    "ok-bulk-load-rows": LOAD_ROWS,
    "ok-no-rows": table([6], ["A"], []),
    "ok-every-type-and-nulls": table(
        [3, 4, 5, 6, 8, 22, 9, 25, 11, 12, 23],
        ["T", "S", "I", "B", "F", "D", "V", "X", "TS", "DT", "BO"],
        [[h("81"), h("7f ff"), i32(-2 ** 31 + 1), i64(2 ** 63 - 1), h("7f ef ff ff ff ff ff ff"),
          h("4b 3b 4c a8 5a 86 c4 7a 09 8a 22 3f ff ff ff ff"), s("ünï"), s(b"\x00\xff"), i64(-1),
          h("07 e8 02 1d"), h("01")],
         [h("80"), h("80 00"), i32(-2 ** 31), i64(-2 ** 63), h("ff ee 42 d1 30 77 3b 76"),
          h("80" + "00" * 15), i32(-1), i32(-1), i64(-2 ** 63), i32(-2 ** 31), h("80")]]),
    "ok-header-length-ignored": table([6], ["A"], [[i64(1)]], header_len=999),
    "bad-lying-row-count": table([6], ["A"], [])[:-4] + i32(2 ** 31 - 1),
    "bad-lying-column-count": i32(12) + i32(7) + h("80 7f ff 06") + i32(0),
    "bad-total-past-end": h("00 00 10 00 00"),
    "bad-negative-total": h("ff ff ff fe"),
    "bad-row-with-extra-bytes": table([3], ["A"], [[h("01 02")]]),
    "bad-unknown-column-type": table([42], ["A"], []),
    "bad-decimal-out-of-range": table([22], ["D"], [[h("7f" + "ff" * 15)]]),
    "bad-date-february-30": table([12], ["D"], [[h("07 e8 02 1e")]]),
    "bad-negative-string-length": table([9], ["V"], [[h("ff ff ff f0")]]),
    "bad-volttable-column": table([21], ["T"], [[i32(0)]]),
    # Whole response bodies (the client side's decoder runs on every input too).
    "response-worked-example": h("00 00 00 00 00 00 00 00 01 00 01 80 00 00 00 03 00 01") + EDWINA,
    "response-error": h("00 00 00 00 00 00 00 00 01 20 fe") + s("unexpected token: FRM") + h("80 00 00 00 00 00 00"),
}


def main():
    for target, seeds in [("invocation", INVOCATION), ("login", LOGIN), ("table", TABLE)]:
        d = os.path.join(HERE, "corpus", target)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        for name, data in seeds.items():
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
        print("%s: %d seeds" % (target, len(seeds)))


if __name__ == "__main__":
    main()
