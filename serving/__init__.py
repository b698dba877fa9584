"""Model serving: endpoint registry, profiles, local llama.cpp server, health checks, embeddings."""
