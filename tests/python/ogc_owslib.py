"""OWSLib, the OGC's Python client, against Bauhinia's OGC API - Features.

Usage: ogc_owslib.py BASE_URL COLLECTION MINX,MINY,MAXX,MAXY

Lists the feature collections, reads one collection, fetches its items inside the bbox
(following `next` links page by page, 50 at a time), fetches the first of them alone, and
prints what it saw as one JSON object for the Rust test to check against the server's data.
"""

import json
import sys

from owslib.ogcapi.features import Features


def main() -> None:
    base, collection, bbox_text = sys.argv[1:4]
    bbox = [float(n) for n in bbox_text.split(",")]
    api = Features(base)
    conformance = api.conformance()["conformsTo"]
    feature_collections = api.feature_collections()
    described = api.collection(collection)
    ids = []
    matched = None
    offset = 0
    while True:
        page = api.collection_items(collection, bbox=bbox, limit=50, offset=offset)
        assert page["type"] == "FeatureCollection", page
        matched = page["numberMatched"]
        ids.extend(f["id"] for f in page["features"])
        offset += page["numberReturned"]
        if not any(link["rel"] == "next" for link in page["links"]):
            break
    for f_id in ids:
        assert isinstance(f_id, str), f_id
    first = api.collection_item(collection, ids[0]) if ids else None
    print(json.dumps({
        "conformance": conformance,
        "feature_collections": feature_collections,
        "extent": described["extent"]["spatial"]["bbox"][0],
        "number_matched": matched,
        "ids": ids,
        "first": first["id"] if first else None,
        "first_coordinates": first["geometry"]["coordinates"] if first else None,
    }))


if __name__ == "__main__":
    main()
