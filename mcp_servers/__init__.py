"""MCP servers: thin FastMCP adapters over `rag`, `kg`, `serving` and `agents`, one module each."""
