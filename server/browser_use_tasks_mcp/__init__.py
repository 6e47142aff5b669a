"""browser-use-tasks-mcp: an MCP server for inspecting Browser Use agent runs."""

# The single source of the version (pyproject reads it). A literal, not importlib.metadata:
# that lookup costs ~50 ms on every stdio start-up.
__version__ = "0.1.0"

SERVER_NAME = "browser-use-tasks"
