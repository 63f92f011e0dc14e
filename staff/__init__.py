"""Staff of the platform: accounts, roles, the second factor and the staff audit trail.

Below the domains: ``registry`` and ``objection`` ask it who is acting and whether they may
(their back-office views), and record what staff did in its audit trail; it knows neither.
"""
