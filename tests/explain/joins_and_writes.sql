-- Joins (hash join, index nested-loop join), two-phase aggregation, and UPDATE / DELETE
-- by primary key.
CREATE TABLE orders (id INTEGER NOT NULL, cust INTEGER NOT NULL, amount FLOAT, PRIMARY KEY (id));
PARTITION TABLE orders ON COLUMN id;
CREATE INDEX orders_cust ON orders (cust);
CREATE TABLE customers (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(8), tier INTEGER);
INSERT INTO orders VALUES
(1, 2, 1.5),(2, 3, 3.0),(3, 4, 4.5),(4, 5, 6.0),(5, 6, 7.5),(6, 7, 9.0),(7, 8, 10.5),(8, 1, 12.0),(9, 2, 13.5),(10, 3, 15.0),(11, 4, 16.5),(12, 5, 18.0),(13, 6, 19.5),(14, 7, 21.0),(15, 8, 22.5),(16, 1, 24.0),(17, 2, 25.5),(18, 3, 27.0),(19, 4, 28.5),(20, 5, 30.0),(21, 6, 31.5),(22, 7, 33.0),(23, 8, 34.5),(24, 1, 36.0),(25, 2, 37.5),(26, 3, 39.0),(27, 4, 40.5),(28, 5, 42.0),(29, 6, 43.5),(30, 7, 45.0),(31, 8, 46.5),(32, 1, 48.0),(33, 2, 49.5),(34, 3, 51.0),(35, 4, 52.5),(36, 5, 54.0),(37, 6, 55.5),(38, 7, 57.0),(39, 8, 58.5),(40, 1, 60.0);
INSERT INTO customers VALUES
(1, 'n1', 1),
(2, 'n2', 2),
(3, 'n3', 0),
(4, 'n4', 1),
(5, 'n5', 2),
(6, 'n6', 0),
(7, 'n7', 1),
(8, 'n8', 2);

-- a small filtered left side probes the big table's index: index nested-loop join
EXPLAIN SELECT c.name, o.amount FROM customers c JOIN orders o ON o.cust = c.id WHERE c.id = 3;
EXPLAIN SELECT c.name, o.amount FROM customers c JOIN orders o ON o.id = c.id WHERE c.tier = 1;
-- comparable sizes: hash join
EXPLAIN SELECT c.name, o.amount FROM customers c JOIN orders o ON o.amount = c.tier;
-- outer joins: a WHERE on the preserved side reaches that side's scan (and its index); one on
-- the side that may be NULL-extended stays above the join
EXPLAIN SELECT c.name, o.amount FROM customers c LEFT JOIN orders o ON o.cust = c.id WHERE c.id = 3;
EXPLAIN SELECT c.name, o.amount FROM customers c LEFT JOIN orders o ON o.cust = c.id WHERE o.id IS NULL;
-- aggregation: partial per partition, merged at the coordinator
EXPLAIN SELECT cust, COUNT(*), SUM(amount) FROM orders GROUP BY cust;
EXPLAIN SELECT COUNT(*) FROM orders WHERE id = 4;
-- a correlated subquery probing an index
EXPLAIN SELECT name FROM customers c WHERE EXISTS (SELECT 1 FROM orders o WHERE o.cust = c.id AND o.amount > 50);
-- writes find their rows through the primary key
EXPLAIN UPDATE orders SET amount = 0 WHERE id = 5;
EXPLAIN DELETE FROM orders WHERE id = 6;
EXPLAIN DELETE FROM customers WHERE id = 6;
EXPLAIN UPDATE orders SET amount = amount + 1 WHERE cust = 2;
EXPLAIN INSERT INTO orders VALUES (100, 1, 2.0);
