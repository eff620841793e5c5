"""Workers of TAF Ledger: the relay, the handover guard, notifications and the sweep.

`relay` turns new events into jobs; `handover` holds the task bodies (plain functions over
the application service); `celery_app` runs them on Redis, `embedded` in a thread.
"""
