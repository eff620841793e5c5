"""Composition root of TAF Ledger: settings, wiring and the `taf` command."""
