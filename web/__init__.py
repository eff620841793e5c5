"""web of TAF Ledger (see DESIGN.md)."""
