"""Invented organisations with plausible French names, and the French the demo's texts need
(elision and contractions)."""

from __future__ import annotations

import random
import unicodedata

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


def capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]

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
