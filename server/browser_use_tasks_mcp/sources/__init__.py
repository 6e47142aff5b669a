"""Task sources: Browser Use Cloud API v2, legacy Cloud API v1, local browser-use runs."""
