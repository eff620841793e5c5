"""The TAF Ledger domain: aggregates, value types, checklists and the application service.

Pure Python over `eventsourcing`: no I/O of its own and no web or task framework.
"""
