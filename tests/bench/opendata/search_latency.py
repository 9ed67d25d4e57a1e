#!/usr/bin/env python3
"""package_search latency over HTTP: a bounded number of requests, one keep-alive connection,
one at a time, cycling through a mix of Chinese, English and filtered queries, every one with
facets on organization, groups, tags and res_format. Prints the median and p99 in ms.

Usage: search_latency.py BASE_URL [REQUESTS]   (loopback only; standard library only)
"""
import http.client
import json
import sys
import time
import urllib.parse

FACETS = '["organization","groups","tags","res_format"]'
QUERIES = [
    {"q": "交通"},
    {"q": "運輸"},
    {"q": "空气质素"},
    {"q": "沙田 診所"},
    {"q": "traffic"},
    {"q": "roads"},
    {"q": '"air quality"'},
    {"q": "clinic locations"},
    {"q": "*:*"},
    {"q": "*:*", "fq": "organization:hk-td"},
    {"q": "交通", "fq": "res_format:CSV"},
    {"q": "temperature", "fq": "+groups:climate-and-weather +tags:annual"},
    {"q": "*:*", "fq": "tags:交通 -res_format:API", "sort": "metadata_modified desc"},
    {"q": "synthetic", "sort": "name asc", "start": "200"},
]


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    base = urllib.parse.urlsplit(sys.argv[1])
    if base.hostname not in ("127.0.0.1", "localhost", "::1"):
        sys.exit("loopback only")
    requests = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    paths = []
    for q in QUERIES:
        params = dict(q)
        params["facet.field"] = FACETS
        paths.append("/api/3/action/package_search?" + urllib.parse.urlencode(params))
    conn = http.client.HTTPConnection(base.hostname, base.port, timeout=30)
    # Warm-up: each query once (page cache, connection), not counted.
    for path in paths:
        conn.request("GET", path)
        body = conn.getresponse().read()
        result = json.loads(body)["result"]
        if result["count"] == 0 and "fq" not in path:
            sys.exit(f"no results for {path}")
    latencies = []
    by_path = {path: [] for path in paths}
    for i in range(requests):
        path = paths[i % len(paths)]
        start = time.perf_counter()
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read()
        latencies.append((time.perf_counter() - start) * 1000)
        if response.status != 200:
            sys.exit(f"{response.status} for {path}: {body[:200]!r}")
        by_path[path].append(latencies[-1])
    latencies.sort()
    median = latencies[len(latencies) // 2]
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    for query, path in zip(QUERIES, paths):
        times = sorted(by_path[path])
        if times:
            print(f"  {times[len(times) // 2]:6.2f} ms median, {times[-1]:6.2f} ms max: {query}")
    print(f"RESULT requests={requests} median_ms={median:.2f} p99_ms={p99:.2f} max_ms={latencies[-1]:.2f}")


main()
