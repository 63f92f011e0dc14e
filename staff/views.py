"""The back-office's door: sign in (password, then second factor), enrol the second factor,
recovery codes, change one's password, sign out (here or everywhere), and the home page that
leads to each role's tools. Thin: parse, call ``staff.accounts``, commit, render."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, redirect, render_template, request, session, url_for
from flask_babel import format_timedelta
from flask_babel import gettext as _

from core.clock import utcnow
from core.extensions import db, limiter
from staff import accounts, audit, auth, sessions, totp
from staff.forms import CodeForm, ConfirmForm, LoginForm, PasswordForm

bp = Blueprint("staff", __name__, url_prefix="/gestion", template_folder="templates",
               static_folder="static", static_url_path="/static/staff")
# The pages each package's back-office adds to the home page: (endpoint, label, roles),
# registered by their extensions (``add_home_link``), so staff knows none of them.
HOME_LINKS: list[tuple[str, object, tuple[str, ...]]] = []
LOGIN_LIMIT = "30 per minute;300 per day"  # per address; accounts lock on their own


def add_home_link(endpoint: str, label: object, roles: tuple[str, ...]) -> None:
    if all(existing[0] != endpoint for existing in HOME_LINKS):
        HOME_LINKS.append((endpoint, label, roles))


def _locked_message(until: datetime | None) -> str:
    wait = format_timedelta((until or utcnow()) - utcnow(), granularity="minute",
                            add_direction=True)
    return _("Trop d'essais incorrects : ce compte est bloqué pour un moment. Réessayez "
             "%(when)s, ou demandez à un administrateur de le débloquer.", when=wait)


@bp.route("/connexion", methods=["GET", "POST"])
@auth.mark(auth.PUBLIC)
@limiter.limit(LOGIN_LIMIT, methods=["POST"])
def login():
    if auth.current_staff() is not None:
        return redirect(url_for("staff.home"), code=303)
    form = LoginForm()
    message = None
    if request.args.get("expiree"):
        message = _("Votre session a pris fin (30 minutes sans activité, ou 12 heures en "
                    "tout). Reconnectez-vous.")
    status = 200
    if form.validate_on_submit():
        attempt = accounts.check_password(db.session, form.email.data or "",
                                          form.password.data or "")
        if attempt.ok and attempt.user is not None:
            session.clear()  # a new session at sign-in: new CSRF secret, nothing carried over
            _row, token = sessions.open_session(db.session, attempt.user)
            db.session.commit()
            auth.start_session(token)
            nxt = auth._safe_next(request.args.get("suivant", ""))
            if nxt:
                session["staff_next"] = nxt
            target = "staff.second_factor" if attempt.user.totp_enabled else "staff.enrol"
            return redirect(url_for(target), code=303)
        db.session.commit()  # the failure is counted and audited
        status = 200
        if attempt.locked_until is not None:
            message, status = _locked_message(attempt.locked_until), 429
        else:
            message = _("Adresse électronique ou mot de passe incorrect.")
    elif form.is_submitted():
        status = 400
    return render_template("staff/login.html", form=form, message=message), status


def _partial_session():
    row = auth.current_session()
    if row is None:
        return None
    return row


def _after_sign_in():
    target = auth._safe_next(session.pop("staff_next", "") or "")
    return redirect(target or url_for("staff.home"), code=303)


@bp.route("/connexion/code", methods=["GET", "POST"])
@auth.mark(auth.PARTIAL)
@limiter.limit(LOGIN_LIMIT, methods=["POST"])
def second_factor():
    row = _partial_session()
    if row is None:
        return auth.login_redirect()
    if row.second_factor_at is not None:
        return redirect(url_for("staff.home"), code=303)
    if not row.user.totp_enabled:
        return redirect(url_for("staff.enrol"), code=303)
    form = CodeForm()
    message, status = None, 200
    if form.validate_on_submit():
        attempt = accounts.check_second_factor(db.session, row, form.code.data or "")
        if attempt.ok:
            db.session.commit()
            return _after_sign_in()
        if attempt.locked_until is not None:
            sessions.end(db.session, row, "locked")
            auth.forget_session()
            db.session.commit()
            return render_template("staff/login.html", form=LoginForm(formdata=None),
                                   message=_locked_message(attempt.locked_until)), 429
        db.session.commit()
        message = _("Code incorrect, ou déjà utilisé. Attendez le code suivant de votre "
                    "application, puis saisissez-le.")
    elif form.is_submitted():
        status = 400
    return render_template("staff/second_factor.html", form=form, message=message), status


@bp.route("/double-authentification", methods=["GET", "POST"])
@auth.mark(auth.PARTIAL)
def enrol():
    row = _partial_session()
    if row is None:
        return auth.login_redirect()
    user = row.user
    if user.totp_enabled:
        return redirect(url_for("staff.home" if row.second_factor_at else
                                "staff.second_factor"), code=303)
    secret = accounts.start_enrolment(db.session, user)
    db.session.commit()
    form = CodeForm()
    message, status = None, 200
    if form.validate_on_submit():
        codes = accounts.confirm_enrolment(db.session, row, form.code.data or "")
        db.session.commit()
        if codes is not None:
            return render_template("staff/recovery_codes.html", codes=codes, first=True)
        message = _("Ce code ne correspond pas. Vérifiez que l'heure de votre téléphone est "
                    "juste, puis saisissez le code affiché maintenant.")
        if accounts.is_locked(user, utcnow()):
            sessions.end(db.session, row, "locked")
            auth.forget_session()
            db.session.commit()
            return render_template("staff/login.html", form=LoginForm(formdata=None),
                                   message=_locked_message(user.locked_until)), 429
    elif form.is_submitted():
        status = 400
    return render_template("staff/enrol.html", form=form, message=message,
                           secret=totp.grouped(secret),
                           uri=accounts.enrolment_uri(user, secret)), status


@bp.route("/")
@auth.require_role()
def home():
    user = auth.current_staff()
    links = [(endpoint, label) for endpoint, label, roles in HOME_LINKS
             if not roles or user.has_role(*roles)]
    return render_template("staff/home.html", user=user, links=links,
                           recovery_left=accounts.remaining_recovery_codes(db.session, user),
                           form=ConfirmForm())


@bp.route("/mot-de-passe", methods=["GET", "POST"])
@auth.require_role()
def password():
    user = auth.current_staff()
    form = PasswordForm()
    errors: dict[str, str] = {}
    status = 200
    if form.validate_on_submit():
        try:
            accounts.change_password(db.session, user, new_password=form.new_password.data,
                                     current_password=form.current_password.data,
                                     by=user.actor, keep=auth.current_session())
        except accounts.AccountError as error:
            errors, status = error.errors, 400
            db.session.rollback()
        else:
            db.session.commit()
            return render_template("staff/done.html", message=_(
                "Votre mot de passe est changé. Vos autres sessions sont fermées."))
    elif form.is_submitted():
        status = 400
    return render_template("staff/password.html", form=form, errors=errors,
                           forced=user.must_change_password), status


@bp.route("/codes-de-secours", methods=["GET", "POST"])
@auth.require_role()
def recovery_codes():
    user = auth.current_staff()
    form = CodeForm()
    message, status = None, 200
    if form.validate_on_submit():
        if accounts.verify_code_for(db.session, user, form.code.data or ""):
            codes = accounts.new_recovery_codes(db.session, user)
            db.session.commit()
            return render_template("staff/recovery_codes.html", codes=codes, first=False)
        db.session.rollback()
        message, status = _("Code incorrect, ou déjà utilisé."), 400
    elif form.is_submitted():
        status = 400
    return render_template("staff/recovery_new.html", form=form, message=message,
                           left=accounts.remaining_recovery_codes(db.session, user)), status


@bp.route("/deconnexion", methods=["POST"])
@auth.mark(auth.PARTIAL)
def logout():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    row = auth.current_session()
    if row is not None:
        sessions.end(db.session, row, "logout")
        audit.record(db.session, "staff.logout", actor=row.user.actor,
                              target=row.user.actor, detail={"session": row.id})
        db.session.commit()
    auth.forget_session()
    session.clear()
    return render_template("staff/logged_out.html", form=LoginForm(formdata=None))


@bp.route("/deconnexion-partout", methods=["POST"])
@auth.require_role()
def logout_everywhere():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    user = auth.current_staff()
    count = sessions.end_all(db.session, user, "logout_everywhere")
    audit.record(db.session, "staff.logout_everywhere", actor=user.actor,
                          target=user.actor, detail={"sessions": count})
    db.session.commit()
    auth.forget_session()
    session.clear()
    return render_template("staff/logged_out.html", form=LoginForm(formdata=None),
                           everywhere=count)
