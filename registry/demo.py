"""A realistic, clearly fictional demo register, built from a fixed seed.

Organisations are invented (plausible French names; the city of an organisation is the one its
name gives, fictional towns included); the data sources are the real parts of the SNDS and real
catalogue databases, used only from the year they became available. Titles come from templates
that fit the kind of subject (a disease, an exposure, a prevention action, a care pathway, a
medicine, a risk). The authorisation path follows docs/sources-reference: a CESREES opinion, then
a CNIL authorisation with a decision number, or a declaration of conformity to a reference
methodology (MR-00x) without one.

Everything goes through ``service.save_project``, one version per step and per result, each
dated on the day it happened, so the history reads in order. No value depends on the clock.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.orm import Session

from registry import service
from registry.catalogue import DATA_SOURCES

AUTHOR = "Équipe du registre (démonstration)"
TODAY = date(2026, 11, 1)
SINCE = {s["code"]: s["since_year"] for s in DATA_SOURCES}

CITIES = ["Lyon", "Marseille", "Toulouse", "Lille", "Bordeaux", "Nantes", "Strasbourg",
          "Montpellier", "Rennes", "Grenoble", "Dijon", "Angers", "Brest", "Tours", "Limoges",
          "Clermont-Ferrand", "Amiens", "Rouen", "Nancy", "Poitiers", "Caen", "Reims", "Nice",
          "Besançon", "Saint-Étienne", "Orléans", "Avignon", "Annecy", "Le Havre", "Hyères",
          "Pointe-à-Pitre", "Paris"]
PLACES = ["Valmont", "Lormont-sur-Loire", "Bellerive", "Haute-Combe", "Val-d'Arne",
          "Saint-Aubin-des-Prés", "Clairefontaine", "Montbrison-le-Vieux", "Rochenoire",
          "Beaulieu-sur-Orne", "Vallon-Doré", "Sainte-Colombe", "Aubeval", "Isles-sur-Vaudre",
          "Ormont-la-Rivière", "Le Val-Fleuri"]
# Words starting with a mute h take "d'" (d'Hyères); an aspirated h keeps "de" (de Haute-Combe).
MUTE_H = ("Hyères", "Honfleur", "Hérouville", "Hôpital", "Hélix")


def de(name: str) -> str:
    """"de" before a name, as French writes it: d'Amiens, du Havre, des Ulis, de Lyon."""
    if name.startswith("Le "):
        return "du " + name[3:]
    if name.startswith("Les "):
        return "des " + name[4:]
    first = unicodedata.normalize("NFD", name[:1])[:1].lower()
    if first in "aeiouy" or name.startswith(MUTE_H):
        return "d'" + name
    return "de " + name


_CONTRACTIONS = ((" à le ", " au "), (" à les ", " aux "), (" de le ", " du "),
                 (" de les ", " des "))


def french(text: str) -> str:
    """Apply the contractions French requires once a subject is slotted in (de le → du…)."""
    for wrong, right in _CONTRACTIONS:
        text = text.replace(wrong, right)
    return text


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


# --------------------------------------------------------------------------- organisations

SAINTS = ["Saint-Martin", "Sainte-Anne", "Saint-Luc", "Saint-Joseph", "Sainte-Marguerite"]
NAMES = ["Aurore", "Vitalis", "Orphéo", "Cèdre", "Hélix", "Norvia", "Calyx", "Lumen", "Altéa",
         "Sirona", "Equinox", "Meridia", "Azur", "Kalia", "Opaline", "Sémaphore"]
CAUSES = ["des patients atteints de maladies rares", "de lutte contre le diabète",
          "des familles d'enfants malades", "de soutien aux personnes dialysées",
          "contre les maladies du cœur", "des personnes vivant avec une épilepsie"]
