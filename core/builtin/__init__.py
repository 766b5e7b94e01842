"""Built-in plugins: the core's own behaviour, on the same hooks third parties use."""
