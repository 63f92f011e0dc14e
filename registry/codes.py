"""The register's codes and what each one means: organisation kinds, data source kinds, the
steps of a project's authorisation path, legal bases, processing locations, result kinds,
themes. Each value carries its French label (translated when shown); a status also says what it
implies (closed, ends the processing, data in hand, its schema.org study status), so no other
module keeps its own list of statuses.
"""

from __future__ import annotations

import enum
import re

from flask_babel import lazy_gettext as _l

# A project reference: HDH-<year>-<number>, e.g. HDH-2024-0123.
REFERENCE_PATTERN = r"^HDH-(19|20)[0-9]{2}-[0-9]{4}$"
_REFERENCE = re.compile(REFERENCE_PATTERN)


def parse_reference(raw: str | None) -> str | None:
    """``raw`` as a canonical project reference (upper case, spaces trimmed), or None when it
    is not one."""
    reference = (raw or "").strip().upper()
    return reference if _REFERENCE.match(reference) else None


class _Labelled(enum.StrEnum):
    """A StrEnum whose members carry a French label (translated at display time)."""

    @property
    def label(self) -> str:
        return str(self.LABELS[self.value])  # type: ignore[attr-defined]


class OrganisationKind(_Labelled):
    HOSPITAL = "hopital"                  #: public or private hospital, CHU
    RESEARCH = "recherche"                #: university or public research body
    AGENCY = "agence"                     #: public agency or administration
    COMPANY = "entreprise"                #: company (pharmaceutical, medical devices, insurer…)
    STARTUP = "start-up"                  #: young innovative company
    ASSOCIATION = "association"           #: patients' association, foundation, learned society


OrganisationKind.LABELS = {  # type: ignore[attr-defined]
    "hopital": _l("Hôpital"), "recherche": _l("Université ou organisme de recherche"),
    "agence": _l("Agence ou administration publique"), "entreprise": _l("Entreprise"),
    "start-up": _l("Start-up"), "association": _l("Association ou fondation"),
}


class SourceKind(_Labelled):
    MAIN_BASE = "base-principale"   #: a part of the SNDS main base (DCIR, PMSI, CépiDc…)
    CATALOGUE = "catalogue"         #: a database of the SNDS catalogue (cohorts, registries…)


SourceKind.LABELS = {  # type: ignore[attr-defined]
    "base-principale": _l("Base principale du SNDS"), "catalogue": _l("Catalogue du SNDS"),
}


class ProjectStatus(_Labelled):
    """Where a project stands on the authorisation path (documented for citizens below)."""

    SUBMITTED = "depose"
    CESREES_FAVOURABLE = "avis-favorable"
    CESREES_RESERVED = "avis-reserves"
    CESREES_UNFAVOURABLE = "avis-defavorable"
    CNIL_AUTHORISED = "autorise"
    DATA_AVAILABLE = "donnees-disponibles"
    IN_PROGRESS = "en-cours"
    FINISHED = "termine"
    ABANDONED = "abandonne"

    @property
    def explanation(self) -> str:
        return str(STATUS_EXPLANATIONS[self.value])

    @property
    def closed(self) -> bool:
        """The project goes no further: no objection to it can be filed any more."""
        return self in (ProjectStatus.FINISHED, ProjectStatus.ABANDONED,
                        ProjectStatus.CESREES_UNFAVOURABLE)

    @property
    def ends_processing(self) -> bool:
        """Work on the data stops here: the day processing ended is required, and results are
        due 18 months later (``registry.rules``)."""
        return self in (ProjectStatus.FINISHED, ProjectStatus.ABANDONED)

    @property
    def has_data(self) -> bool:
        """The team has the data (a project abandoned after such a step processed data)."""
        return self in (ProjectStatus.DATA_AVAILABLE, ProjectStatus.IN_PROGRESS)

    @property
    def study_status(self) -> str:
        """The schema.org MedicalStudyStatus of a project at this step (a project abandoned
        before it had the data is "Withdrawn": ``registry.rules.study_status``)."""
        return STUDY_STATUSES[self.value]


ProjectStatus.LABELS = {  # type: ignore[attr-defined]
    "depose": _l("Demande déposée"),
    "avis-favorable": _l("Avis favorable du CESREES"),
    "avis-reserves": _l("Avis favorable avec réserves du CESREES"),
    "avis-defavorable": _l("Avis défavorable du CESREES"),
    "autorise": _l("Accès autorisé"),
    "donnees-disponibles": _l("Données mises à disposition"),
    "en-cours": _l("En cours"),
    "termine": _l("Terminé"),
    "abandonne": _l("Abandonné"),
}
STATUS_EXPLANATIONS = {
    "depose": _l("L'équipe a déposé sa demande. Elle n'a pas encore accès aux données."),
    "avis-favorable": _l("Le comité d'éthique et scientifique (CESREES) juge le projet utile et "
                         "sérieux. La CNIL doit encore l'autoriser."),
    "avis-reserves": _l("Le CESREES juge le projet utile, mais demande des changements. La CNIL "
                        "doit encore l'autoriser."),
    "avis-defavorable": _l("Le CESREES juge que le projet ne doit pas avoir accès aux données. "
                           "Le projet ne peut pas continuer ainsi."),
    "autorise": _l("La CNIL a autorisé le projet, ou l'équipe s'est déclarée conforme à une "
                   "méthodologie de référence de la CNIL. Les données vont être préparées."),
    "donnees-disponibles": _l("Les données pseudonymisées sont prêtes dans un espace sécurisé. "
                              "L'équipe peut commencer."),
    "en-cours": _l("L'équipe travaille sur les données."),
    "termine": _l("Le travail sur les données est fini. Les résultats doivent être publiés."),
    "abandonne": _l("Le projet s'est arrêté avant la fin."),
}