SPECIALITIES = ["cardiologie", "pédiatrie", "neurologie", "santé publique", "cancérologie"]
# kind → (pattern, where the organisation is: "place" or "city" in its name, else anywhere)
ORGANISATION_PATTERNS: dict[str, list[tuple[str, str]]] = {
    "hopital": [("Centre hospitalier universitaire {de_place}", "place"),
                ("Hôpital {saint} {de_city}", "city"),
                ("Groupe hospitalier {de_place}", "place"),
                ("Centre hospitalier {de_place}", "place")],
    "recherche": [("Université {de_place}", "place"),
                  ("Institut de recherche en santé {de_place}", "place"),
                  ("Laboratoire d'épidémiologie {de_city}", "city"),
                  ("École de santé publique {de_place}", "place")],
    "agence": [("Observatoire régional de santé {de_place}", "place"),
               ("Agence régionale de santé {de_place}", "place"),
               ("Caisse primaire d'assurance maladie {de_place}", "place")],
    "entreprise": [("Laboratoires {name}", ""), ("{name} Pharma", ""),
                   ("{name} Dispositifs médicaux", ""), ("Mutuelle {name}", "")],
    "start-up": [("{name} Santé", ""), ("{name} Analytics", ""), ("{name} IA médicale", ""),
                 ("Data{name}", "")],
    "association": [("Association {cause}", ""), ("Fondation {name} pour la recherche", ""),
                    ("Société française fictive de {speciality}", "")],
}
# Public funders (created on first use, as agencies)
FUNDERS = ["Agence nationale de la recherche (démonstration)",
           "Programme hospitalier de recherche clinique (démonstration)",
           "Fonds européen pour la recherche (démonstration)"]


def build_organisations(rng: random.Random, count: int) -> list[dict]:
    """``count`` distinct organisations; each one's city is the place its name gives."""
    kinds = (["hopital"] * 30 + ["recherche"] * 20 + ["agence"] * 8 + ["entreprise"] * 16
             + ["start-up"] * 10 + ["association"] * 8)
    organisations, names = [], set()
    while len(organisations) < count:
        kind = rng.choice(kinds)
        pattern, where = rng.choice(ORGANISATION_PATTERNS[kind])
        place, city = rng.choice(PLACES), rng.choice(CITIES)
        name = pattern.format(place=place, de_place=de(place), city=city, de_city=de(city),
                              saint=rng.choice(SAINTS), name=rng.choice(NAMES),
                              cause=rng.choice(CAUSES), speciality=rng.choice(SPECIALITIES))
        if name in names:
            continue
        names.add(name)
        located = {"place": place, "city": city}.get(where) or (
            "Paris" if name.startswith("Société française") else rng.choice(CITIES))
        organisations.append({"name": name, "kind": kind, "city": located})
    return organisations


# --------------------------------------------------------------------------- subjects

