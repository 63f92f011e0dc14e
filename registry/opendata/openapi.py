"""The OpenAPI 3.1 document of the register's JSON API. Tests validate it with
``openapi-spec-validator`` and check every API response against these schemas."""

from __future__ import annotations

from registry.codes import (
    REFERENCE_PATTERN,
    OrganisationKind,
    ProjectStatus,
    ResultKind,
    SourceKind,
)
from registry.listing import (
    FILTER_PARAMS,
    MAX_PAGE,
    MAX_PER_PAGE,
    MAX_QUERY_LENGTH,
    SORTS,
    SPONSOR_SLUG_LENGTH,
)

NULLABLE_STRING = {"type": ["string", "null"]}
NULLABLE_DATE = {"type": ["string", "null"], "format": "date"}

ORGANISATION = {
    "type": "object", "required": ["name", "slug", "kind", "city"],
    "properties": {"name": {"type": "string"}, "slug": {"type": "string"},
                   "kind": {"type": "string", "enum": [k.value for k in OrganisationKind]},
                   "city": {"type": "string"}},
    "additionalProperties": False,
}
PROJECT_SUMMARY_PROPERTIES = {
    "reference": {"type": "string", "pattern": REFERENCE_PATTERN},
    "title": {"type": "string"}, "summary": {"type": "string"},
    "url": {"type": "string", "format": "uri"},
    "sponsor": {"$ref": "#/components/schemas/Organisation"},
    "status": {"type": "string", "enum": [s.value for s in ProjectStatus]},
    "themes": {"type": "array", "items": {"type": "string"}},
    "sources": {"type": "array", "items": {"type": "string"}},
    "uses_ai": {"type": "boolean"},
    "authorised_on": NULLABLE_DATE,
    "results_count": {"type": "integer", "minimum": 0},
    "processing_ended_on": NULLABLE_DATE,
    "results_due_on": NULLABLE_DATE,
    "results_overdue": {"type": "boolean"},
    "results_overdue_months": {"type": "integer", "minimum": 0},
    "updated_at": {"type": "string", "format": "date-time"},
}
PROJECT_SUMMARY = {"type": "object", "required": list(PROJECT_SUMMARY_PROPERTIES),
                   "properties": PROJECT_SUMMARY_PROPERTIES, "additionalProperties": False}
DETAIL_EXTRA = {
    "objective": {"type": "string"}, "public_interest": {"type": "string"},
    "controller": {"oneOf": [{"$ref": "#/components/schemas/Organisation"}, {"type": "null"}]},
    "funders": {"type": "array", "items": {"$ref": "#/components/schemas/Organisation"}},
    "population": {"type": "string"},
    "period": {"type": "object", "properties": {"start_year": {"type": ["integer", "null"]},
                                                "end_year": {"type": ["integer", "null"]}},
               "required": ["start_year", "end_year"], "additionalProperties": False},
    "data_linkage": {"type": "boolean"}, "legal_basis": {"type": "string"},
    "commercial": {"type": "boolean"}, "processing_location": {"type": "string"},
    "processing_location_detail": {"type": "string"},
    "objections_applied": {"type": "boolean"}, "objection_exception_reason": NULLABLE_STRING,
    "cnil_decision": NULLABLE_STRING, "planned_end": NULLABLE_DATE,
    "objection_deadline": NULLABLE_DATE,
    "created_at": {"type": "string", "format": "date-time"},
    "status_history": {"type": "array", "items": {
        "type": "object", "required": ["status", "date", "decision_number", "note"],
        "properties": {"status": {"type": "string"}, "date": {"type": "string", "format": "date"},
                       "decision_number": NULLABLE_STRING, "note": NULLABLE_STRING},
        "additionalProperties": False}},
    "results": {"type": "array", "items": {"$ref": "#/components/schemas/Result"}},
    "revisions": {"type": "array", "items": {"$ref": "#/components/schemas/Revision"}},
}
PROJECT_DETAIL = {"type": "object",
                  "required": list(PROJECT_SUMMARY_PROPERTIES) + list(DETAIL_EXTRA),
                  "properties": {**PROJECT_SUMMARY_PROPERTIES, **DETAIL_EXTRA},
                  "additionalProperties": False}
RESULT = {
    "type": "object", "required": ["kind", "title", "published_on", "url", "doi", "summary"],
    "properties": {"kind": {"type": "string", "enum": [k.value for k in ResultKind]},
                   "title": {"type": "string"}, "published_on": {"type": "string",
                                                                 "format": "date"},
                   "url": NULLABLE_STRING, "doi": NULLABLE_STRING, "summary": NULLABLE_STRING},
    "additionalProperties": False,
}
REVISION = {
    "type": "object", "required": ["number", "created_at", "author", "changed_fields"],
    "properties": {"number": {"type": "integer", "minimum": 1},
                   "created_at": {"type": "string", "format": "date-time"},
                   "author": {"type": "string"},
                   "changed_fields": {"type": "array", "items": {"type": "string"}}},
    "additionalProperties": False,
}
SOURCE = {
    "type": "object",
    "required": ["code", "name", "kind", "holder", "description", "content", "since_year", "url",
                 "projects_count"],
    "properties": {"code": {"type": "string"}, "name": {"type": "string"},
                   "kind": {"type": "string", "enum": [k.value for k in SourceKind]},
                   "holder": {"type": "string"}, "description": {"type": "string"},
                   "content": {"type": "string"}, "since_year": {"type": ["integer", "null"]},
                   "url": {"type": "string"}, "projects_count": {"type": "integer"}},
    "additionalProperties": False,
}
LICENCE = {"type": "object", "required": ["name", "id", "url"],
           "properties": {"name": {"type": "string"},
                          "id": {"type": "string", "description": "SPDX identifier"},
                          "url": {"type": "string", "format": "uri"}},
           "additionalProperties": False}
