"""Acceptance test: VoltDB's own Python client (PyPI voltdbclient 16.1.0) against voltrs.

Run by crates/voltrs/tests/python_client.rs, which starts two real servers:

    TZ=UTC PYTHONPATH=target/pyenv python3 tests/python/test_voltdb_client.py PORT SECURE_PORT

PORT has security off; SECURE_PORT has security on with the users of SECURE_USERS. TZ=UTC
because the client converts TIMESTAMPs through the local time zone in both directions.

Both client modules are used as an application would: `voltdbclient` (FastSerializer +
VoltProcedure, one synchronous call at a time) and `voltclient` (the topology-aware,
pipelined VoltClient and VoltBulkLoader). Plain asserts; every check runs even after a
failure, failures are listed at the end, and the exit status is 1 if any failed.
"""

import datetime
import decimal
import hashlib
import json
import sys
import time
import traceback

import voltdbclient
from voltdbclient import FastSerializer, VoltProcedure
from voltclient import VoltBulkLoader, VoltClient, VoltConnectionError, VoltType

T = FastSerializer  # the VOLTTYPE_* constants
D = decimal.Decimal

SUCCESS, GRACEFUL_FAILURE, UNEXPECTED_FAILURE = 1, -2, -3
# Must match the users python_client.rs writes into the secure server's config.
SECURE_USERS = {"admin": "secret", "app": "päss wörd"}


# -- helpers ------------------------------------------------------------------


def connect(port, **kw):
    """A legacy connection; a server that stops answering fails the call, not the run."""
    return FastSerializer("127.0.0.1", port, procedure_timeout=30, **kw)


def call(fs, proc, types=(), params=()):
    return VoltProcedure(fs, proc, list(types)).call(list(params))


def adhoc(fs, sql, types=(), params=()):
    return call(fs, "@AdHoc", [T.VOLTTYPE_STRING, *types], [sql, *params])


def ok(r, what=""):
    assert r.status == SUCCESS, "%s: status %s: %s" % (what, r.status, r.statusString)
    return r


def rows(r, what=""):
    return ok(r, what).tables[0].tuples


def modified(r, what=""):
    t = ok(r, what).tables[0]
    assert [c.name for c in t.columns] == ["modified_tuples"], t.columns
    assert t.columns[0].type == T.VOLTTYPE_BIGINT
    return t.tuples[0][0]


def fails(r, status, *fragments):
    """The call failed with `status` and a message containing every fragment."""
    assert r.status == status, "expected status %d, got %s: %s" % (status, r.status, r.statusString)
    for f in fragments:
        assert f in (r.statusString or ""), "%r not in %r" % (f, r.statusString)


def still_usable(fs):
    """The connection answers after an error: a ping and a query."""
    ok(call(fs, "@Ping"), "@Ping")
    assert rows(adhoc(fs, "SELECT COUNT(*) FROM accounts")) is not None


def wait_for(what, predicate, seconds=10):
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting for " + what
        time.sleep(0.05)


def remarks(fs):
    """@SystemCatalog PROCEDURES: procedure name -> its REMARKS JSON."""
    t = ok(call(fs, "@SystemCatalog", [T.VOLTTYPE_STRING], ["PROCEDURES"])).tables[0]
    names = [c.name for c in t.columns]
    n, rm = names.index("PROCEDURE_NAME"), names.index("REMARKS")
    return {r[n]: json.loads(r[rm]) for r in t.tuples if r[rm]}


# -- legacy client: DDL, procedures, types, errors ------------------------------


