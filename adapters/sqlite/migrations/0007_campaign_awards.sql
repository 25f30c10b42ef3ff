-- Points each campaign gave per client and UTC day, from PurchaseCompleted:
-- a read model beside sales_tallies, counted once per order with it (the
-- same sales_orders row).
CREATE TABLE campaign_awards (
    client        TEXT    NOT NULL,
    day           TEXT    NOT NULL, -- YYYY-MM-DD, UTC
    campaign_name TEXT    NOT NULL,
    points        INTEGER NOT NULL,
    orders        INTEGER NOT NULL,
    PRIMARY KEY (client, day, campaign_name)
) WITHOUT ROWID;

-- The orders counted before this table existed will not be recorded again:
-- fill their part from their award breakdown. Their completion time
-- (updated_at, UTC) stands for the event's, published right after it.
INSERT INTO campaign_awards (client, day, campaign_name, points, orders)
SELECT client, day, campaign_name, SUM(points), COUNT(*)
FROM (
    SELECT COALESCE(json_extract(o.data, '$.client'), '') AS client,
           SUBSTR(COALESCE(json_extract(o.data, '$.updated_at'), ''), 1, 10) AS day,
           COALESCE(json_extract(a.value, '$.campaign_name'), '') AS campaign_name,
           COALESCE(SUM(json_extract(a.value, '$.points')), 0) AS points
    FROM orders o
    JOIN sales_orders s ON s.order_id = o.id
    JOIN json_each(o.data, '$.award') a
    WHERE o.status = 'completed'
    GROUP BY o.id, campaign_name
)
GROUP BY client, day, campaign_name;
