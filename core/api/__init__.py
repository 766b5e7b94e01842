"""The HTTP API: controllers, response schemas, problem details and caching."""
