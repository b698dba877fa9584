"""MCP servers: thin adapters (the SDK's decorator server) over `rag`, `kg`, `serving` and `agents`, one each."""