# Subject kind → (title template, what the project seeks to do, uses AI); titles read well with
# every subject of that kind. ``{s}`` is the subject with its article.
AIMS: dict[str, list[tuple[str, str, bool]]] = {
    "maladie": [
        ("Mieux connaître {s}", "décrire combien de personnes sont concernées, qui elles sont "
         "et comment elles sont soignées", False),
        ("Parcours de soins dans {s}", "suivre les soins reçus avant et après le diagnostic, "
         "pour repérer les retards et les ruptures de suivi", False),
        ("Évaluer les traitements de {s}", "comparer l'efficacité et la sécurité des "
         "traitements utilisés en pratique courante", False),
        ("Inégalités territoriales face à {s}", "mesurer les différences entre régions et "
         "entre milieux sociaux, pour orienter l'offre de soins", False),
        ("Prédire l'évolution de {s}", "construire un outil qui repère plus tôt les personnes "
         "dont l'état risque de s'aggraver", True),
        ("Le coût de {s} pour l'Assurance Maladie", "estimer les dépenses de santé liées à "
         "cette maladie et leur évolution", False),
    ],
    "exposition": [
        ("Effets de {s} sur la santé", "mesurer les liens entre cette exposition et les "
         "maladies, à partir des soins et des hospitalisations", False),
        ("Hospitalisations liées à {s}", "compter les hospitalisations et les passages aux "
         "urgences attribuables à cette exposition", False),
        ("Inégalités territoriales face à {s}", "mesurer qui est le plus exposé, selon la "
         "région et le milieu social", False),
        ("Prédire les effets de {s} sur la santé", "construire un modèle qui estime, lieu "
         "par lieu, les effets attendus de cette exposition", True),
        ("Le coût des effets de {s} pour l'Assurance Maladie", "estimer les dépenses de santé "
         "attribuables à cette exposition", False),
    ],
    "prevention": [
        ("Participation à {s}", "mesurer qui y participe, qui n'y participe pas, et "
         "pourquoi", False),
        ("Inégalités territoriales face à {s}", "mesurer les différences entre régions et "
         "entre milieux sociaux, pour mieux cibler les actions", False),
        ("Mesurer l'efficacité de {s}", "comparer la santé des personnes qui en ont bénéficié "
         "et celle des autres", False),
        ("Repérer les personnes éloignées de {s}", "construire un outil qui aide à aller vers "
         "les personnes qui n'en bénéficient pas", True),
        ("Le coût de {s} pour l'Assurance Maladie", "estimer les dépenses et les économies "
         "liées à cette action de prévention", False),
    ],
    "parcours": [
        ("Mieux comprendre {s}", "décrire les étapes des soins et le temps passé entre "
         "chacune", False),
        ("Améliorer {s}", "repérer les organisations de soins qui donnent les meilleurs "
         "résultats", False),
        ("Différences entre régions pour {s}", "mesurer les différences entre régions et "
         "entre milieux sociaux, pour orienter l'offre de soins", False),
        ("Repérer les ruptures dans {s}", "construire un outil qui signale les patients dont "
         "le suivi s'interrompt", True),
        ("Le coût de {s} pour l'Assurance Maladie", "estimer les dépenses de santé liées à "
         "ces soins et leur évolution", False),
    ],
    "medicament": [
        ("Sécurité d'emploi de {s}", "repérer les effets indésirables graves et les "
         "personnes les plus exposées", False),
        ("Usage en vie réelle de {s}", "décrire qui reçoit ces médicaments, à quelle dose et "
         "pendant combien de temps", False),
        ("Comparer l'efficacité de {s}", "comparer l'efficacité des traitements utilisés en "
         "pratique courante", False),
        ("Prédire les effets indésirables de {s}", "construire un outil qui repère les "
         "patients à risque d'effet indésirable grave", True),
        ("Le coût de {s} pour l'Assurance Maladie", "estimer les dépenses de remboursement "
         "et leur évolution", False),
    ],
    "risque": [
        ("Mieux connaître {s}", "décrire combien de personnes sont concernées et dans quelles "
         "circonstances", False),
        ("Prévenir {s}", "repérer les facteurs de risque sur lesquels la prévention peut "
         "agir", False),
        ("Inégalités territoriales face à {s}", "mesurer les différences entre régions et "
         "entre milieux sociaux, pour orienter la prévention", False),
        ("Prédire {s}", "construire un outil qui repère plus tôt les personnes à risque",
         True),
        ("Le coût de {s} pour l'Assurance Maladie", "estimer les dépenses de santé qui en "
         "découlent", False),
    ],
}
SUMMARIES = {
    "exposition": "Ce projet étudie les effets de {s} sur la santé, chez {population}.",
}
DEFAULT_SUMMARY = "Ce projet porte sur {s}, chez {population}."


@dataclass(frozen=True)
class Subject:
    text: str                      # with its article: "l'insuffisance cardiaque"
    kind: str                      # a key of AIMS
    sources: tuple[str, ...] = ()  # databases this subject calls for, besides the theme's
    since: int = 2019              # first year a project on it can be filed


def S(text: str, kind: str = "maladie", *sources: str, since: int = 2019) -> Subject:
    """A subject, written short for the table below."""
    return Subject(text, kind, sources, since)


