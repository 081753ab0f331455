"""Mechanisms every module shares: errors, auth, permissions, pagination, cache, jobs, mail, storage."""
