"""browser-use-tasks-mcp: an MCP server for inspecting Browser Use agent runs."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("browser-use-tasks-mcp")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0"

SERVER_NAME = "browser-use-tasks"
