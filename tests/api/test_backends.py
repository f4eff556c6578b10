"""The API over each store backend (SQLite file, PostgreSQL schema): tokens, cameras, audit."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from api import Settings, create_app
from camera_registry.io import read_cameras
from camera_registry.store import RegistryStore
from skynet.audit import AuditLog
from skynet.tokens import Role
from tests.api.conftest import make_tokens


def test_the_api_over_each_backend(db_url: str, sample_cameras_path: Path) -> None:
    RegistryStore(db_url).import_cameras(read_cameras(sample_cameras_path).cameras)
    tokens = make_tokens(db_url)
    app = create_app(Settings(db=db_url, poll_s=0))
    with TestClient(app) as client:
        wall = {"Authorization": f"Bearer {tokens[Role.wall]}"}
        admin = {"Authorization": f"Bearer {tokens[Role.admin]}"}
        listed = client.get("/cameras", headers=wall).json()["features"]
        assert len(listed) == RegistryStore(db_url).count() > 0
        first = listed[0]["id"]
        edited = client.patch(f"/cameras/{first}", json={"status": "offline"}, headers=admin)
        assert edited.status_code == 200
        assert client.get("/audit", headers=wall).status_code == 403
        assert client.get("/wall/target", headers=wall).status_code == 404
        check = client.get("/audit/verify", headers=admin).json()
    assert RegistryStore(db_url).get(first).status == "offline"
    assert check["ok"] and check["rows"] == 2  # the edit and the refusal
    assert [e.action for e in AuditLog(db_url).entries()] == ["camera-edit", "audit_entries"]