def test_ddl_through_adhoc(port):
    fs = connect(port)
    ok(adhoc(fs, """
        CREATE TABLE accounts (id BIGINT NOT NULL, name VARCHAR(40) NOT NULL, balance DECIMAL,
                               PRIMARY KEY (id));
        PARTITION TABLE accounts ON COLUMN id;
        CREATE TABLE towns (code VARCHAR(8) NOT NULL PRIMARY KEY, name VARCHAR(40));
        CREATE TABLE scratch (x INTEGER);"""), "DDL batch")
    t = ok(call(fs, "@SystemCatalog", [T.VOLTTYPE_STRING], ["COLUMNS"])).tables[0]
    c = {col.name: i for i, col in enumerate(t.columns)}
    cols = {(r[c["TABLE_NAME"]], r[c["COLUMN_NAME"]]): r for r in t.tuples}
    assert cols[("ACCOUNTS", "ID")][c["REMARKS"]] == "PARTITION_COLUMN"
    assert cols[("ACCOUNTS", "BALANCE")][c["TYPE_NAME"]] == "DECIMAL"
    assert cols[("TOWNS", "CODE")][c["REMARKS"]] != "PARTITION_COLUMN"
    assert ("SCRATCH", "X") in cols
    ok(adhoc(fs, "DROP TABLE scratch"))
    fails(adhoc(fs, "SELECT * FROM scratch"), GRACEFUL_FAILURE, "SCRATCH")


def test_default_procedures(port):
    fs = connect(port)
    ins = [T.VOLTTYPE_BIGINT, T.VOLTTYPE_STRING, T.VOLTTYPE_DECIMAL]
    assert modified(call(fs, "ACCOUNTS.insert", ins, [1, "ann", D("10.5")])) == 1
    assert modified(call(fs, "accounts.INSERT", ins, [2, "bob", None])) == 1  # any case
    r = ok(call(fs, "ACCOUNTS.select", [T.VOLTTYPE_BIGINT], [1]))
    assert [c.name for c in r.tables[0].columns] == ["ID", "NAME", "BALANCE"]
    assert r.tables[0].tuples == [[1, "ann", D("10.5")]]
    upd = ins + [T.VOLTTYPE_BIGINT]  # every column, then the primary key
    assert modified(call(fs, "ACCOUNTS.update", upd, [1, "ann", D("11"), 1])) == 1
    assert modified(call(fs, "ACCOUNTS.update", upd, [99, "nobody", None, 99])) == 0
    assert modified(call(fs, "ACCOUNTS.upsert", ins, [2, "bobby", D("2")])) == 1
    assert modified(call(fs, "ACCOUNTS.upsert", ins, [3, "cy", None])) == 1
    assert rows(call(fs, "ACCOUNTS.select", [T.VOLTTYPE_BIGINT], [2])) == [[2, "bobby", D(2)]]
    assert rows(call(fs, "ACCOUNTS.select", [T.VOLTTYPE_BIGINT], [1]))[0][2] == D(11)
    assert modified(call(fs, "ACCOUNTS.delete", [T.VOLTTYPE_BIGINT], [3])) == 1
    assert modified(call(fs, "ACCOUNTS.delete", [T.VOLTTYPE_BIGINT], [3])) == 0
    assert rows(call(fs, "ACCOUNTS.select", [T.VOLTTYPE_BIGINT], [3])) == []
    # A replicated table: insert, update, upsert, delete, and (as VoltDB) no select.
    s2 = [T.VOLTTYPE_STRING] * 2
    assert modified(call(fs, "TOWNS.insert", s2, ["PAR", "Paris"])) == 1
    assert modified(call(fs, "TOWNS.update", s2 + [T.VOLTTYPE_STRING], ["PAR", "Paris!", "PAR"])) == 1
    assert modified(call(fs, "TOWNS.upsert", s2, ["LYS", "Lyon"])) == 1
    assert rows(adhoc(fs, "SELECT code, name FROM towns ORDER BY code")) == [
        ["LYS", "Lyon"], ["PAR", "Paris!"]]
    assert modified(call(fs, "TOWNS.delete", [T.VOLTTYPE_STRING], ["LYS"])) == 1
    fails(call(fs, "TOWNS.select", [T.VOLTTYPE_STRING], ["PAR"]), UNEXPECTED_FAILURE,
          "Procedure TOWNS.select was not found")


