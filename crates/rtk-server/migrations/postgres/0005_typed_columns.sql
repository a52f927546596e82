-- PostgreSQL only: flags become BOOLEAN. SQLite has no boolean type and keeps INTEGER 0/1;
-- the store's SQL reads and writes both through TRUE / FALSE literals and bool parameters.
DROP INDEX signing_keys_one_active;
ALTER TABLE signing_keys ALTER COLUMN active TYPE BOOLEAN USING active <> 0;
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys(active) WHERE active;
ALTER TABLE peers ALTER COLUMN connected TYPE BOOLEAN USING connected <> 0;
