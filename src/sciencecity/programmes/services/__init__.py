"""Funding-programme services, one module per part of the workflow (calls, applications,
experts and assignment, reviews, decisions, funded projects, integrity list)."""