def test_ddl_procedures(port):
    fs = connect(port)
    ok(adhoc(fs, """
        CREATE PROCEDURE account_name PARTITION ON TABLE accounts COLUMN id
            AS SELECT name FROM accounts WHERE id = ?;
        CREATE PROCEDURE rename_account PARTITION ON TABLE accounts COLUMN id PARAMETER 1
            AS UPDATE accounts SET name = ? WHERE id = ?;
        CREATE PROCEDURE total_balance AS SELECT SUM(balance) AS total FROM accounts;
        CREATE PROCEDURE doomed AS SELECT 1 FROM accounts;"""), "CREATE PROCEDURE")
    assert rows(call(fs, "account_name", [T.VOLTTYPE_BIGINT], [1])) == [["ann"]]
    assert modified(call(fs, "RENAME_ACCOUNT", [T.VOLTTYPE_STRING, T.VOLTTYPE_BIGINT],
                         ["anne", 1])) == 1
    assert rows(call(fs, "account_name", [T.VOLTTYPE_BIGINT], [1])) == [["anne"]]
    total = ok(call(fs, "total_balance")).tables[0]
    assert total.columns[0].name == "TOTAL" and total.tuples == [[D(13)]], total
    # The partitioning metadata VoltClient routes by (names as declared).
    rm = remarks(fs)
    assert rm["account_name"]["singlePartition"] is True
    assert rm["account_name"]["partitionParameter"] == 0
    assert rm["account_name"]["partitionParameterType"] == T.VOLTTYPE_BIGINT
    assert rm["account_name"]["readOnly"] is True
    assert rm["rename_account"]["partitionParameter"] == 1
    assert rm["rename_account"]["readOnly"] is False
    assert rm["total_balance"]["singlePartition"] is False
    ok(adhoc(fs, "DROP PROCEDURE doomed"))
    fails(call(fs, "doomed"), UNEXPECTED_FAILURE, "Procedure doomed was not found")


# Column types of ALL_TYPES, in order, as the wire carries them.
TYPES = [T.VOLTTYPE_INTEGER, T.VOLTTYPE_TINYINT, T.VOLTTYPE_SMALLINT, T.VOLTTYPE_INTEGER,
         T.VOLTTYPE_BIGINT, T.VOLTTYPE_FLOAT, T.VOLTTYPE_DECIMAL, T.VOLTTYPE_STRING,
         T.VOLTTYPE_VARBINARY, T.VOLTTYPE_TIMESTAMP]
DT = datetime.datetime
MAX_DECIMAL = D("99999999999999999999999999.999999999999")  # 38 digits, 12 after the point
TYPE_ROWS = [
    # The extremes: TINYINT -127..127 and so on (each type's minimum is its NULL).
    [1, 127, 32767, 2147483647, 9223372036854775807, 1.7976931348623157e308, MAX_DECIMAL,
     "é" * 64, bytes(range(256)), DT(9999, 12, 31, 23, 59, 59)],
    [2, -127, -32767, -2147483647, -9223372036854775807, -1.5e308, -MAX_DECIMAL,
     "𝄞" * 64, b"\xff" * 256, DT(1583, 1, 1)],
    [3, None, None, None, None, None, None, None, None, None],
    [4, 0, 0, 0, 0, 0.0, D(0), "", b"", DT(1970, 1, 1)],
    [5, -1, 1, -1, 1, 5e-324, D("0.000000000001"), "héllo ✓ 𝄞 日本", b"\x00\xff",
     DT(1969, 12, 31, 23, 59, 59, 999999)],
    [6, 7, -300, 123456789, -5551234567, 0.1 + 0.2, D("-1234567.000000000001"),
     "quote ' and \" and \\ and NUL \x00", b"\x00", DT(2023, 11, 14, 22, 13, 20, 123456)],
]


def same_row(got, want):
    assert len(got) == len(want), got
    for g, w, ty in zip(got, want, TYPES):
        if ty == T.VOLTTYPE_VARBINARY and w is not None:
            g = bytes(g)  # VARBINARY reads back as array('B')
        if ty == T.VOLTTYPE_DECIMAL and w is not None:
            assert g.as_tuple().exponent == -12, g  # always 12 fractional digits
        assert g == w and type(g) is type(w), "%r != %r in %r" % (g, w, got)


