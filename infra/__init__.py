"""Infrastructure shared by the outer layers: settings, the ledger's construction, side tables, access log."""
