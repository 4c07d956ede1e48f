-- Access paths of one table: primary-key lookup (one partition pinned), ranges, IN lists,
-- ORDER BY ... LIMIT through an index (ascending and descending), partial and expression
-- indexes, a hash index, and the sequential scans they replace.
CREATE TABLE orders (id INTEGER NOT NULL, cust INTEGER NOT NULL, tag VARCHAR(4), amount FLOAT, PRIMARY KEY (id));
PARTITION TABLE orders ON COLUMN id;
CREATE INDEX orders_cust_id ON orders (cust, id);
CREATE INDEX orders_tag_hash ON orders (tag);
CREATE INDEX orders_abs ON orders (ABS(amount));
CREATE TABLE region (code INTEGER NOT NULL PRIMARY KEY, name VARCHAR(8));
-- A partial index: statements on this table keep their literals in the plan cache, so the
-- predicate can be matched.
CREATE TABLE payments (id INTEGER NOT NULL PRIMARY KEY, amount FLOAT);
PARTITION TABLE payments ON COLUMN id;
CREATE INDEX payments_big ON payments (amount) WHERE amount > 50;
INSERT INTO payments VALUES (1, 10.0), (2, 60.0), (3, 52.5);
INSERT INTO orders VALUES
(1, 1, 'c1', 1.5),
(2, 2, 'c2', 3.0),
(3, 3, 'c3', 4.5),
(4, 4, 'c4', 6.0),
(5, 5, 'c0', 7.5),
(6, 6, 'c1', 9.0),
(7, 0, 'c2', 10.5),
(8, 1, 'c3', 12.0),
(9, 2, 'c4', 13.5),
(10, 3, 'c0', 15.0),
(11, 4, 'c1', 16.5),
(12, 5, 'c2', 18.0),
(13, 6, 'c3', 19.5),
(14, 0, 'c4', 21.0),
(15, 1, 'c0', 22.5),
(16, 2, 'c1', 24.0),
(17, 3, 'c2', 25.5),
(18, 4, 'c3', 27.0),
(19, 5, 'c4', 28.5),
(20, 6, 'c0', 30.0),
(21, 0, 'c1', 31.5),
(22, 1, 'c2', 33.0),
(23, 2, 'c3', 34.5),
(24, 3, 'c4', 36.0),
(25, 4, 'c0', 37.5),
(26, 5, 'c1', 39.0),
(27, 6, 'c2', 40.5),
(28, 0, 'c3', 42.0),
(29, 1, 'c4', 43.5),
(30, 2, 'c0', 45.0),
(31, 3, 'c1', 46.5),
(32, 4, 'c2', 48.0),
(33, 5, 'c3', 49.5),
(34, 6, 'c4', 51.0),
(35, 0, 'c0', 52.5),
(36, 1, 'c1', 54.0),
(37, 2, 'c2', 55.5),
(38, 3, 'c3', 57.0),
(39, 4, 'c4', 58.5),
(40, 5, 'c0', 60.0);

-- primary-key equality: unique index lookup, one partition
EXPLAIN SELECT * FROM orders WHERE id = 7;
-- the same key on a replicated table: its local copy
EXPLAIN SELECT name FROM region WHERE code = 3;
-- a range on an index
EXPLAIN SELECT id FROM orders WHERE id > 10 AND id <= 20;
EXPLAIN SELECT id FROM orders WHERE cust = 2 AND id BETWEEN 5 AND 30;
-- an IN list
EXPLAIN SELECT * FROM orders WHERE id IN (3, 5, 5, NULL);
EXPLAIN SELECT id FROM orders WHERE cust IN (1, 4);
-- ORDER BY ... LIMIT walks an index, ascending and descending
EXPLAIN SELECT id FROM orders ORDER BY id LIMIT 3;
EXPLAIN SELECT id FROM orders ORDER BY id DESC LIMIT 3;
EXPLAIN SELECT id FROM orders WHERE cust = 3 ORDER BY id DESC LIMIT 2;
-- hash, expression and partial indexes
EXPLAIN SELECT id FROM orders WHERE tag = 'c1';
EXPLAIN SELECT id FROM orders WHERE ABS(amount) = 3;
EXPLAIN SELECT id FROM payments WHERE amount > 50 AND amount < 55;
EXPLAIN SELECT id FROM payments WHERE amount > 40 AND amount < 55;
EXPLAIN SELECT id FROM payments WHERE id = 2;
-- no usable index: every partition scanned, merged at the coordinator
EXPLAIN SELECT id FROM orders WHERE amount < 10;
EXPLAIN SELECT id FROM orders WHERE tag > 'c1';
-- mixed-type probes
EXPLAIN SELECT id FROM orders WHERE id = 2.0;
EXPLAIN SELECT id FROM orders WHERE cust > 1.5 AND cust < 3;