def test_type_round_trips(port):
    fs = connect(port)
    ok(adhoc(fs, """
        CREATE TABLE all_types (id INTEGER NOT NULL PRIMARY KEY, ti TINYINT, si SMALLINT,
            i INTEGER, bi BIGINT, f FLOAT, d DECIMAL, v VARCHAR(64), vb VARBINARY(256),
            ts TIMESTAMP);
        PARTITION TABLE all_types ON COLUMN id;"""))
    for row in TYPE_ROWS:
        assert modified(call(fs, "ALL_TYPES.insert", TYPES, row), row[0]) == 1
    for row in TYPE_ROWS:
        r = ok(call(fs, "ALL_TYPES.select", [T.VOLTTYPE_INTEGER], [row[0]]))
        assert [c.type for c in r.tables[0].columns] == TYPES
        same_row(r.tables[0].tuples[0], row)
    got = rows(adhoc(fs, "SELECT * FROM all_types ORDER BY id"))
    for g, w in zip(got, TYPE_ROWS):
        same_row(g, w)
    # Each value as a typed @AdHoc parameter finds its row.
    for i, ty in enumerate(TYPES[1:], start=1):
        col = ["ti", "si", "i", "bi", "f", "d", "v", "vb", "ts"][i - 1]
        for row in TYPE_ROWS:
            if row[i] is None:
                continue
            found = rows(adhoc(fs, "SELECT id FROM all_types WHERE %s = ? ORDER BY id" % col,
                               [ty], [row[i]]), col)
            assert [row[0]] in found, (col, row[i], found)
    # TIMESTAMPs are UTC microseconds on the wire and in SQL.
    assert rows(adhoc(fs, "SELECT SINCE_EPOCH(MICROSECOND, ts) FROM all_types WHERE id IN (1, 2, 5, 6) ORDER BY id")) == [
        [253402300799000000], [-12212553600000000], [-1], [1700000000123456]]
    assert rows(adhoc(fs, "SELECT id FROM all_types WHERE ts = '2023-11-14 22:13:20.123456'")) == [[6]]
    # NULLs: typed NULL parameters and type NULL itself; each type's sentinel is NULL.
    ok(call(fs, "ALL_TYPES.insert", TYPES, [7, -128, -32768, -2147483648, -9223372036854775808,
                                            None, None, None, None, None]))
    ok(call(fs, "ALL_TYPES.insert", [T.VOLTTYPE_INTEGER] + [T.VOLTTYPE_NULL] * 9, [8] + [None] * 9))
    for k in (7, 8):
        same_row(rows(call(fs, "ALL_TYPES.select", [T.VOLTTYPE_INTEGER], [k]))[0], [k] + [None] * 9)
    assert rows(adhoc(fs, "SELECT COUNT(*) FROM all_types WHERE ti IS NULL AND d IS NULL")) == [[3]]
    # Past the limits: refused with a message, nothing stored.
    base = [9, 0, 0, 0, 0, 0.0, D(0), "", b"", None]
    for col, value in [(1, 128), (2, 32768), (3, 2147483648)]:
        r = call(fs, "ALL_TYPES.insert", TYPES[:col] + [T.VOLTTYPE_BIGINT] + TYPES[col + 1:],
                 base[:col] + [value] + base[col + 1:])
        fails(r, GRACEFUL_FAILURE)
        assert str(value) in r.statusString, r.statusString
    fails(call(fs, "ALL_TYPES.insert", TYPES, base[:7] + ["x" * 65] + base[8:]), GRACEFUL_FAILURE,
          "VARCHAR(64)")
    fails(call(fs, "ALL_TYPES.insert", TYPES, base[:8] + [b"x" * 257] + base[9:]), GRACEFUL_FAILURE,
          "VARBINARY(256)")
    fails(adhoc(fs, "INSERT INTO all_types (id, d) VALUES (9, 100000000000000000000000000)"),
          GRACEFUL_FAILURE)
    assert rows(call(fs, "ALL_TYPES.select", [T.VOLTTYPE_INTEGER], [9])) == []


