-- A balance keeps the sum of its lots' remaining points, and lots with
-- points left are indexed by expiry, so a balance is read from a few rows
-- however long the account's history (GET /points on ten years of lots).
ALTER TABLE point_balances ADD COLUMN remaining INTEGER NOT NULL DEFAULT 0;
UPDATE point_balances SET remaining = (SELECT COALESCE(SUM(l.remaining), 0) FROM point_lots l WHERE l.account = point_balances.account);
CREATE INDEX point_lots_live ON point_lots (account, expires_on, remaining) WHERE remaining > 0;
