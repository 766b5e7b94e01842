"""The simulated clients of `make load`; benchmarks/load.py starts locust with this file.

Each client sends its next request as soon as the previous one is answered (no think
time), so N clients keep N requests in flight. LOAD_DATA names a JSON file written by
load.py with real slugs, topics, search queries and valid Quickcheck answer sets.

- ``Mix``: what Lotsen, partner sites and companies do together: entry reads, list
  reads, searches, Quickcheck submissions (each followed by fetching its result).
- ``EntryOnly``: only entry detail reads, sent to our app and to nginx serving the same
  JSON as static files, for the ratio ours/nginx.

Any answer other than the expected status is a failure with the start of the body.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from locust import FastHttpUser, constant, task

DATA: dict[str, Any] = json.loads(Path(os.environ["LOAD_DATA"]).read_text(encoding="utf-8"))


class Client(FastHttpUser):
    abstract = True
    wait_time = constant(0)

    def fetch(self, method: str, url: str, name: str, expect: int = 200, **kwargs: Any) -> Any:
        with self.client.request(method, url, name=name, catch_response=True, **kwargs) as r:
            if r.status_code != expect:
                r.failure(f"{r.status_code} (expected {expect}): {(r.text or '')[:300]}")
                return None
            return r

    def entry(self) -> None:
        slug = random.choice(DATA["slugs"])
        self.fetch("GET", f"/api/v1/entries/{slug}", name="/api/v1/entries/{slug}")


class Mix(Client):
    @task(40)
    def entry_detail(self) -> None:
        self.entry()

    @task(10)
    def entry_list(self) -> None:
        # Half the lists are filtered by a topic, as a partner's topic page is.
        params = {"topic": random.choice(DATA["topics"])} if random.random() < 0.5 else {}
        url = "/api/v1/entries" + (f"?{urlencode(params)}" if params else "")
        self.fetch("GET", url, name="/api/v1/entries")

    @task(35)
    def search(self) -> None:
        url = "/api/v1/search?" + urlencode({"q": random.choice(DATA["queries"])})
        self.fetch("GET", url, name="/api/v1/search?q=…")

    @task(10)
    def quickcheck(self) -> None:
        body = random.choice(DATA["answer_sets"])
        r = self.fetch(
            "POST",
            DATA["submit_path"],
            name="/api/v1/questionnaires/{id}/responses",
            expect=201,
            json=body,
        )
        if r is not None:
            token = r.json()["data"]["token"]
            self.fetch("GET", f"/api/v1/results/{token}", name="/api/v1/results/{token}")


class EntryOnly(Client):
    @task
    def entry_detail(self) -> None:
        self.entry()