def test_errors_leave_the_connection_usable(port):
    fs = connect(port)
    checks = [
        (adhoc(fs, "SELEC 1"), ["syntax error"]),
        (adhoc(fs, "SELECT nope FROM accounts"), ["NOPE"]),
        (adhoc(fs, "SELECT * FROM no_such_table"), ["NO_SUCH_TABLE"]),
        (call(fs, "ACCOUNTS.insert", [T.VOLTTYPE_BIGINT, T.VOLTTYPE_STRING, T.VOLTTYPE_DECIMAL],
              [1, "dup", None]), ["CONSTRAINT VIOLATION", "ACCOUNTS"]),
        (call(fs, "ACCOUNTS.insert", [T.VOLTTYPE_BIGINT, T.VOLTTYPE_STRING, T.VOLTTYPE_DECIMAL],
              [50, None, None]), ["NAME"]),
        (call(fs, "ACCOUNTS.select"), ["EXPECTS 1 PARAMS, BUT RECEIVED 0"]),
        (call(fs, "account_name", [T.VOLTTYPE_BIGINT] * 2, [1, 2]),
         ["EXPECTS 1 PARAMS, BUT RECEIVED 2"]),
        (call(fs, "ACCOUNTS.select", [T.VOLTTYPE_STRING], ["not a number"]), []),
    ]
    for r, fragments in checks:
        fails(r, GRACEFUL_FAILURE, *fragments)
        still_usable(fs)
    # An unknown procedure is UNEXPECTED_FAILURE, as VoltDB answers it.
    for name in ["NoSuchProc", "@NoSuchSysproc"]:
        fails(call(fs, name), UNEXPECTED_FAILURE, "Procedure %s was not found" % name)
        still_usable(fs)
    assert rows(call(fs, "ACCOUNTS.select", [T.VOLTTYPE_BIGINT], [50])) == []
    assert rows(call(fs, "ACCOUNTS.select", [T.VOLTTYPE_BIGINT], [1]))[0][1] == "anne"


# -- the topology-aware client ----------------------------------------------------


def topology_client(port, **kw):
    c = VoltClient(hosts=["127.0.0.1"], port=port, procedure_timeout=30, **kw)
    # Discovery ran in the constructor; the procedures push follows DDL (@Subscribe).
    return c


def test_voltclient_discovers_topology_and_routes(port):
    with topology_client(port) as c:
        topo = c.topology
        assert list(topo.hosts) == [0], topo.hosts
        assert topo.hosts[0].ip == "127.0.0.1" and topo.hosts[0].client_port == port
        assert sorted(topo.partitions) == [0, 1, 16383], topo.partitions
        assert topo.hashinator is not None
        ok(c.call("@AdHoc", [VoltType.STRING], ["""
            CREATE TABLE kv (k BIGINT NOT NULL PRIMARY KEY, v VARCHAR(20));
            PARTITION TABLE kv ON COLUMN k;
            CREATE PROCEDURE kv_rows PARTITION ON TABLE kv COLUMN k
                AS SELECT k FROM kv WHERE k <> ? OR k IS NOT NULL;
            CREATE PROCEDURE kv_count_below PARTITION ON TABLE kv COLUMN k
                AS SELECT COUNT(*) FROM kv WHERE (k <> ? OR k IS NOT NULL) AND k < ?;"""]))
        # The server pushes the new procedures to the subscribed connection.
        wait_for("the procedures push", lambda: "kv_count_below" in c.topology.procedures)
        info = c.topology.procedures["KV.insert"]
        assert info.single_partition and info.partition_param == 0
        assert info.partition_param_type == VoltType.BIGINT

        # 2000 calls in flight at once, answered by handle.
        futures = [c.call_async("KV.insert", [VoltType.BIGINT, VoltType.STRING], [k, "v%d" % k])
                   for k in range(2000)]
        for f in futures:
            assert modified(f.result()) == 1
        stats = c.affinity_stats()
        assert sum(s.affinity_sends for s in stats.values()) >= 2000, stats
        # Mixed successes and failures in flight: each answer belongs to its own call.
        mixed = []
        for k in range(2000):
            if k % 2:
                mixed.append((k, c.call_async("KV.select", [VoltType.BIGINT], [k])))
            else:
                mixed.append((k, c.call_async("KV.insert", [VoltType.BIGINT, VoltType.STRING], [k, "again"])))
        for k, f in mixed:
            r = f.result()
            if k % 2:
                assert rows(r) == [[k, "v%d" % k]], (k, r.tables[0].tuples)
            else:
                fails(r, GRACEFUL_FAILURE, "CONSTRAINT VIOLATION")

        # The client's hashing agrees with the server's: the server's key for each partition ...
        for vtype, name in [(VoltType.INTEGER, "INTEGER"), (VoltType.STRING, "VARCHAR"),
                            (VoltType.VARBINARY, "VARBINARY")]:
            keys = rows(c.call("@GetPartitionKeys", [VoltType.STRING], [name]))
            assert sorted(p for p, _ in keys) == [0, 1], keys
            for partition, key in keys:
                key = bytes(key) if vtype == VoltType.VARBINARY else key
                assert c.get_partition_for_parameter(vtype, key) == partition, (name, key)
        # ... and every stored row sits in the partition the client computes for it.
        legs = c.call_all_partitions("kv_rows")
        assert [leg.partition_id for leg in legs] == [0, 1]
        seen = []
        for leg in legs:
            assert leg.ok, (leg.error, leg.response and leg.response.statusString)
            for (k,) in leg.response.tables[0].tuples:
                assert c.get_partition_for_parameter(VoltType.BIGINT, k) == leg.partition_id, k
                seen.append(k)
        assert sorted(seen) == list(range(2000))
        assert all(len(leg.response.tables[0].tuples) > 500 for leg in legs)

        # An all-partition call with a parameter after the partition key.
        legs = c.call_all_partitions("kv_count_below", [VoltType.BIGINT], [1000])
        assert all(leg.ok for leg in legs), [leg.response.statusString for leg in legs]
        assert sum(leg.response.tables[0].tuples[0][0] for leg in legs) == 1000
        assert ok(c.call("@Ping")).clientHandle > 0


