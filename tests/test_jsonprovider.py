"""The apps' JSON encoder (web/jsonprovider.py): orjson's output where it can, Flask's where
orjson refuses, the same JSON either way."""

from __future__ import annotations

import json

from flask import Flask, jsonify

from innersearch.web import jsonprovider


def _app() -> Flask:
    app = Flask(__name__)
    jsonprovider.install(app)
    bodies = {
        "ordered": {"zeta": 1, "alpha": [1.5, None, True], "mid": {"b": 2, "a": 1}},
        "text": {"path": "café/naïve.py", "line": "print('☃')"},
        "int_keys": {1: "one", 20: "twenty"},
        "huge": {"n": 2**70},  # orjson stops at 64 bits
        "surrogate": {"q": "bad \ud800 text"},  # orjson refuses lone surrogates
    }
    for name, body in bodies.items():
        app.add_url_rule(f"/{name}", name, lambda body=body: jsonify(body))
    return app


def test_field_order_and_text_are_kept():
    client = _app().test_client()
    got = client.get("/ordered")
    assert got.mimetype == "application/json"
    assert got.data == b'{"zeta":1,"alpha":[1.5,null,true],"mid":{"b":2,"a":1}}\n'
    text = client.get("/text")
    assert "café/naïve.py".encode() in text.data  # UTF-8, not \u escapes
    assert text.get_json() == {"path": "café/naïve.py", "line": "print('☃')"}
    assert client.get("/int_keys").get_json() == {"1": "one", "20": "twenty"}


def test_what_orjson_refuses_is_encoded_by_flask():
    client = _app().test_client()
    assert client.get("/huge").get_json() == {"n": 2**70}
    got = client.get("/surrogate")
    assert got.status_code == 200 and b"\\ud800" in got.data
    assert json.loads(got.data) == {"q": "bad \ud800 text"}


def test_debug_output_is_indented_by_flask():
    app = _app()
    app.debug = True
    assert b'\n  "zeta": 1' in app.test_client().get("/ordered").data
