"""The REST API (FastAPI) over the application service and the read models."""
