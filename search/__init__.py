"""Search with Meilisearch (index settings, document mapping, outbox worker, local server).

Empty by design until the search issue lands: the package name is reserved in the
build config so the wheel layout does not change when it arrives.
"""
