-- Sample source data for examples/postgres: an application's orders table, updated in place.
CREATE SCHEMA IF NOT EXISTS app;
CREATE SCHEMA IF NOT EXISTS analytics;   -- the target; runnel creates its tables
CREATE TABLE IF NOT EXISTS app.orders (
  order_id   bigint PRIMARY KEY,
  customer   text NOT NULL,
  status     text NOT NULL,
  amount     numeric(12,2) NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS orders_updated_at_order_id ON app.orders (updated_at, order_id);
INSERT INTO app.orders (order_id, customer, status, amount, updated_at)
SELECT g, 'customer ' || (g % 100), (ARRAY['pending','paid','shipped'])[1 + g % 3], (g % 500) * 1.5,
       timestamptz '2024-01-01' + (g / 10) * interval '1 hour'
FROM generate_series(1, 10000) g
ON CONFLICT DO NOTHING;
