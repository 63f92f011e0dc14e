"""What the demo's projects study, theme by theme: subjects, populations, sources, aims,
summaries, result titles."""

from __future__ import annotations

from dataclasses import dataclass

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
