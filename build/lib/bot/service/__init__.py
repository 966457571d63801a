"""The process: the web layer (verify, deduplicate, persist, answer), the server that composes it,
the workers, the durable store, scheduled rechecks, the audit log, latency figures and settings."""
