"""The model registry (models.toml), verified fetch into the cache, and GGUF header facts."""
