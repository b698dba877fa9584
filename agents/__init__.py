"""The LangGraph assistant: supervisor, specialists, event stream, CLI and HTTP API."""
