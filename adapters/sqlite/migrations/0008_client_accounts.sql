-- Points accounts are named per client: client C's account "1234" is the
-- stream "C/1234", and its idempotency keys are stored as "C/<key>", so two
-- clients naming the same account or key never meet. Before, an account
-- belonged to the client recorded in account_owners (its first writer's,
-- or its user's); one nobody had claimed was the store's, UnicornStore
-- (the default store client). Names already holding "/" are new ones.
CREATE TEMP TABLE account_streams AS
SELECT old, COALESCE((SELECT client FROM account_owners o WHERE o.account = old), 'UnicornStore') || '/' || old AS new
FROM (
    SELECT account AS old FROM ledger_events WHERE instr(account, '/') = 0
    UNION SELECT account FROM idempotency_keys WHERE instr(account, '/') = 0
    UNION SELECT account FROM point_balances WHERE instr(account, '/') = 0
    UNION SELECT account FROM point_snapshots WHERE instr(account, '/') = 0
);

UPDATE ledger_events SET account = s.new FROM account_streams s WHERE ledger_events.account = s.old;
UPDATE idempotency_keys SET key = substr(s.new, 1, instr(s.new, '/')) || key, account = s.new
FROM account_streams s WHERE idempotency_keys.account = s.old;
UPDATE point_balances SET account = s.new FROM account_streams s WHERE point_balances.account = s.old;
UPDATE point_lots SET account = s.new FROM account_streams s WHERE point_lots.account = s.old;
UPDATE point_snapshots SET account = s.new FROM account_streams s WHERE point_snapshots.account = s.old;
-- Ledger events not yet delivered to the read model carry their account.
UPDATE outbox SET key = s.new, payload = CAST(json_set(CAST(payload AS TEXT), '$.account', s.new) AS BLOB)
FROM account_streams s WHERE outbox.topic = 'points.ledger' AND outbox.key = s.old;

DROP TABLE account_streams;

-- Which client an account belongs to is now part of its name: the table
-- that recorded the first client to write to it has no use left.
DROP TABLE account_owners;
