"""Personal data: a user's export (a ZIP of everything about them) and erasure of an account."""
