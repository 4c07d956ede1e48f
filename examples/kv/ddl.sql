-- VoltDB's key-value example (VoltDB/voltdb: examples/voltkv) for voltrs.
--
-- A key-value store: values of any bytes by string key, read with Get and written with Put.
-- Load with `voltrs sql < examples/kv/ddl.sql` against a running `voltrs start`;
-- README.md next to this file walks through it. `voltrs bench kv` embeds this file and
-- loads it itself when the table or the procedures are missing.

-- Partitioned on the key: each Get and Put runs in the one partition that holds its key.
CREATE TABLE store (
  key   VARCHAR(250)       NOT NULL,
  value VARBINARY(1048576) NOT NULL,
  PRIMARY KEY (key)
);
PARTITION TABLE store ON COLUMN key;

-- Get(key): the key and its value; no row if the key is not stored.
CREATE PROCEDURE Get PARTITION ON TABLE store COLUMN key AS
  SELECT key, value FROM store WHERE key = ?;

-- Put(key, value): stores the value, replacing the key's old one if it has one (VoltDB's
-- Put reads the key, then updates or inserts; UPSERT does both in one statement).
CREATE PROCEDURE Put PARTITION ON TABLE store COLUMN key AS
  UPSERT INTO store (key, value) VALUES (?, ?);