# theme → subjects, population, the theme's usual sources, related themes
THEME_SPECS: dict[str, dict] = {
    "cardiologie": dict(
        subjects=[S("l'insuffisance cardiaque"), S("l'infarctus du myocarde"),
                  S("la fibrillation atriale"), S("l'hypertension artérielle"),
                  S("les accidents vasculaires cérébraux")],
        population="les adultes soignés pour une maladie cardiovasculaire",
        sources=["DCIR", "PMSI-MCO", "PMSI-SMR", "CEPIDC"],
        related=["diabete", "vieillissement", "pharmaco-epidemiologie"]),
    "oncologie": dict(
        subjects=[S("le cancer du sein", "maladie", "ESME"),
                  S("le cancer du poumon", "maladie", "ESME", "ATU-CBPC"),
                  S("le cancer colorectal"), S("les cancers de l'enfant"), S("le mélanome"),
                  S("le cancer de la prostate"),
                  S("le dépistage organisé du cancer colorectal", "prevention", "E-SIS"),
                  S("les anticancéreux oraux", "medicament", "ESME")],
        population="les personnes soignées pour un cancer",
        sources=["DCIR", "PMSI-MCO", "PMSI-HAD", "CEPIDC"],
        related=["prevention", "parcours-de-soins", "pharmaco-epidemiologie"]),
    "pediatrie": dict(
        subjects=[S("l'asthme de l'enfant", "maladie", "OSCOUR"),
                  S("la bronchiolite du nourrisson", "maladie", "OSCOUR"),
                  S("l'obésité de l'enfant"), S("l'épilepsie de l'enfant"),
                  S("les accidents domestiques de l'enfant", "risque", "OSCOUR")],
        population="les enfants de 0 à 17 ans",
        sources=["DCIR", "PMSI-MCO"],
        related=["prevention", "perinatalite"]),
    "maladies-rares": dict(
        subjects=[S("la mucoviscidose", "maladie", "BNDMR"),
                  S("la drépanocytose", "maladie", "BNDMR"),
                  S("la myopathie de Duchenne", "maladie", "BNDMR"),
                  S("les maladies rares du foie", "maladie", "BNDMR"),
                  S("l'amylose", "maladie", "BNDMR")],
        population="les patients suivis dans un centre expert des maladies rares",
        sources=["DCIR", "PMSI-MCO"],
        related=["pediatrie", "parcours-de-soins"]),
    "prevention": dict(
        subjects=[S("le dépistage du cancer du col de l'utérus", "prevention", "E-SIS"),
                  S("la vaccination contre la grippe", "prevention"),
                  S("l'aide à l'arrêt du tabac", "prevention"),
                  S("le dépistage organisé du cancer du sein", "prevention", "E-SIS")],
        population="les adultes de 25 à 74 ans",
        sources=["DCIR", "PMSI-MCO"],
        related=["oncologie", "cardiologie"]),
    "sante-environnement": dict(
        subjects=[S("la pollution de l'air", "exposition"),
                  S("les vagues de chaleur", "exposition", "OSCOUR"),
                  S("les pesticides", "exposition"),
                  S("le bruit des transports", "exposition")],
        population="les habitants des zones étudiées",
        sources=["DCIR", "PMSI-MCO", "CEPIDC"],
        related=["prevention", "cardiologie"]),
    "covid-19": dict(
        subjects=[S("les formes graves de la COVID-19", "maladie", "SI-DEP", "VAC-SI",
                    since=2021),
                  S("le COVID long", "maladie", "SI-DEP", since=2020),
                  S("la vaccination contre la COVID-19", "prevention", "VAC-SI", since=2021),
                  S("la reprise des soins reportés pendant l'épidémie", "parcours",
                    since=2020)],
        population="les assurés de tous les régimes, testés, malades ou vaccinés",
        sources=["DCIR", "PMSI-MCO"],
        related=["parcours-de-soins", "prevention"]),
    "neurologie": dict(
        subjects=[S("la maladie d'Alzheimer"), S("la maladie de Parkinson"),
                  S("la sclérose en plaques"), S("l'épilepsie")],
        population="les personnes atteintes d'une maladie neurologique",
        sources=["DCIR", "PMSI-MCO", "PMSI-SMR"],
        related=["vieillissement", "pharmaco-epidemiologie"]),
    "pharmaco-epidemiologie": dict(
        subjects=[S("les antidiabétiques récents", "medicament"),
                  S("les anticoagulants oraux", "medicament"),
                  S("les antidépresseurs chez la personne âgée", "medicament"),
                  S("les antibiotiques en ville", "medicament")],
        population="les personnes ayant reçu les médicaments étudiés",
        sources=["DCIR", "PMSI-MCO", "CEPIDC"],
        related=["vieillissement", "cardiologie"]),
    "parcours-de-soins": dict(
        subjects=[S("le retour à domicile après une hospitalisation", "parcours", "PMSI-HAD"),
                  S("la prise en charge après un passage aux urgences", "parcours", "OSCOUR",
                    "E-MUST"),
                  S("les soins de suite après un AVC", "parcours"),
                  S("la coordination des soins entre la ville et l'hôpital", "parcours")],
        population="les assurés de tous les régimes",
        sources=["DCIR", "PMSI-MCO", "PMSI-SMR"],
        related=["vieillissement"]),
    "sante-mentale": dict(
        subjects=[S("la dépression"), S("les troubles bipolaires"), S("la schizophrénie"),
                  S("les troubles anxieux"), S("les gestes suicidaires", "risque", "OSCOUR")],
        population="les personnes suivies pour un trouble psychique",
        sources=["DCIR", "PMSI-PSY", "PMSI-MCO", "CEPIDC"],
        related=["pharmaco-epidemiologie", "parcours-de-soins"]),
    "diabete": dict(
        subjects=[S("le diabète de type 2"), S("l'insuffisance rénale chronique"),
                  S("la rétinopathie diabétique")],
        population="les personnes vivant avec un diabète ou une maladie chronique",
        sources=["DCIR", "PMSI-MCO"],
        related=["cardiologie", "pharmaco-epidemiologie"]),
    "vieillissement": dict(
        subjects=[S("les chutes des personnes âgées", "risque"),
                  S("la perte d'autonomie", "risque"), S("la fragilité après 75 ans", "risque"),
                  S("l'entrée en maison de retraite", "parcours")],
        population="les personnes de 75 ans et plus",
        sources=["DCIR", "PMSI-MCO", "PMSI-SMR", "PMSI-HAD"],
        related=["neurologie", "parcours-de-soins"]),
    "perinatalite": dict(
        subjects=[S("le diabète pendant la grossesse"), S("la prématurité", "risque"),
                  S("la dépression après l'accouchement")],
        population="les femmes enceintes et les nouveau-nés",
        sources=["DCIR", "PMSI-MCO"],
        related=["pediatrie"]),
}
EXCEPTIONS = {
    "entreprise": "Étude de sécurité des médicaments imposée par la loi : les oppositions ne "
                  "s'appliquent pas aux traitements réalisés pour une mission de "
                  "pharmacovigilance.",
    "agence": "Traitement réalisé par un service de l'État disposant d'un accès permanent aux "
              "données, auquel le droit d'opposition ne s'applique pas.",
}
ELSEWHERE = {"hopital": "Entrepôt de données de santé de l'hôpital promoteur, homologué",
             "default": "Espace sécurisé homologué du promoteur"}
