"""psycopg 3 against voltrs's PostgreSQL port, with psycopg's default settings: not
autocommit (psycopg sends BEGIN before the first statement), server-side parameters in the
extended protocol, executemany. Run by crates/voltrs/tests/pg_drivers.rs with the port."""

import datetime
import decimal
import sys

import psycopg

port = int(sys.argv[1])
conn = psycopg.connect(host="127.0.0.1", port=port, user="tester", dbname="voltrs")
assert not conn.autocommit
cur = conn.cursor()

cur.execute(
    "CREATE TABLE p (id BIGINT NOT NULL PRIMARY KEY, name VARCHAR(20), d DECIMAL, "
    "ts TIMESTAMP, b VARBINARY(8), f FLOAT, t TINYINT)"
)
cur.execute("PARTITION TABLE p ON COLUMN id")
row = (1, "héllo", decimal.Decimal("-1.5"), datetime.datetime(2024, 1, 2, 3, 4, 5, 678000),
       b"\x00\xff", 2.5, -127)
cur.execute("INSERT INTO p VALUES (%s, %s, %s, %s, %s, %s, %s)", row)
assert cur.statusmessage == "INSERT 0 1", cur.statusmessage
assert cur.rowcount == 1
cur.executemany("INSERT INTO p (id, name) VALUES (%s, %s)", [(i, "n%d" % i) for i in range(2, 12)])
conn.commit()

cur.execute("SELECT id, name, d, ts, b, f, t FROM p WHERE id = %s", (1,))
got = cur.fetchone()
assert got == (1, "héllo", decimal.Decimal("-1.500000000000"),
               datetime.datetime(2024, 1, 2, 3, 4, 5, 678000), b"\x00\xff", 2.5, -127), got
assert [d.name for d in cur.description] == ["id", "name", "d", "ts", "b", "f", "t"]

cur.execute("SELECT id, name FROM p WHERE id > %s ORDER BY id LIMIT 2", (8,))
assert cur.fetchall() == [(9, "n9"), (10, "n10")]
cur.execute("SELECT name, d FROM p WHERE id = %s", (5,))
assert cur.fetchone() == ("n5", None)

cur.execute("UPDATE p SET name = %s WHERE id < %s", ("low", 4))
assert cur.statusmessage == "UPDATE 3", cur.statusmessage
cur.execute("DELETE FROM p WHERE id >= %s", (10,))
assert cur.rowcount == 2
conn.commit()

# A constraint violation: the error has its SQLSTATE, and a rollback after only a failed
# write is accepted.
try:
    cur.execute("INSERT INTO p (id, name) VALUES (%s, %s)", (1, "dup"))
    raise AssertionError("duplicate accepted")
except psycopg.errors.UniqueViolation as e:
    assert e.sqlstate == "23505"
conn.rollback()

# A rollback after a write in the block cannot undo it, and says so.
cur.execute("INSERT INTO p (id, name) VALUES (%s, %s)", (100, "kept"))
try:
    conn.rollback()
    raise AssertionError("rollback after a write accepted")
except psycopg.Error as e:
    assert "ROLLBACK cannot undo statements that already committed" in str(e), e
    assert "INSERT INTO p (id, name) VALUES" in str(e), e

with psycopg.connect(host="127.0.0.1", port=port, user="tester", autocommit=True) as c2:
    n = c2.execute("SELECT COUNT(*) FROM p").fetchone()[0]
    assert n == 10, n  # 9 left after the delete, plus the row the rollback could not undo
    assert c2.execute("SELECT name FROM p WHERE id = 100").fetchone() == ("kept",)

print("psycopg: all checks passed")