def test_bulk_loader(port):
    with topology_client(port) as c:
        ok(c.call("@AdHoc", [VoltType.STRING], ["""
            CREATE TABLE loaded (id BIGINT NOT NULL PRIMARY KEY, name VARCHAR(20), amount DECIMAL,
                                 at TIMESTAMP, raw VARBINARY(8), f FLOAT, tiny TINYINT);
            PARTITION TABLE loaded ON COLUMN id;
            CREATE TABLE loaded_rep (id INTEGER NOT NULL, label VARCHAR(10));"""]))
        # The loader reads the table's columns from @SystemCatalog COLUMNS when created.
        failures = []

        def load(table, rows_, **kw):
            with VoltBulkLoader(c, table, failure_callback=lambda f, o: failures.append((f, o)),
                                **kw) as loader:
                loader.insert_rows(rows_)
            return loader

        at = DT(2024, 2, 29, 12, 0, 0, 1)
        loader = load("loaded", ([k, "n%d" % k, D(k) / 4, at, k.to_bytes(8, "big"), k / 3, k % 100]
                                 for k in range(5000)), batch_size=500)
        assert (loader.completed_row_count, loader.failed_row_count) == (5000, 0), failures
        loader = load("LOADED_REP", ([k, "r%d" % k] for k in range(1000)), batch_size=300)
        assert (loader.completed_row_count, loader.failed_row_count) == (1000, 0), failures

        def one(sql):
            return rows(c.call("@AdHoc", [VoltType.STRING], [sql]))[0]

        assert one("SELECT COUNT(*), SUM(id), SUM(amount) FROM loaded") == [
            5000, sum(range(5000)), D(sum(range(5000))) / 4]
        assert one("SELECT COUNT(*), SUM(id) FROM loaded_rep") == [1000, sum(range(1000))]
        got = rows(c.call("LOADED.select", [VoltType.BIGINT], [4321]))[0]
        assert got[:4] == [4321, "n4321", D("1080.25"), at] and bytes(got[4]) == (4321).to_bytes(8, "big")
        assert got[5:] == [4321 / 3, 21], got
        # Upsert replaces rows; in insert mode a duplicate fails alone (the batch is retried
        # row by row) and the other rows load.
        loader = load("loaded", ([k, "up", None, None, None, None, None] for k in range(100)), upsert=True)
        assert (loader.completed_row_count, loader.failed_row_count) == (100, 0), failures
        loader = load("loaded", [[k, "new", None, None, None, None, None] for k in range(5000, 5099)]
                      + [[7, "dup", None, None, None, None, None]], batch_size=1000)
        assert (loader.completed_row_count, loader.failed_row_count) == (99, 1)
        assert len(failures) == 1 and failures[0][0][0] == 7, failures
        fails(failures[0][1], GRACEFUL_FAILURE, "CONSTRAINT VIOLATION")
        assert one("SELECT COUNT(*) FROM loaded") == [5099]
        assert one("SELECT COUNT(*) FROM loaded WHERE name = 'up'") == [100]


