-- Finished deliveries by when they were created: the worker forgets them
-- after ports.WebhookRetention, the oldest first, a batch at a time.
CREATE INDEX webhook_deliveries_finished ON webhook_deliveries (created_at, id) WHERE status <> 'pending';
