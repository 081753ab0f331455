"""The gradebook of a course: one row per enrolled student, as JSON pages or a streamed CSV."""
