-- Every order, newest first: the back office's list across customers.
CREATE INDEX orders_by_created ON orders (created_at, id);
