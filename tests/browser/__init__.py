"""Browser tests: Debian's Chromium driven by Playwright against `taf serve` started as a process."""