# schema.org MedicalStudyStatus for each step. A study of existing data recruits nobody:
# "ActiveNotRecruiting" is the honest value while data are being worked on; before any data
# is available a project is "NotYetRecruiting" (not started); a project stopped before any
# data was made available is "Withdrawn" (ClinicalTrials.gov: halted before enrolment), after
# that "Terminated" (halted prematurely).
STUDY_STATUSES = {
    "depose": "NotYetRecruiting", "avis-favorable": "NotYetRecruiting",
    "avis-reserves": "NotYetRecruiting", "autorise": "NotYetRecruiting",
    "avis-defavorable": "Withdrawn", "donnees-disponibles": "ActiveNotRecruiting",
    "en-cours": "ActiveNotRecruiting", "termine": "Completed", "abandonne": "Terminated",
}


class LegalBasis(_Labelled):
    CNIL_AUTHORISATION = "autorisation-cnil"   #: individual CNIL authorisation after CESREES
    MR004 = "mr-004"                           #: MR-004 (research not involving the person)
    MR005 = "mr-005"                           #: MR-005 (PMSI studies by hospitals)
    MR006 = "mr-006"                           #: MR-006 (PMSI studies by manufacturers)
    MR007 = "mr-007"                           #: MR-007 (SNDS sample)
    PUBLIC_MISSION = "mission-publique"        #: a public-interest mission set by law


LegalBasis.LABELS = {  # type: ignore[attr-defined]
    "autorisation-cnil": _l("Autorisation de la CNIL"),
    "mr-004": _l("Méthodologie de référence MR-004"),
    "mr-005": _l("Méthodologie de référence MR-005"),
    "mr-006": _l("Méthodologie de référence MR-006"),
    "mr-007": _l("Méthodologie de référence MR-007"),
    "mission-publique": _l("Mission d'intérêt public prévue par la loi"),
}


class ProcessingLocation(_Labelled):
    PLATFORM = "plateforme"   #: the platform's secure workspace
    ELSEWHERE = "ailleurs"    #: another authorised secure environment


ProcessingLocation.LABELS = {  # type: ignore[attr-defined]
    "plateforme": _l("Espace sécurisé de la plateforme"),
    "ailleurs": _l("Autre environnement sécurisé autorisé"),
}


class ResultKind(_Labelled):
    ARTICLE = "article"
    REPORT = "rapport"
    THESIS = "these"
    CODE = "code"
    DATASET = "jeu-de-donnees"
    ALGORITHM = "algorithme"


ResultKind.LABELS = {  # type: ignore[attr-defined]
    "article": _l("Article scientifique"), "rapport": _l("Rapport"), "these": _l("Thèse"),
    "code": _l("Code source"), "jeu-de-donnees": _l("Jeu de données"),
    "algorithme": _l("Algorithme"),
}

THEMES = {
    "cardiologie": _l("Cardiologie"), "oncologie": _l("Cancers"),
    "pediatrie": _l("Santé des enfants"), "maladies-rares": _l("Maladies rares"),
    "prevention": _l("Prévention"), "sante-environnement": _l("Santé et environnement"),
    "covid-19": _l("COVID-19"), "neurologie": _l("Neurologie"),
    "pharmaco-epidemiologie": _l("Médicaments"), "parcours-de-soins": _l("Parcours de soins"),
    "sante-mentale": _l("Santé mentale"), "diabete": _l("Diabète et maladies chroniques"),
    "vieillissement": _l("Vieillissement"), "perinatalite": _l("Grossesse et naissance"),
}
# The themes that are diseases, with the name of the condition (schema.org MedicalCondition,
# the JSON-LD ``healthCondition`` of a project). The others (prevention, care pathways,
# medicines, children's health, environment, ageing, pregnancy) are subjects, not conditions.
HEALTH_CONDITIONS = {
    "cardiologie": _l("Maladies cardiovasculaires"), "oncologie": _l("Cancers"),
    "maladies-rares": _l("Maladies rares"), "covid-19": _l("COVID-19"),
    "neurologie": _l("Maladies neurologiques"), "sante-mentale": _l("Troubles psychiques"),
    "diabete": _l("Diabète et maladies chroniques"),
}
