-- The session participants list pages in the database in each of its orders, at a cost that
-- does not grow with the session:
--   by join: an index seek on (session_id, joined_at, id);
--   by duration: at one moment every peer still accruing (live and connected) has the
--   duration now - joined_at, so their order by duration is their order by join, reversed;
--   every other peer (left, or dropped) has a fixed duration, COALESCE(left_at, dropped_at)
--   - joined_at. A page is the merge of the first rows of the two indexes below.
DROP INDEX peers_session;
CREATE INDEX peers_session ON peers(session_id, joined_at, id);
CREATE INDEX peers_accruing ON peers(session_id, joined_at DESC, id)
    WHERE left_at IS NULL AND dropped_at IS NULL;
CREATE INDEX peers_closed ON peers(session_id, (COALESCE(left_at, dropped_at) - joined_at), id)
    WHERE left_at IS NOT NULL OR dropped_at IS NOT NULL;
