-- Livestream recordings (issue 13): an ingest can be stored as FLV through the recordings
-- storage; its key is set when the ingest starts (the file grows as the ingest runs).
ALTER TABLE livestream_sessions ADD COLUMN recording_key TEXT;
