"""The exclusion lists sent to the data platform, and what it tells us back.

``verifier`` (the format, read and checked; standalone), ``models``, ``state`` (how the
published set moves), ``exports`` (files), ``signing``, ``delivery`` (pull, full, acknowledge),
``tokens`` and ``api`` (the platform's API), ``extractions`` and ``pages`` (proof of
application), ``cohort`` (the cohort check), ``escrow`` and ``rotation`` (pseudonym key
rotation), ``freshness``, ``retention``, ``cli``. See docs/exclusion-format.md.
"""
