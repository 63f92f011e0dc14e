"""The catalogue of data sources as DCAT-AP (HealthDCAT-AP where it applies), in JSON-LD."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from registry.models import DataSource

# HealthDCAT-AP's controlled vocabulary of health data categories, one per EHDS art. 51(1)
# point: HRAD administrative data (claims, reimbursements, hospital stays), MRMR medical and
# mortality registries, PHDR population-based public health registries, EHRS electronic health
# records, RQSH research cohorts and surveys.
HEALTH_CATEGORY = "https://hdeu-dcat.data.health.europa.eu/resource/authority/healthcategories/"
HEALTH_CATEGORIES = {
    "DCIR": "HRAD", "PMSI-MCO": "HRAD", "PMSI-SMR": "HRAD", "PMSI-HAD": "HRAD",
    "PMSI-PSY": "HRAD", "CEPIDC": "MRMR", "SI-DEP": "PHDR", "VAC-SI": "PHDR",
    "BNDMR": "MRMR", "ESME": "EHRS", "OSCOUR": "PHDR", "ATU-CBPC": "RQSH", "E-SIS": "PHDR",
    "HEPATHER": "RQSH", "E-MUST": "MRMR",
}
EU_AUTHORITY = "http://publications.europa.eu/resource/authority/"


def dataset(source: DataSource, base: str) -> dict[str, Any]:
    """One data source as a ``dcat:Dataset``."""
    return {
        "@id": f"{base}/sources/{source.code}",
        "@type": "dcat:Dataset",
        "dct:identifier": source.code,
        "dct:title": {"@language": "fr", "@value": source.name},
        "dct:description": {"@language": "fr",
                            "@value": f"{source.description} {source.content}".strip()},
        "dct:publisher": {"@type": "foaf:Agent", "foaf:name": source.holder},
        "dcat:landingPage": {"@id": f"{base}/sources/{source.code}"},
        "dct:accessRights": {"@id": f"{EU_AUTHORITY}access-right/NON_PUBLIC"},
        "dcat:theme": {"@id": f"{EU_AUTHORITY}data-theme/HEAL"},
        "dct:spatial": {"@id": f"{EU_AUTHORITY}country/FRA"},
        "healthdcatap:healthCategory": {"@id": HEALTH_CATEGORY + HEALTH_CATEGORIES.get(
            source.code, "HRAD" if source.kind == "base-principale" else "MRMR")},
        "dct:type": str(source.kind),
    }


def catalogue(sources: Iterable[DataSource], base: str, licence_url: str) -> dict[str, Any]:
    """The ``dcat:Catalog`` of every data source."""
    return {
        "@context": {"dcat": "http://www.w3.org/ns/dcat#", "dct": "http://purl.org/dc/terms/",
                     "foaf": "http://xmlns.com/foaf/0.1/",
                     "healthdcatap": "http://healthdataportal.eu/ns/health#"},
        "@id": f"{base}/sources",
        "@type": "dcat:Catalog",
        "dct:title": {"@language": "fr", "@value": "Catalogue des sources de données"},
        "dct:description": {"@language": "fr", "@value":
                            "Les bases de la base principale du SNDS et de son catalogue."},
        "dct:publisher": {"@type": "foaf:Agent",
                          "foaf:name": "Plateforme des données de santé (démonstration)"},
        "dct:license": {"@id": licence_url},
        "dcat:dataset": [dataset(source, base) for source in sources],
    }