RESULT_TITLES = [
    ("article", "{aim} : résultats d'une étude nationale"),
    ("rapport", "Rapport final – {aim}"),
    ("code", "Programmes d'analyse de l'étude {reference}"),
    ("these", "Thèse de doctorat : {aim}"),
    ("jeu-de-donnees", "Indicateurs agrégés de l'étude {reference}"),
    ("algorithme", "Algorithme de repérage – {aim}"),
]
YEAR_WEIGHTS = dict(zip(range(2019, 2027), [5, 8, 10, 13, 15, 17, 18, 14], strict=True))


# --------------------------------------------------------------------------- projects

@dataclass
class DemoProject:
    """A project's final data, its dated steps, and its results in publication order."""

    data: dict
    steps: list[tuple[str, date]]
    results: list[dict] = field(default_factory=list)


def _status_path(rng: random.Random, submitted: date, today: date) -> list[tuple[str, date]]:
    """A plausible sequence of dated steps ending at a random point of the path."""
    steps = [("depose", submitted)]
    day = submitted + timedelta(days=rng.randint(45, 120))
    if day > today:
        return steps
    opinion = rng.choices(["avis-favorable", "avis-reserves", "avis-defavorable"],
                          [70, 24, 6])[0]
    steps.append((opinion, day))
    if opinion == "avis-defavorable":
        return steps
    day += timedelta(days=rng.randint(60, 240))  # about a year from filing to the data
    if day > today:
        return steps
    steps.append(("autorise", day))
    for status, low, high in (("donnees-disponibles", 60, 240), ("en-cours", 7, 40),
                              ("termine", 300, 1100)):
        day += timedelta(days=rng.randint(low, high))
        if day > today:
            return steps
        steps.append((status, day))
    return steps


