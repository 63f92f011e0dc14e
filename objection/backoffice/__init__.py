"""The objection back-office under ``/gestion/oppositions``, for reviewers: the review queue,
a filing's review (identity and document, each opening audited; accept or reject with a
reason), withdrawal reviews, follow-up locks, filings received by post or telephone, and the
letters to print. Every view checks its role (``staff.auth.require_role``)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("objection_backoffice", __name__, url_prefix="/gestion/oppositions",
               template_folder="templates")
