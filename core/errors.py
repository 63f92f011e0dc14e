"""Error pages in the site's layout and language; JSON for the API. Never a stack trace.

Pages render ``error.html``, which the composing app provides beside ``base.html``.
"""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

ERROR_TEXTS = {
    400: (_l("Demande incorrecte"),
          _l("Votre demande contient une erreur. Vérifiez l'adresse ou les informations "
             "envoyées, puis réessayez.")),
    403: (_l("Accès refusé"), _l("Vous n'avez pas le droit d'accéder à cette page.")),
    404: (_l("Page introuvable"),
          _l("Cette page n'existe pas ou a été déplacée. Vérifiez l'adresse, ou partez de la "
             "page d'accueil.")),
    405: (_l("Action impossible"), _l("Cette page ne permet pas cette action.")),
    413: (_l("Envoi trop lourd"),
          _l("Les informations ou le fichier envoyés sont trop lourds. La taille maximale d'un "
             "fichier est 5 Mo.")),
    429: (_l("Trop de demandes"),
          _l("Vous avez fait trop de demandes en peu de temps. Attendez quelques minutes, puis "
             "réessayez.")),
    500: (_l("Erreur du site"),
          _l("Une erreur est survenue de notre côté. Réessayez dans quelques minutes. Si vous "
             "avez reçu un accusé de réception, votre demande est bien enregistrée.")),
}
CSRF_TEXT = (_l("Formulaire expiré"),
             _l("Pour votre sécurité, ce formulaire a expiré. Revenez à la page précédente, "
                "rechargez-la, puis envoyez-le à nouveau."))


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def render_error(code: int, title: object, message: object):
    title, message = str(title), str(message)
    if wants_json():
        return jsonify(error={"status": code, "title": title, "message": message}), code
    return render_template("error.html", code=code, title=title, message=message), code


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(_error: CSRFError):
        return render_error(400, *CSRF_TEXT)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        code = error.code or 500
        title, message = ERROR_TEXTS.get(code, (error.name, error.description or ""))
        # A view may abort with a specific, already translated reason. The limiter's description
        # is its limit in English ("10 per 1 minute"): never shown, the site's text is.
        if (error.description and error.description != type(error).description
                and not isinstance(error, RateLimitExceeded)):
            message = error.description
        body, status = render_error(code, title, message)
        headers = {}
        if code == 405 and getattr(error, "valid_methods", None):
            headers["Allow"] = ", ".join(error.valid_methods)
        if code == 429 and error.response is not None:
            headers.update({k: v for k, v in error.response.headers.items()
                            if k.lower().startswith(("retry-after", "x-ratelimit"))})
        return body, status, headers

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        if isinstance(error, HTTPException):
            return http_error(error)
        app.logger.exception("unhandled error")
        return render_error(500, *ERROR_TEXTS[500])
