"""HTTP plumbing shared by both front ends (the JSON API in core.api, the pages in
core.web) and by plugin routes: problem documents and the exception handlers, security
headers, request ids and the access log, trusted proxies, CORS, HEAD, input checks, rate
limits and metrics.

Nothing here imports core.api or core.web (tests/test_layers.py checks it): what a front
end adds, such as the German HTML error page or the API viewer's Content-Security-Policy,
is handed in by the app factory (core.app).
"""
