"""Incremental sync: `GET /changes`, the ids created, updated and deleted since a time, per type.

The lists' own sync parameters (`updated_since`, `after`) are shared by every module in
`lms.core.pagination`; the tombstones of deletions in `lms.core.tombstones`.
"""
