"""workers of TAF Ledger (see DESIGN.md)."""
