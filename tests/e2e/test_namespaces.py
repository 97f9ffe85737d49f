"""Namespaces: create, list, get, delete, names."""

import pytest


def test_create_get_list_delete(server, uniq):
    name = uniq("ns")
    r = server.post("/v1/ns", {"name": name, "env": "prod"})
    assert r.status_code == 201, r.text
    ns = r.json()
    assert ns["name"] == name and ns["env"] == "prod"
    assert ns["created_by"] == "admin"
    assert ns["created"].endswith("Z")

    r = server.get("/v1/ns/" + name)
    assert r.status_code == 200 and r.json()["name"] == name

    r = server.get("/v1/ns")
    assert r.status_code == 200
    assert name in [n["name"] for n in r.json()["namespaces"]]

    r = server.req("DELETE", "/v1/ns/" + name)
    assert r.status_code == 200, r.text
    assert r.json()["deleted"] == name
    assert server.get("/v1/ns/" + name).status_code == 404
    assert name not in [n["name"] for n in
                        server.get("/v1/ns").json()["namespaces"]]


def test_default_env_is_dev(server, uniq):
    assert server.mkns(uniq("dflt"))["env"] == "dev"


def test_bad_env_rejected(server, uniq):
    r = server.post("/v1/ns", {"name": uniq("env"), "env": "production"})
    assert r.status_code == 400
    assert r.json()["error"]["code"] in ("invalid_json", "bad_request",
                                        "invalid_name")


def test_duplicate_is_409(server, uniq):
    name = uniq("dup")
    server.mkns(name)
    r = server.post("/v1/ns", {"name": name})
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "already_exists"


def test_get_missing_is_404(server):
    r = server.get("/v1/ns/no-such-ns")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "no_such_namespace"


def test_delete_non_empty_refused_then_allowed(server, uniq):
    name = uniq("full")
    server.mkns(name)
    assert server.put_obj(name, "a", b"1").status_code == 201
    assert server.put_obj(name, "a", b"2").status_code == 201
    r = server.req("DELETE", "/v1/ns/" + name)
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "namespace_not_empty"
    assert server.get("/v1/ns/" + name).status_code == 200
    assert server.get_obj(name, "a").content == b"2"
    blobs_before = len(server.blob_files())
    # A delete marker makes it empty of live objects: delete now works and
    # destroys the old versions with their blobs.
    assert server.req("DELETE", "/v1/ns/%s/objects/a" % name).status_code \
        == 200
    r = server.req("DELETE", "/v1/ns/" + name)
    assert r.status_code == 200, r.text
    assert r.json()["versions_destroyed"] >= 2
    assert len(server.blob_files()) <= blobs_before - 2


@pytest.mark.parametrize("bad", [
    "AB", "a", "ab", "-ab", "ab-", ".ab", "a..b", "192.168.1.1",
    "x" * 64, "a_b", "a b", "ns/x", "", "Ab-c"])
def test_invalid_names(server, bad):
    r = server.post("/v1/ns", {"name": bad})
    assert r.status_code == 400, (bad, r.status_code, r.text)
    assert r.json()["error"]["code"] == "invalid_name"


@pytest.mark.parametrize("good", ["abc", "a-b.c", "x" * 63, "9ab", "1.2.3"])
def test_valid_names(server, good):
    r = server.post("/v1/ns", {"name": good})
    assert r.status_code == 201, (good, r.text)
    assert server.req("DELETE", "/v1/ns/" + good).status_code == 200
