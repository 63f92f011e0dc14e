"""The platform's access, for administrators, under ``/gestion/plateforme``: the API tokens
(create one, shown once; revoke one at once), the keys in use (fingerprints and key ids only,
never a secret) and how fresh the exclusion lists are (also on every member's dashboard).
The same as ``flask platform token …`` for staff who have no shell; every change is an audit
event (``tokens``)."""

from __future__ import annotations

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from core.clock import utcnow
from core.config import DEV_ONLY_MARKER
from core.extensions import db
from objection import keys
from objection.exclusions import escrow, freshness, signing, tokens
from staff import auth
from staff.dashboard import add_dashboard_section
from staff.forms import ConfirmForm
from staff.models import Role
from staff.views import add_home_link

bp = Blueprint("exclusions_backoffice", __name__, url_prefix="/gestion/plateforme",
               template_folder="templates")


class TokenForm(FlaskForm):
    name = StringField(_l("Nom du jeton"), validators=[
        DataRequired(_l("Donnez un nom au jeton (par exemple, le système qui l'utilisera).")),
        Length(max=80, message=_l("80 caractères au plus."))])


def _development(setting_name: str) -> bool:
    return DEV_ONLY_MARKER in str(current_app.config.get(setting_name) or "")


def _keys_in_use() -> list[tuple[str, str, bool]]:
    """(what, identifier, development-only) for each key: public identifiers only."""
    ring = keys.keyring()
    ids = [key_id for key_id, _key in ring.keys]
    return [
        (_("Signature des listes (Ed25519)"), signing.key_fingerprint(),
         _development("EXCLUSION_SIGNING_KEY")),
        (_("Pseudonymes (HMAC-SHA256) : clé en cours, puis anciennes"), ", ".join(ids),
         _development("PSEUDONYM_KEYS")),
        (_("Séquestre des NIR (X25519, clé publique)"), escrow.key_fingerprint(),
         _development("NIR_ESCROW_PUBLIC_KEY")),
    ]


def _page(form: TokenForm, issued: tokens.Issued | None = None, status: int = 200,
          revoked: str | None = None) -> Response:
    response = make_response(render_template(
        "exclusions_backoffice/platform.html", form=form, issued=issued, revoked=revoked,
        tokens=tokens.listing(db.session), keys_in_use=_keys_in_use(),
        freshness=freshness.freshness(db.session, utcnow()), action_form=ConfirmForm()),
        status)
    # A new token's secret is on this page once: no copy in any cache or history.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/")
@auth.require_role(Role.ADMIN)
def platform() -> Response:
    return _page(TokenForm(formdata=None), revoked=request.args.get("revoque"))


@bp.route("/jetons", methods=["POST"])
@auth.require_role(Role.ADMIN)
def token_create() -> Response:
    form = TokenForm()
    if not form.validate_on_submit():
        return _page(form, status=400)
    issued = tokens.create(db.session, name=form.name.data or "", by=auth.actor(), now=utcnow())
    db.session.commit()
    return _page(TokenForm(formdata=None), issued=issued, status=201)


@bp.route("/jetons/<int:token_id>/revoquer", methods=["POST"])
@auth.require_role(Role.ADMIN)
def token_revoke(token_id: int) -> Response:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    token = tokens.revoke(db.session, token_id, by=auth.actor(), now=utcnow())
    if token is None:
        abort(404)
    db.session.commit()
    return redirect(url_for(".platform", revoque=token.id), code=303)


def render_dashboard_section() -> Markup:
    """The lists' freshness on the dashboard: every member of staff sees a stuck export."""
    # an autoescaped template, rendered: safe to insert as it is
    return Markup(render_template(  # noqa: S704
        "exclusions_backoffice/_dashboard.html",
        freshness=freshness.freshness(db.session, utcnow())))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    add_dashboard_section(render_dashboard_section)
    add_home_link("exclusions_backoffice.platform", _l("Plateforme : jetons d'accès et clés"),
                  (Role.ADMIN,))
