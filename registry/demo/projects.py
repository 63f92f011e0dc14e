"""The demo's projects: a plausible authorisation path from a fixed seed, then the project as
published at each step and at each result."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from registry.catalogue import DATA_SOURCES
from registry.demo.organisations import FUNDERS, NAMES, capitalise, french
from registry.demo.subjects import (
    AIMS,
    DEFAULT_SUMMARY,
    ELSEWHERE,
    EXCEPTIONS,
    RESULT_TITLES,
    SUMMARIES,
    THEME_SPECS,
    Subject,
)

TODAY = date(2026, 11, 1)
SINCE = {s["code"]: s["since_year"] for s in DATA_SOURCES}
YEAR_WEIGHTS = dict(zip(range(2019, 2027), [5, 8, 10, 13, 15, 17, 18, 14], strict=True))


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
            "title": capitalise(aim) + f" ({rng.choice(['étude', 'cohorte', 'projet'])} "
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
            "population": capitalise(spec["population"]),
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
