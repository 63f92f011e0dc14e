"""The register's back-office under ``/gestion/registre``, for editors: projects (create as a
draft, edit, preview, publish and unpublish, change status with its dated step, add results,
history with a readable diff) and organisations. Every write goes through
``registry.service`` (a revision per save, the search index and the register's version move in
the same transaction); every view checks its role (``staff.auth.require_role``)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("registry_backoffice", __name__, url_prefix="/gestion/registre",
               template_folder="templates")
