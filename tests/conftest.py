"""Shared pytest configuration for the RNN Phase Explorer test suite."""


def pytest_configure(config):
    """Register the project's markers (they still run in the default suite)."""
    config.addinivalue_line(
        "markers", "mc: Monte-Carlo test against a finite-width simulation (slow)"
    )
    config.addinivalue_line(
        "markers", "browser: end-to-end test driving Chromium through Playwright"
    )
    config.addinivalue_line("markers", "slow: takes more than a few seconds")
