"""API schemas, split by direction: `requests` (what callers send), `responses` (what they get)."""