def _legal_basis(rng: random.Random, kind: str, sources: list[str]) -> str:
    """The legal basis a project with these sources and this sponsor can use."""
    # MR-004 alone gives no access to the SNDS (content/fr/autorisation-des-projets.md): only
    # the PMSI methodologies are used here.
    pmsi_only = all(s.startswith("PMSI-") for s in sources)
    if pmsi_only and kind == "hopital" and rng.random() < 0.6:
        return "mr-005"                 # PMSI studies by hospitals
    if pmsi_only and kind in ("entreprise", "start-up") and rng.random() < 0.6:
        return "mr-006"                 # PMSI studies by manufacturers
    return "autorisation-cnil"


def build_projects(rng: random.Random, organisations: list[dict], count: int,
                   today: date = TODAY) -> list[DemoProject]:
    projects: list[DemoProject] = []
    used_refs: set[str] = set()
    themes = list(THEME_SPECS)
    research = [o for o in organisations if o["kind"] in ("recherche", "hopital")]
    foundations = [o for o in organisations if o["kind"] == "association"]
    for _ in range(count):
        theme = rng.choice(themes)
        spec = THEME_SPECS[theme]
        subject: Subject = rng.choice(spec["subjects"])
        title_template, aim_text, aim_ai = rng.choice(AIMS[subject.kind])
        sponsor = rng.choice(organisations)
        kind = sponsor["kind"]
        years = [y for y in YEAR_WEIGHTS if y >= subject.since]
        year = rng.choices(years, [YEAR_WEIGHTS[y] for y in years])[0]
        while True:
            reference = f"HDH-{year}-{rng.randint(1, 9999):04d}"
            if reference not in used_refs:
                used_refs.add(reference)
                break
        submitted = min(date(year, rng.randint(1, 12), rng.randint(1, 28)),
                        today - timedelta(days=rng.randint(10, 60)))
        steps = _status_path(rng, submitted, today)
        if len(steps) >= 4 and steps[-1][0] != "termine" and rng.random() < 0.05:
            steps.append(("abandonne", min(today, steps[-1][1] + timedelta(days=90))))
        status = steps[-1][0]

        # Sources: what the subject calls for, then the theme's usual ones; never one that
        # was not available when the project was filed.
        usual = spec["sources"]
        wanted = [*subject.sources, *rng.sample(usual, k=rng.randint(1, min(3, len(usual))))]
        sources = sorted({s for s in wanted if SINCE[s] <= year}) or ["DCIR"]
        pmsi_study = {"hopital": 0.12, "entreprise": 0.2, "start-up": 0.2}.get(kind, 0)
        if rng.random() < pmsi_study:  # a hospital-stay study (the MR-005/MR-006 kind)
            sources = ["PMSI-MCO"] + (["PMSI-SMR"] if rng.random() < 0.3 else [])
        catalogue = [s for s in subject.sources if SINCE[s] >= 2022 and SINCE[s] <= year]
        if catalogue and kind in ("hopital", "recherche") and rng.random() < 0.3:
            sources = sorted(catalogue)  # a study of catalogue databases only
        objections_applied = not (kind in EXCEPTIONS and rng.random() < 0.1)
        legal_basis = ("mission-publique" if not objections_applied and kind == "agence"
                       else _legal_basis(rng, kind, sources))
        authorised_on = next((d for s, d in steps if s == "autorise"), None)
        ended = next((d for s, d in steps if s in ("termine", "abandonne")), None)
        individual = legal_basis == "autorisation-cnil"
        decision = (f"DR-{authorised_on.year}-{rng.randint(100, 999)}"
                    if authorised_on and individual else "")
        path_note = ("" if individual else
                     "Traitement prévu par la loi : pas d'autorisation individuelle de la CNIL."
                     if legal_basis == "mission-publique" else
                     f"Déclaration de conformité à la méthodologie de référence "
                     f"{legal_basis.upper()} : pas d'autorisation individuelle de la CNIL.")
        events = [{"status": s, "date": d.isoformat(),
                   "decision_number": decision if s == "autorise" else "",
                   "note": path_note if s == "autorise" else ""} for s, d in steps]

        start_year = 2020 if subject.since >= 2020 else rng.randint(2008, max(2009, year - 2))
        end_year = max(start_year, min(year - 1, start_year + 12))
        planned_end = (authorised_on or submitted) + timedelta(days=rng.randint(540, 1460))
        aim = french(title_template.format(s=subject.text))
        uses_ai = aim_ai or rng.random() < 0.3
        elsewhere = rng.random() < 0.25

        results: list[dict] = []
        if status == "termine" and ended and rng.random() < 0.7:
            for published in sorted(ended + timedelta(days=rng.randint(60, 820))
                                    for _ in range(rng.randint(1, 3))):
                result_kind, pattern = rng.choice(RESULT_TITLES)
                title = pattern.format(aim=aim, reference=reference)
                if published > today or any(r["title"] == title for r in results):
                    continue
                number = len(results) + 1
                results.append({
                    "kind": result_kind, "title": title, "published_on": published.isoformat(),
                    "url": f"https://exemple.fr/publications/{reference.lower()}-{number}",
                    "doi": f"10.99999/demo.{reference.lower()}.{number}"
                           if result_kind == "article" else "",
                    "summary": french(f"Ce document présente les résultats de l'étude sur "
                                      f"{subject.text}. Il décrit la méthode, les principaux "
                                      "chiffres et leurs limites."),
                })
        extra = rng.choice(spec["related"]) if rng.random() < 0.25 else None
        controller = (rng.choice([o for o in research if o["name"] != sponsor["name"]])
                      if kind not in ("entreprise", "start-up") and rng.random() < 0.12
                      else None)
        funders = []
        if rng.random() < 0.5:
            funders.append(rng.choice(FUNDERS))
        if foundations and rng.random() < 0.1:
            funders.append(rng.choice(foundations)["name"])
        summary_template = SUMMARIES.get(subject.kind, DEFAULT_SUMMARY)
        data = {
            "reference": reference,
            "title": _capitalise(aim) + f" ({rng.choice(['étude', 'cohorte', 'projet'])} "
                                        f"{rng.choice(NAMES)})",
            "summary": french(summary_template.format(s=subject.text,
                                                      population=spec["population"])
                              + f" Il cherche à {aim_text}. Les chercheurs n'ont accès ni "
                                "aux noms ni aux adresses : les données sont pseudonymisées."),
            "objective": french(f"Objectif principal, pour {subject.text} : {aim_text}. "
                                f"Population : {spec['population']}, de {start_year} à "
                                f"{end_year}."),
            "public_interest": rng.choice([
                "Les résultats aideront les autorités de santé à mieux organiser les soins.",
                "L'étude doit améliorer la sécurité des traitements pour les patients.",
                "Les connaissances produites serviront à orienter la prévention.",
                "Les résultats seront publiés et partagés avec les associations de patients.",
            ]),
            "sponsor": sponsor["name"], "sponsor_kind": kind, "sponsor_city": sponsor["city"],
            "controller": controller["name"] if controller else "",
            "funders": funders,
            "sources": sources,
            "population": _capitalise(spec["population"]),
            "period_start_year": start_year,
            "period_end_year": end_year,
            "uses_ai": uses_ai,
            "data_linkage": len(sources) > 1 and rng.random() < 0.8,
            "legal_basis": legal_basis,
            "commercial": kind in ("entreprise", "start-up") and rng.random() < 0.7,
            "processing_location": "ailleurs" if elsewhere else "plateforme",
            "processing_location_detail":
                (ELSEWHERE.get(kind, ELSEWHERE["default"]) if elsewhere else ""),
            "objections_applied": objections_applied,
            "objection_exception_reason": "" if objections_applied else EXCEPTIONS[kind],
            "themes": [theme] + ([extra] if extra and extra != theme else []),
            "status": status,
            "cnil_decision": decision,
            "authorised_on": authorised_on.isoformat() if authorised_on else None,
            "planned_end": planned_end.isoformat(),
            "processing_ended_on": ended.isoformat() if ended else None,
            "objection_deadline": (planned_end - timedelta(days=180)).isoformat()
            if status not in ("termine", "abandonne", "avis-defavorable") else None,
            "status_events": events,
        }
        projects.append(DemoProject(data, steps, results))
    return projects