# -- security -------------------------------------------------------------------


class Sha1Serializer(FastSerializer):
    """FastSerializer logging in with a SHA-1 digest: the client itself always sends SHA-256,
    older VoltDB clients (and Java with ClientAuthScheme.HASH_SHA1) send SHA-1. Login
    version 0 implies SHA-1; version 1 names it with scheme byte 0."""

    login_version = 1

    def authenticate(self, username, password):
        self.writeByte(self.login_version)
        if self.login_version == 1:
            self.writeByte(0)  # scheme 0: SHA-1
        self.writeString("database")
        self.writeString(username)
        self.wbuf.extend(hashlib.sha1(password.encode("utf-8")).digest())
        self.prependLength()
        self.flush()
        self.bufferForRead()
        version, status = self.readByte(), self.readByte()
        if version != 0 or status != 0:
            raise RuntimeError("Authentication failed.")
        self.hostId = self.readInt32()


class Sha1Version0(Sha1Serializer):
    login_version = 0


def refused(make):
    try:
        make()
    except (RuntimeError, VoltConnectionError) as e:
        assert "Authentication failed." in str(e), e
        return
    raise AssertionError("login was accepted")


def test_security(secure_port):
    refused(lambda: connect(secure_port, username="admin", password="wrong"))
    refused(lambda: connect(secure_port, username="nobody", password="secret"))
    refused(lambda: connect(secure_port))  # no user at all
    refused(lambda: VoltClient(hosts=["127.0.0.1"], port=secure_port, username="admin",
                               password="wrong"))
    admin = connect(secure_port, username="admin", password="secret")
    ok(adhoc(admin, """CREATE TABLE notes (id INTEGER NOT NULL PRIMARY KEY, body VARCHAR(20));
                       PARTITION TABLE notes ON COLUMN id;"""))
    app = connect(secure_port, username="app", password=SECURE_USERS["app"])
    ok(call(app, "NOTES.insert", [T.VOLTTYPE_INTEGER, T.VOLTTYPE_STRING], [1, "hello"]))
    for cls in (Sha1Serializer, Sha1Version0):
        fs = cls("127.0.0.1", secure_port, username="app", password=SECURE_USERS["app"])
        assert rows(call(fs, "NOTES.select", [T.VOLTTYPE_INTEGER], [1])) == [[1, "hello"]]
        refused(lambda: cls("127.0.0.1", secure_port, username="app", password="secret"))
    with VoltClient(hosts=["127.0.0.1"], port=secure_port, username="admin", password="secret") as c:
        assert c.topology.hashinator is not None  # discovery works with security on
        assert rows(c.call("NOTES.select", [VoltType.INTEGER], [1])) == [[1, "hello"]]


# -------------------------------------------------------------------------------------


def main():
    port, secure_port = int(sys.argv[1]), int(sys.argv[2])
    print("voltdbclient from", voltdbclient.__file__)
    tests = [
        (test_ddl_through_adhoc, port),
        (test_default_procedures, port),
        (test_ddl_procedures, port),
        (test_type_round_trips, port),
        (test_errors_leave_the_connection_usable, port),
        (test_voltclient_discovers_topology_and_routes, port),
        (test_bulk_loader, port),
        (test_security, secure_port),
    ]
    failed = []
    for test, arg in tests:
        start = time.monotonic()
        try:
            test(arg)
            print("ok    %-50s %.2fs" % (test.__name__, time.monotonic() - start))
        except Exception:
            failed.append(test.__name__)
            print("FAIL  %s\n%s" % (test.__name__, traceback.format_exc()))
    print("%d passed, %d failed %s" % (len(tests) - len(failed), len(failed), failed or ""))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
