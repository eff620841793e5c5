"""projections of TAF Ledger (see DESIGN.md)."""