def versions(project: DemoProject) -> list[tuple[datetime, dict]]:
    """The project as published at each step, then at each result: (moment, data). A version
    never shows a step or a result from after its own date."""
    data, steps = project.data, project.steps
    published = []
    for index, (_, day) in enumerate(steps, start=1):
        shown = {s for s, _ in steps[:index]}
        version = dict(data, status=steps[index - 1][0],
                       status_events=data["status_events"][:index], results=[])
        if "autorise" not in shown:
            version.update(authorised_on=None, cnil_decision="")
        if not shown & {"termine", "abandonne"}:
            version["processing_ended_on"] = None
        if version["status"] in ("termine", "abandonne", "avis-defavorable"):
            version["objection_deadline"] = None
        else:
            planned = date.fromisoformat(data["planned_end"])
            version["objection_deadline"] = (planned - timedelta(days=180)).isoformat()
        published.append((datetime.combine(day, time(10 + index), tzinfo=UTC), version))
    final = published[-1][1]
    for count, result in enumerate(project.results, start=1):
        day = date.fromisoformat(result["published_on"])
        published.append((datetime.combine(day, time(9, count), tzinfo=UTC),
                          dict(final, results=project.results[:count])))
    return published


def build_demo(session: Session, *, seed: int = 2026, count: int = 420,
               organisations: int = 72, today: date | None = None,
               progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Fill an empty register with the demo; returns counts. Deterministic for a seed."""
    today = today or TODAY
    rng = random.Random(seed)
    service.sync_data_sources(session)
    orgs = build_organisations(rng, organisations)
    for org in orgs:
        service.get_or_create_organisation(session, org["name"], org["kind"], org["city"])
    revisions = 0
    for project in build_projects(rng, orgs, count, today):
        for moment, data in versions(project):
            service.save_project(session, data, by=AUTHOR, now=moment)
            revisions += 1
        if progress:
            progress(1)
    session.flush()
    return {"projects": count, "organisations": len(orgs), "revisions": revisions}

