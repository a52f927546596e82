-- The delivery log's retention sweep finds finished deliveries by when they finished.
CREATE INDEX webhook_outbox_done ON webhook_outbox(done_at) WHERE done_at IS NOT NULL;
