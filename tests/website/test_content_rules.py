"""What the pages say about the rules stays true and the same everywhere, in French and English.

These tests read the Markdown sources and the templates of the shell. Each rule is checked where
it is stated in full, and every page and template is searched for older, contradicting wording.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def page(lang: str, slug: str) -> str:
    return (ROOT / "content" / lang / f"{slug}.md").read_text("utf-8")


def everything(lang: str) -> dict[str, str]:
    texts = {path.name: path.read_text("utf-8") for path in (ROOT / "content" / lang).glob("*")}
    if lang == "en":
        texts["messages.po"] = (ROOT / "translations" / "website" / "en" / "LC_MESSAGES" /
                                "messages.po").read_text("utf-8")
    else:
        for path in (ROOT / "website" / "templates").rglob("*.html"):
            texts[path.name] = path.read_text("utf-8")
    return texts


# --- what an objection covers (one rule, stated the same way everywhere) ------------------------

SCOPE_RULE = {
    # where the rule is stated in full → the elements it must contain
    "fr": {
        "opposition": ["toutes les extractions de données faites après la date de votre opposition",
                       "nouveaux projets et pour les projets déjà en cours",
                       "les oppositions ne s'y appliquent pas", "déjà extraites",
                       "ne sont pas reprises", "vos soins et vos remboursements",
                       "base principale du SNDS", "accès permanent", "article 71",
                       "projets autorisés après elle", "va plus loin"],
        "questions-frequentes": ["toutes les extractions de données faites après la date",
                                 "projets en cours", "ne sont pas reprises",
                                 "projets autorisés après elle", "base principale du SNDS",
                                 "accès permanent"],
        "opposition-facile-a-lire": ["recherches déjà commencées", "avant votre demande",
                                     "Vos soins ne changent pas",
                                     "Vos remboursements ne changent pas"],
    },
    "en": {
        "opposition": ["every extraction of data made after the date of your objection",
                       "new projects and to projects already running",
                       "objections do not apply to it", "already extracted", "not taken back",
                       "does not affect your care or your reimbursements", "SNDS main base",
                       "permanent access", "article 71", "projects authorised after it",
                       "goes further"],
        "questions-frequentes": ["every extraction of data made after the date",
                                 "projects already running", "not taken back",
                                 "projects authorised after it", "SNDS main base",
                                 "permanent access"],
        "opposition-facile-a-lire": ["research that has already started", "before you asked",
                                     "Your care does not change",
                                     "Your reimbursements do not change"],
    },
}
# Older or narrower wordings that contradict the rule (an objection covering only future or new
# projects, or "removing" data already extracted).
CONTRADICTIONS = {
    "fr": [r"futurs projets", r"ne serviront plus aux nouvelles", r"projets futurs",
           r"seulement (aux|les) (nouveaux|futurs) projets", r"plus utilisées pour les nouveaux",
           r"déjà extraites[^.]*sont (pas )?retirées"],
    "en": [r"future (research )?projects", r"no longer used for new projects",
           r"only (to|for) new projects", r"not be used for new research",
           r"already extracted[^.]*removed",
           r"changes nothing to your care"],
}


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("slug", ["opposition", "questions-frequentes", "opposition-facile-a-lire"])
def test_the_objection_rule_is_stated_in_full(lang, slug):
    text = " ".join(page(lang, slug).split()).lower()
    missing = [element for element in SCOPE_RULE[lang][slug] if element.lower() not in text]
    assert not missing, f"{lang}/{slug}.md does not say: {missing}"


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_no_page_contradicts_the_objection_rule(lang):
    found = []
    for name, text in everything(lang).items():
        flat = " ".join(text.split())
        found += [f"{name}: {m.group(0)!r}" for pattern in CONTRADICTIONS[lang]
                  for m in re.finditer(pattern, flat, re.IGNORECASE)]
    assert not found, found


def test_the_contradiction_search_works():
    flat = "Votre opposition retire vos données des futurs projets de recherche."
    assert any(re.search(p, flat, re.IGNORECASE) for p in CONTRADICTIONS["fr"])


# --- accessibility statement (RGAA; loi n° 2005-102, art. 47) ----------------------------------

ACCESSIBILITY = {
    "fr": ["**non conforme**", "4.1.2", "article 47 de la loi n° 2005-102", "établie le",
           "axe-core", "Chromium", "clavier", "sans JavaScript", "Non-conformités connues",
           "schéma pluriannuel", "accessibilite@exemple.fr", "Défenseur des droits",
           "formulaire.defenseurdesdroits.fr", "carte-des-delegues", "09 69 39 00 00",
           "Libre réponse 71120, 75342 Paris CEDEX 07", "12 rue de l'Exemple, 75000 Paris"],
    "en": ["**not compliant**", "4.1.2", "article 47 of French law no. 2005-102", "drawn up on",
           "axe-core", "Chromium", "keyboard", "without JavaScript", "Known non-compliance",
           "schéma pluriannuel", "accessibilite@exemple.fr", "Défenseur des droits",
           "formulaire.defenseurdesdroits.fr", "carte-des-delegues", "09 69 39 00 00",
           "Libre réponse 71120, 75342 Paris CEDEX 07", "12 rue de l'Exemple, 75000 Paris"],
}


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_accessibility_statement_has_what_the_law_asks(lang):
    text = " ".join(page(lang, "accessibilite").split())
    missing = [element for element in ACCESSIBILITY[lang] if element not in text]
    assert not missing, missing
    assert "partiellement conforme" not in text and "partially compliant" not in text


@pytest.mark.parametrize(("prefix", "label"), [("", "Accessibilité : non conforme"),
                                               ("/en", "Accessibility: not compliant")])
def test_footer_gives_the_legal_compliance_status(client, prefix, label):
    footer = client.get(f"{prefix}/").get_data(as_text=True).split('class="site-footer"')[1]
    assert label in footer


# --- privacy page (GDPR art. 13) and legal notice -----------------------------------------------

PRIVACY = {
    "fr": ["responsable de traitement", "12 rue de l'Exemple, 75000 Paris", "dpo@exemple.fr",
           "article 6.1.c", "article 6.1.e", "Qui reçoit vos données", "hébergeur",
           "Tant que l'opposition est active", "encore un an",
           "Aussi longtemps que votre opposition",
           "Seulement pendant la vérification", "Effacé dès qu'elle est finie",
           "24 heures au plus", "Union européenne", "accès", "effacement", "limiter",
           "délai d'un mois", "cnil.fr/fr/plaintes", "3 place de Fontenoy", "numéro de sécurité "
           "sociale est nécessaire", "Aucune décision n'est prise par un programme seul"],
    "en": ["data controller", "12 rue de l'Exemple, 75000 Paris", "dpo@exemple.fr",
           "article 6(1)(c)", "article 6(1)(e)", "Who receives your data", "host",
           "While the objection is active", "one more year", "As long as your objection",
           "Only during the check", "Deleted as soon as it is over", "24 hours at most",
           "European Union", "access", "erasure", "restricted", "within one month",
           "cnil.fr/fr/plaintes", "3 place de Fontenoy", "social security number is needed",
           "No decision about you is taken by a program alone"],
}


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_privacy_page_gives_what_gdpr_article_13_requires(lang):
    text = " ".join(page(lang, "donnees-personnelles").split())
    missing = [element for element in PRIVACY[lang] if element not in text]
    assert not missing, missing
    assert "quelques minutes" not in text and "few minutes" not in text  # IPs: up to 24 h


LEGAL_NOTICE = ["12 rue de l'Exemple, 75000 Paris", "Camille Exemple", "Hébergeur Exemple SAS",
                "1 avenue des Serveurs, 59000 Lille", "contact@exemple.fr"]


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_legal_notice_names_publisher_director_host_and_postal_address(lang):
    text = page(lang, "mentions-legales")
    missing = [element for element in LEGAL_NOTICE if element not in text]
    assert not missing, missing
    assert "fictitious" in text or "fictif" in text  # obviously a demonstration


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_contact_page_points_to_the_postal_address_it_promises(lang):
    text = page(lang, "contact")
    assert "(/a-propos/mentions-legales)" in text
    assert "12 rue de l'Exemple, 75000 Paris" in text


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_fictional_organisation_is_the_same_on_every_page(lang):
    addresses = set()
    for text in everything(lang).values():
        addresses |= set(re.findall(r"\d+ rue de l'[A-Z]\w+, \d{5} \w+", text))
    assert addresses == {"12 rue de l'Exemple, 75000 Paris"}, addresses


# --- reference methodologies and minors ----------------------------------------------------------

@pytest.mark.parametrize("lang", ["fr", "en"])
def test_mr_004_is_not_presented_as_giving_snds_access(lang):
    text = " ".join(page(lang, "autorisation-des-projets").split())
    assert "MR-005" in text and "MR-006" in text and "PMSI" in text
    if lang == "fr":
        assert "À elle seule, elle ne donne pas accès au SNDS" in text
    else:
        assert "on its own, it does not give access to the SNDS" in text
    for other in ("fr", "en"):
        glossary = (ROOT / "content" / other / "glossaire.yml").read_text("utf-8")
        assert not re.search(r"comme MR-004|such as MR-004", glossary)
    assert not re.search(r"(par exemple|such as) MR-004", text)


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_minors_page_states_the_rule_and_links_its_source(lang):
    text = " ".join(page(lang, "mineurs-et-personnes-protegees").split())
    if lang == "fr":
        assert "moins de 15 ans, un parent ou le représentant légal fait la demande" in text
        assert "À partir de 15 ans, le mineur peut faire la demande seul" in text
    else:
        assert "under 15, a parent or the legal representative files the request" in text
        assert "From the age of 15, minors may file the request alone" in text
    assert "legifrance.gouv.fr" in text and "(/a-propos/contact)" in text
    assert "documentation technique" not in text and "technical documentation" not in text
