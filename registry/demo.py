"""A realistic, clearly fictional demo register, built from a fixed seed.

Organisations are invented (plausible French names, real cities); the data sources are the real
parts of the SNDS and real catalogue databases. Everything goes through ``save_project`` so the
demo has revisions like a real register.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from registry import service

CITIES = ["Lyon", "Marseille", "Toulouse", "Lille", "Bordeaux", "Nantes", "Strasbourg",
          "Montpellier", "Rennes", "Grenoble", "Dijon", "Angers", "Brest", "Tours", "Limoges",
          "Clermont-Ferrand", "Amiens", "Rouen", "Nancy", "Poitiers", "Caen", "Reims", "Nice",
          "Besançon", "Saint-Étienne", "Pointe-à-Pitre", "Saint-Denis (La Réunion)", "Paris"]
PLACES = ["Valmont", "Lormont-sur-Loire", "Bellerive", "Haute-Combe", "Val-d'Arne",
          "Saint-Aubin-des-Prés", "Clairefontaine", "Montbrison-le-Vieux", "Rochenoire",
          "Beaulieu-sur-Orne", "Vallon-Doré", "Sainte-Colombe"]

ORGANISATION_PATTERNS = {
    "hopital": ["Centre hospitalier universitaire de {place}", "Hôpital {saint} de {city}",
                "Groupe hospitalier {place}", "Centre hospitalier de {place}"],
    "recherche": ["Université de {place}", "Institut de recherche en santé de {place}",
                  "Laboratoire d'épidémiologie de {city}", "École de santé publique de {place}"],
    "agence": ["Observatoire régional de santé de {place}", "Agence régionale de santé de {place}",
               "Caisse primaire d'assurance maladie de {place}"],
    "entreprise": ["Laboratoires {name}", "{name} Pharma", "{name} Dispositifs médicaux",
                   "Mutuelle {name}"],
    "start-up": ["{name} Santé", "{name} Analytics", "{name} IA médicale", "Data{name}"],
    "association": ["Association {cause}", "Fondation {name} pour la recherche",
                    "Société française fictive de {speciality}"],
}
SAINTS = ["Saint-Martin", "Sainte-Anne", "Saint-Luc", "Saint-Joseph", "Sainte-Marguerite"]
NAMES = ["Aurore", "Vitalis", "Orphéo", "Cèdre", "Hélix", "Norvia", "Calyx", "Lumen", "Altéa",
         "Sirona", "Equinox", "Meridia", "Azur", "Kalia", "Opaline", "Sémaphore"]
CAUSES = ["des patients atteints de maladies rares", "de lutte contre le diabète",
          "des familles d'enfants malades", "de soutien aux personnes dialysées",
          "contre les maladies du cœur", "des personnes vivant avec une épilepsie"]
SPECIALITIES = ["cardiologie", "pédiatrie", "neurologie", "santé publique", "cancérologie"]

# theme → (subjects, populations, sources that fit)
THEME_SPECS: dict[str, dict] = {
    "cardiologie": dict(
        subjects=["l'insuffisance cardiaque", "l'infarctus du myocarde",
                  "la fibrillation atriale", "l'hypertension artérielle",
                  "les accidents vasculaires cérébraux"],
        population="adultes hospitalisés pour une maladie cardiovasculaire",
        sources=["DCIR", "PMSI-MCO", "PMSI-SMR", "CEPIDC"]),
    "oncologie": dict(
        subjects=["le cancer du sein", "le cancer du poumon", "le cancer colorectal",
                  "les cancers de l'enfant", "le mélanome", "le cancer de la prostate"],
        population="personnes traitées pour un cancer",
        sources=["DCIR", "PMSI-MCO", "ESME", "E-SIS", "ATU-CBPC", "PMSI-HAD"]),
    "pediatrie": dict(
        subjects=["l'asthme de l'enfant", "la bronchiolite du nourrisson",
                  "les enfants nés prématurés", "l'obésité de l'enfant"],
        population="enfants de 0 à 17 ans",
        sources=["DCIR", "PMSI-MCO", "OSCOUR"]),
    "maladies-rares": dict(
        subjects=["la mucoviscidose", "la drépanocytose", "la myopathie de Duchenne",
                  "les maladies rares du foie", "l'amylose"],
        population="patients suivis dans un centre expert des maladies rares",
        sources=["BNDMR", "DCIR", "PMSI-MCO"]),
    "prevention": dict(
        subjects=["le dépistage du cancer du col de l'utérus", "la vaccination contre la grippe",
                  "le sevrage tabagique", "le dépistage organisé du cancer du sein"],
        population="adultes de 25 à 74 ans",
        sources=["DCIR", "E-SIS", "PMSI-MCO"]),
    "sante-environnement": dict(
        subjects=["la pollution de l'air", "les vagues de chaleur", "les pesticides",
                  "le bruit des transports"],
        population="habitants des zones étudiées",
        sources=["DCIR", "PMSI-MCO", "OSCOUR", "CEPIDC"]),
    "covid-19": dict(
        subjects=["les formes graves de la COVID-19", "le COVID long",
                  "la vaccination contre la COVID-19", "les soins reportés pendant l'épidémie"],
        population="personnes testées ou vaccinées contre la COVID-19",
        sources=["SI-DEP", "VAC-SI", "PMSI-MCO", "DCIR"]),
    "neurologie": dict(
        subjects=["la maladie d'Alzheimer", "la maladie de Parkinson", "la sclérose en plaques",
                  "l'épilepsie"],
        population="personnes atteintes d'une maladie neurologique",
        sources=["DCIR", "PMSI-MCO", "PMSI-SMR"]),
    "pharmaco-epidemiologie": dict(
        subjects=["les antidiabétiques récents", "les anticoagulants oraux",
                  "les antidépresseurs chez la personne âgée", "les antibiotiques en ville"],
        population="personnes ayant reçu le médicament étudié",
        sources=["DCIR", "PMSI-MCO", "CEPIDC"]),
    "parcours-de-soins": dict(
        subjects=["le retour à domicile après une hospitalisation", "les passages aux urgences",
                  "les soins de suite après un AVC", "l'accès aux médecins généralistes"],
        population="assurés de tous les régimes",
        sources=["DCIR", "PMSI-MCO", "PMSI-SMR", "PMSI-HAD", "E-MUST", "OSCOUR"]),
    "sante-mentale": dict(
        subjects=["la dépression", "les troubles bipolaires", "les gestes suicidaires",
                  "la santé mentale des jeunes adultes"],
        population="personnes suivies pour un trouble psychique",
        sources=["DCIR", "PMSI-PSY", "PMSI-MCO", "CEPIDC"]),
    "diabete": dict(
        subjects=["le diabète de type 2", "l'insuffisance rénale chronique",
                  "les complications du diabète"],
        population="personnes vivant avec un diabète",
        sources=["DCIR", "PMSI-MCO"]),
    "vieillissement": dict(
        subjects=["les chutes des personnes âgées", "la perte d'autonomie",
                  "la fragilité après 75 ans"],
        population="personnes de 75 ans et plus",
        sources=["DCIR", "PMSI-MCO", "PMSI-SMR", "PMSI-HAD"]),
    "perinatalite": dict(
        subjects=["le diabète pendant la grossesse", "les accouchements prématurés",
                  "la dépression après l'accouchement"],
        population="femmes enceintes et nouveau-nés",
        sources=["DCIR", "PMSI-MCO"]),
}
AIMS = [
    ("Mieux connaître {subject}", "décrire combien de personnes sont concernées, qui elles sont "
     "et comment elles sont soignées"),
    ("Les parcours de soins dans {subject}", "suivre les soins reçus avant et après le "
     "diagnostic, pour repérer les retards et les ruptures de suivi"),
    ("Évaluer les traitements de {subject}", "comparer l'efficacité et la sécurité des "
     "traitements utilisés en pratique courante"),
    ("Inégalités territoriales face à {subject}", "mesurer les différences entre régions et "
     "entre milieux sociaux, pour orienter l'offre de soins"),
    ("Prédire les complications de {subject}", "construire un outil qui repère plus tôt les "
     "personnes à risque de complication"),
    ("Le coût de {subject} pour l'Assurance Maladie", "estimer les dépenses de santé liées à "
     "cette maladie et leur évolution"),
]
AI_AIMS = {4}
EXCEPTION_REASONS = [
    "Étude de sécurité des médicaments imposée par la loi : les oppositions ne s'appliquent pas "
    "aux traitements réalisés pour une mission de pharmacovigilance.",
    "Traitement réalisé par un service de l'État disposant d'un accès permanent aux données, "
    "auquel le droit d'opposition ne s'applique pas.",
]
RESULT_TITLES = [
    ("article", "{aim} : résultats d'une étude nationale"),
    ("rapport", "Rapport final – {aim}"),
    ("code", "Programmes d'analyse de l'étude {reference}"),
    ("these", "Thèse de doctorat : {aim}"),
    ("jeu-de-donnees", "Indicateurs agrégés de l'étude {reference}"),
    ("algorithme", "Algorithme de repérage – {aim}"),
]


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


_CONTRACTIONS = ((" à le ", " au "), (" à les ", " aux "), (" de le ", " du "),
                 (" de les ", " des "))


def french(text: str) -> str:
    """Apply the contractions French requires once a subject is slotted in (de le → du…)."""
    for wrong, right in _CONTRACTIONS:
        text = text.replace(wrong, right)
    return text


def build_organisations(rng: random.Random, count: int) -> list[dict]:
    kinds = (["hopital"] * 30 + ["recherche"] * 20 + ["agence"] * 8 + ["entreprise"] * 16
             + ["start-up"] * 10 + ["association"] * 8)
    organisations, names = [], set()
    while len(organisations) < count:
        kind = rng.choice(kinds)
        pattern = rng.choice(ORGANISATION_PATTERNS[kind])
        name = pattern.format(place=rng.choice(PLACES), city=rng.choice(CITIES),
                              saint=rng.choice(SAINTS), name=rng.choice(NAMES),
                              cause=rng.choice(CAUSES), speciality=rng.choice(SPECIALITIES))
        if name in names:
            continue
        names.add(name)
        organisations.append({"name": name, "kind": kind, "city": rng.choice(CITIES)})
    return organisations


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
    day += timedelta(days=rng.randint(30, 150))
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


def build_projects(rng: random.Random, organisations: list[dict], count: int,
                   today: date) -> list[dict]:
    projects = []
    used_refs: set[str] = set()
    themes = list(THEME_SPECS)
    for _ in range(count):
        theme = rng.choice(themes)
        spec = THEME_SPECS[theme]
        extra_theme = rng.choice(themes) if rng.random() < 0.25 else None
        subject = rng.choice(spec["subjects"])
        aim_index = rng.randrange(len(AIMS))
        aim_title, aim_text = AIMS[aim_index]
        sponsor = rng.choice(organisations)
        year = rng.choices(range(2019, 2027), [5, 8, 10, 13, 15, 17, 18, 14])[0]
        while True:
            reference = f"HDH-{year}-{rng.randint(1, 9999):04d}"
            if reference not in used_refs:
                used_refs.add(reference)
                break
        submitted = date(year, rng.randint(1, 12), rng.randint(1, 28))
        if submitted > today:
            submitted = today - timedelta(days=rng.randint(10, 60))
        steps = _status_path(rng, submitted, today)
        if len(steps) >= 4 and steps[-1][0] not in ("termine",) and rng.random() < 0.05:
            steps.append(("abandonne", min(today, steps[-1][1] + timedelta(days=90))))
        status = steps[-1][0]
        authorised_on = next((d for s, d in steps if s == "autorise"), None)
        ended = next((d for s, d in steps if s in ("termine", "abandonne")), None)
        uses_ai = aim_index in AI_AIMS or rng.random() < 0.3
        company = sponsor["kind"] in ("entreprise", "start-up")
        objections_applied = rng.random() > 0.04
        sources = sorted(set(rng.sample(spec["sources"], k=min(len(spec["sources"]),
                                                                rng.randint(1, 4)))))
        decision = f"DR-{authorised_on.year}-{rng.randint(100, 999)}" if authorised_on else ""
        events = [{"status": s, "date": d.isoformat(),
                   "decision_number": decision if s == "autorise" else "", "note": ""}
                  for s, d in steps]
        start_year = rng.randint(2008, max(2009, year - 1))
        planned_end = (authorised_on or submitted) + timedelta(days=rng.randint(540, 1460))
        results = []
        if status == "termine" and ended and rng.random() < 0.7:
            for _ in range(rng.randint(1, 3)):
                kind, pattern = rng.choice(RESULT_TITLES)
                published = ended + timedelta(days=rng.randint(60, 820))
                if published > today:
                    continue
                title = french(pattern.format(aim=aim_title.format(subject=subject),
                                              reference=reference))
                if any(r["title"] == title for r in results):
                    continue
                results.append({
                    "kind": kind, "title": title, "published_on": published.isoformat(),
                    "url": "https://exemple.fr/publications/"
                           f"{reference.lower()}-{len(results) + 1}",
                    "doi": f"10.99999/demo.{reference.lower()}.{len(results) + 1}"
                           if kind == "article" else "",
                    "summary": f"Ce document présente les résultats de l'étude sur {subject}. "
                               "Il décrit la méthode, les principaux chiffres et leurs limites.",
                })
        projects.append({
            "reference": reference,
            "title": french(_capitalise(aim_title.format(subject=subject))
                            + f" ({rng.choice(['étude', 'cohorte', 'projet'])} "
                              f"{rng.choice(NAMES)})"),
            "summary": (f"Ce projet étudie {subject} chez les {spec['population']}. "
                        f"Il cherche à {aim_text}. Les chercheurs n'ont accès ni aux noms ni aux "
                        "adresses : les données sont pseudonymisées."),
            "objective": french(f"Objectif principal : {aim_text} ({subject}). "
                          f"Population : {spec['population']}, de {start_year} à "
                          f"{min(year, start_year + 12)}."),
            "public_interest": rng.choice([
                "Les résultats aideront les autorités de santé à mieux organiser les soins.",
                "L'étude doit améliorer la sécurité des traitements pour les patients.",
                "Les connaissances produites serviront à orienter la prévention.",
                "Les résultats seront publiés et partagés avec les associations de patients.",
            ]),
            "sponsor": sponsor["name"], "sponsor_kind": sponsor["kind"],
            "sponsor_city": sponsor["city"],
            "controller": rng.choice(organisations)["name"] if rng.random() < 0.15 else "",
            "funders": [rng.choice(["Agence nationale de la recherche (démonstration)",
                                    "Programme hospitalier de recherche clinique (démonstration)",
                                    "Fonds européen pour la recherche (démonstration)"])]
                       if rng.random() < 0.5 else [],
            "funder_kind": "agence",
            "sources": sources,
            "population": spec["population"],
            "period_start_year": start_year,
            "period_end_year": min(year, start_year + 12),
            "uses_ai": uses_ai,
            "data_linkage": len(sources) > 1 and rng.random() < 0.8,
            "legal_basis": rng.choices(["autorisation-cnil", "mr-004", "mr-005", "mr-006"],
                                       [70, 15, 10, 5])[0],
            "commercial": company and rng.random() < 0.7,
            "processing_location": "plateforme" if rng.random() < 0.75 else "ailleurs",
            "processing_location_detail": "" if rng.random() < 0.75 else
            "Espace sécurisé homologué du promoteur",
            "objections_applied": objections_applied,
            "objection_exception_reason": "" if objections_applied
            else rng.choice(EXCEPTION_REASONS),
            "themes": [theme] + ([extra_theme] if extra_theme and extra_theme != theme else []),
            "status": status,
            "cnil_decision": decision,
            "authorised_on": authorised_on.isoformat() if authorised_on else None,
            "planned_end": planned_end.isoformat(),
            "processing_ended_on": ended.isoformat() if ended else None,
            "objection_deadline": (planned_end - timedelta(days=180)).isoformat()
            if status not in ("termine", "abandonne", "avis-defavorable") else None,
            "status_events": events,
            "results": results,
            "_steps": steps,
        })
    return projects


def build_demo(session: Session, *, seed: int = 2026, count: int = 420,
               organisations: int = 72, today: date | None = None,
               progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Fill an empty register with the demo; returns counts. Deterministic for a seed."""
    today = today or date(2026, 11, 1)
    rng = random.Random(seed)
    service.sync_data_sources(session)
    orgs = build_organisations(rng, organisations)
    for org in orgs:
        service.get_or_create_organisation(session, org["name"], org["kind"], org["city"])
    projects = build_projects(rng, orgs, count, today)
    revisions = 0
    for data in projects:
        steps = data.pop("_steps")
        first_day = steps[0][1]
        moment = datetime(first_day.year, first_day.month, first_day.day, 10, tzinfo=UTC)
        if len(steps) > 2:
            # Publish as it was after its first steps, then as it is now: a real history.
            earlier = dict(data, status=steps[1][0],
                           status_events=data["status_events"][:2], results=[],
                           authorised_on=None, cnil_decision="", processing_ended_on=None)
            service.save_project(session, earlier, by="Équipe du registre (démonstration)",
                                 now=moment)
            revisions += 1
            last_day = steps[-1][1]
            moment = datetime(last_day.year, last_day.month, last_day.day, 15, tzinfo=UTC)
        service.save_project(session, data, by="Équipe du registre (démonstration)", now=moment)
        revisions += 1
        if progress:
            progress(1)
    session.flush()
    return {"projects": len(projects), "organisations": len(orgs), "revisions": revisions}
