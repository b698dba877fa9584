"""Documents in, cited chunks out: readers, structure-aware chunking, a Qdrant store and hybrid retrieval.

The public face is `rag.library.Library`; the CLI (`rag.cli`) and the MCP server (`mcp_servers.rag`) are thin
adapters over it.
"""
