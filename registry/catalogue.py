"""The data sources the register refers to: the parts of the SNDS main base and the databases
of its catalogue. Real names and holders, from public documents of the platform."""

from __future__ import annotations

from registry.models import SourceKind

MAIN = SourceKind.MAIN_BASE
CATALOGUE = SourceKind.CATALOGUE

DATA_SOURCES: list[dict] = [
    dict(code="DCIR", kind=MAIN, since_year=2006,
         name="Datamart de consommation inter-régimes (DCIR)",
         holder="Caisse nationale de l'Assurance Maladie (CNAM)",
         description="Les soins remboursés en ville par tous les régimes d'assurance maladie.",
         content="Consultations, médicaments délivrés en pharmacie, analyses de biologie, "
                 "actes des professionnels de santé, arrêts de travail, affections de longue "
                 "durée. Chaque soin remboursé y est enregistré, sans nom ni adresse."),
    dict(code="PMSI-MCO", kind=MAIN, since_year=2006,
         name="PMSI – Médecine, chirurgie, obstétrique (MCO)",
         holder="Agence technique de l'information sur l'hospitalisation (ATIH)",
         description="Les séjours à l'hôpital en médecine, chirurgie et obstétrique.",
         content="Diagnostics, actes réalisés, durée du séjour, dispositifs médicaux "
                 "implantables et médicaments onéreux, pour les hôpitaux publics et privés."),
    dict(code="PMSI-SMR", kind=MAIN, since_year=2006,
         name="PMSI – Soins médicaux et de réadaptation (SMR)",
         holder="Agence technique de l'information sur l'hospitalisation (ATIH)",
         description="Les séjours de soins de suite et de réadaptation (anciennement SSR).",
         content="Rééducation, réadaptation, prise en charge après une hospitalisation."),
    dict(code="PMSI-HAD", kind=MAIN, since_year=2006,
         name="PMSI – Hospitalisation à domicile (HAD)",
         holder="Agence technique de l'information sur l'hospitalisation (ATIH)",
         description="Les hospitalisations organisées au domicile du patient.",
         content="Soins complexes réalisés à domicile par un établissement d'HAD."),
    dict(code="PMSI-PSY", kind=MAIN, since_year=2007,
         name="PMSI – Psychiatrie (PSY)",
         holder="Agence technique de l'information sur l'hospitalisation (ATIH)",
         description="Les prises en charge en établissement de psychiatrie.",
         content="Hospitalisations complètes ou partielles et suivis ambulatoires en "
                 "psychiatrie."),
    dict(code="CEPIDC", kind=MAIN, since_year=2006,
         name="Causes médicales de décès (CépiDc)",
         holder="Inserm – Centre d'épidémiologie sur les causes médicales de décès",
         description="Les causes médicales de décès, issues des certificats de décès.",
         content="Cause principale et causes associées du décès, date et lieu."),
    dict(code="SI-DEP", kind=MAIN, since_year=2020,
         name="Système d'information de dépistage de la COVID-19 (SI-DEP)",
         holder="Ministère chargé de la santé",
         description="Les résultats des tests de dépistage de la COVID-19.",
         content="Date et résultat des tests PCR et antigéniques."),
    dict(code="VAC-SI", kind=MAIN, since_year=2021,
         name="Système d'information de la vaccination COVID-19 (VAC-SI)",
         holder="Caisse nationale de l'Assurance Maladie (CNAM)",
         description="Les vaccinations contre la COVID-19.",
         content="Date, rang et vaccin de chaque injection."),
    dict(code="BNDMR", kind=CATALOGUE, since_year=2022,
         name="Banque nationale de données maladies rares (BNDMR)",
         holder="Assistance publique – Hôpitaux de Paris (AP-HP)",
         description="Les patients suivis dans les centres experts des maladies rares.",
         content="Diagnostic de la maladie rare, âge au diagnostic, centre de suivi."),
    dict(code="ESME", kind=CATALOGUE, since_year=2022,
         name="Épidémio-stratégie médico-économique (ESME)",
         holder="Unicancer",
         description="Les parcours de soins des personnes traitées dans les centres de lutte "
                     "contre le cancer.",
         content="Données cliniques des cancers du sein, de l'ovaire et du poumon : stade, "
                 "traitements, évolution."),
    dict(code="OSCOUR", kind=CATALOGUE, since_year=2022,
         name="Organisation de la surveillance coordonnée des urgences (OSCOUR)",
         holder="Santé publique France",
         description="Les passages aux urgences hospitalières.",
         content="Motif de recours, diagnostic, orientation après les urgences."),
    dict(code="ATU-CBPC", kind=CATALOGUE, since_year=2022,
         name="Cohorte ATU – cancer bronchique à petites cellules (ATU CBPC)",
         holder="Roche",
         description="Les patients traités dans le cadre d'une autorisation temporaire "
                     "d'utilisation pour un cancer du poumon à petites cellules.",
         content="Traitement reçu, tolérance, survie."),
    dict(code="E-SIS", kind=CATALOGUE, since_year=2022,
         name="Données de dépistage des cancers (e-SIS)",
         holder="Centre régional de coordination des dépistages des cancers d'Occitanie",
         description="Les dépistages organisés des cancers en Occitanie.",
         content="Invitations, examens de dépistage et leurs résultats."),
    dict(code="HEPATHER", kind=CATALOGUE, since_year=2022,
         name="Cohorte Hepather (hépatites B et C)",
         holder="Inserm / ANRS – Maladies infectieuses émergentes",
         description="Une cohorte de personnes atteintes d'hépatite B ou C.",
         content="Suivi clinique et biologique, traitements antiviraux."),
    dict(code="E-MUST", kind=CATALOGUE, since_year=2022,
         name="Données des services médicaux d'urgence (e-MUST)",
         holder="Agence régionale de santé d'Île-de-France",
         description="Les interventions des SAMU et SMUR en Île-de-France.",
         content="Appels, délais d'intervention, prise en charge préhospitalière."),
]
