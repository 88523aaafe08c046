-- The source of examples/cdc: app.accounts with 50,000 rows, a quarter of them with a long
-- `notes` value that PostgreSQL stores out of line (TOAST), so that updates which leave it alone
-- send it as "unchanged".
CREATE SCHEMA IF NOT EXISTS app;
DROP TABLE IF EXISTS app.accounts;
CREATE TABLE app.accounts (
    id bigint PRIMARY KEY,
    email text NOT NULL,
    balance bigint NOT NULL,
    notes text,
    updated_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE app.accounts ALTER COLUMN notes SET STORAGE EXTERNAL;
INSERT INTO app.accounts (id, email, balance, notes)
SELECT g, 'user' || g || '@example.com', g * 10,
       CASE WHEN g % 4 = 0 THEN repeat('n', 3000) || ' #' || g END
FROM generate_series(1, 50000) g;
