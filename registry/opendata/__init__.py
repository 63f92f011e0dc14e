"""The register as open data: the JSON API and its OpenAPI document, CSV and JSON exports, Atom
feeds and the DCAT-AP catalogue of data sources. Read-only, public, under Licence Ouverte 2.0,
cacheable (ETag and Last-Modified) and readable from any web page (CORS for GET).

``shapes`` (the JSON shape of projects and sources), ``tables`` (the CSV export's columns and
cells), ``atom`` (feeds), ``dcat`` (the catalogue), ``openapi`` (the API's contract), ``views``
(the routes).
"""
