"""Web front end tests: pages through TestClient, and the browser tests."""
