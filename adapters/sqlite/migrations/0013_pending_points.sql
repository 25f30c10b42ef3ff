-- Points a purchase earned stay pending through its return window: a lot
-- keeps them apart from what can be spent, with the day they mature, and
-- a balance keeps their sum beside the sum of what remains.
ALTER TABLE point_lots ADD COLUMN pending INTEGER NOT NULL DEFAULT 0 CHECK (pending >= 0);
ALTER TABLE point_lots ADD COLUMN matures_on TEXT NOT NULL DEFAULT '';
ALTER TABLE point_balances ADD COLUMN pending INTEGER NOT NULL DEFAULT 0;