ERROR = {"type": "object", "required": ["error"], "properties": {"error": {
    "type": "object", "required": ["status", "title", "message"],
    "properties": {"status": {"type": "integer"}, "title": {"type": "string"},
                   "message": {"type": "string"}}}}}
PROJECT_LIST = {
    "type": "object", "required": ["data", "meta", "links"],
    "properties": {
        "data": {"type": "array", "items": {"$ref": "#/components/schemas/ProjectSummary"}},
        "meta": {"type": "object",
                 "required": ["total", "page", "per_page", "pages", "facets", "licence"],
                 "properties": {
                     "total": {"type": "integer"}, "page": {"type": "integer"},
                     "per_page": {"type": "integer"}, "pages": {"type": "integer"},
                     "facets": {"type": "object", "additionalProperties": {
                         "type": "array", "items": {
                             "type": "object", "required": ["value", "count"],
                             "properties": {"value": {"type": "string"},
                                            "count": {"type": "integer"}}}}},
                     "licence": {"$ref": "#/components/schemas/Licence"}}},
        "links": {"type": "object", "required": ["self", "first", "last"],
                  "additionalProperties": {"type": "string"}},
    },
}


def _listing_parameters() -> list[dict]:
    parameters = [
        {"name": "q", "in": "query", "schema": {"type": "string",
                                                "maxLength": MAX_QUERY_LENGTH},
         "description": "Recherche en français (accents et pluriels indifférents)."},
        {"name": "tri", "in": "query", "schema": {"type": "string", "enum": list(SORTS)}},
        {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                   "maximum": MAX_PAGE}},
        {"name": "par_page", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                       "maximum": MAX_PER_PAGE}},
    ]
    for param, facet in FILTER_PARAMS.items():
        items: dict = {"type": "string"}
        description = f"Filtre sur « {facet} » (répétable)."
        if facet == "sponsor_kind":
            items["enum"] = [kind.value for kind in OrganisationKind]
            description = "Type de promoteur (répétable)."
        elif facet == "sponsor":
            items["maxLength"] = 2 * SPONSOR_SLUG_LENGTH
            description = (
                "Promoteur nommé (répétable) : l'identifiant de l'organisme, comme dans "
                "l'adresse de sa page /organisations/{identifiant}, ou son nom. Une valeur qui "
                "est un type de promoteur (" + ", ".join(k.value for k in OrganisationKind)
                + ") filtre sur le type, comme promoteur_type : c'était le sens de ce "
                "paramètre avant décembre 2026.")
        parameters.append({"name": param, "in": "query", "style": "form", "explode": True,
                           "schema": {"type": "array", "items": items},
                           "description": description})
    return parameters


def _json_response(schema_ref: str, description: str) -> dict:
    return {"description": description,
            "headers": {"ETag": {"schema": {"type": "string"}},
                        "Last-Modified": {"schema": {"type": "string"}}},
            "content": {"application/json": {"schema": {"$ref": schema_ref}}}}


def openapi_document(site_url: str) -> dict:
    error = {"description": "Erreur", "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Error"}}}}
    not_modified = {"description": "Non modifié depuis la version que vous avez (ETag)."}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "API du registre des projets",
            "version": "1.0.0",
            "description": "Les projets qui réutilisent des données de santé, leurs résultats "
                           "et les sources de données. Données publiées sous Licence Ouverte "
                           "2.0.",
            "license": {"name": "Licence Ouverte 2.0 (etalab-2.0)", "identifier": "etalab-2.0"},
        },
        "servers": [{"url": f"{site_url}/api/v1"}],
        "paths": {
            "/projects": {"get": {
                "operationId": "listProjects", "summary": "Rechercher des projets",
                "parameters": _listing_parameters(),
                "responses": {"200": _json_response("#/components/schemas/ProjectList",
                                                    "Une page de projets"),
                              "304": not_modified, "400": error}}},
            "/projects/{reference}": {"get": {
                "operationId": "getProject", "summary": "Un projet, ses résultats et son "
                                                        "historique",
                "parameters": [{"name": "reference", "in": "path", "required": True,
                                "schema": {"type": "string"}}],
                "responses": {"200": _json_response("#/components/schemas/ProjectEnvelope",
                                                    "Le projet"),
                              "304": not_modified, "404": error}}},
            "/sources": {"get": {
                "operationId": "listSources", "summary": "Les sources de données",
                "responses": {"200": _json_response("#/components/schemas/SourceList",
                                                    "Les sources"), "304": not_modified}}},
        },
        "components": {"schemas": {
            "Organisation": ORGANISATION, "ProjectSummary": PROJECT_SUMMARY,
            "ProjectDetail": PROJECT_DETAIL, "Result": RESULT, "Revision": REVISION,
            "Source": SOURCE, "Licence": LICENCE, "Error": ERROR, "ProjectList": PROJECT_LIST,
            "ProjectEnvelope": {"type": "object", "required": ["data", "meta"], "properties": {
                "data": {"$ref": "#/components/schemas/ProjectDetail"},
                "meta": {"type": "object", "properties": {
                    "licence": {"$ref": "#/components/schemas/Licence"}}}}},
            "SourceList": {"type": "object", "required": ["data", "meta"], "properties": {
                "data": {"type": "array", "items": {"$ref": "#/components/schemas/Source"}},
                "meta": {"type": "object"}}},
        }},
    }
