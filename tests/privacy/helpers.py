"""Constants for the personal data tests."""

# The bytes of the learner's upload: a PDF whose text names her (see tests/privacy/conftest.py).
PDF = b"%PDF-1.4\n% Zelda's own essay\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
