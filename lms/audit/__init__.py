"""The audit log: an append-only record of security events and administrative changes."""
