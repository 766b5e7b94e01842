"""Search with Meilisearch.

``local_server`` (the embedded engine), ``documents`` and ``german`` (what an entry
looks like in the index), ``vocabulary`` and ``config`` (settings from content and
plugins), ``indexer`` (outbox, reconcile), ``rebuild`` (reindex with swap),
``query`` (API searches) and ``worker`` (the in-app service).
"""
