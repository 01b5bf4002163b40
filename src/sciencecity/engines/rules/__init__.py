"""Enterprise rules: high-tech enterprise (高新技术企业) and tech-SME (科技型中小企业) assessment, and a small
declarative eligibility language evaluated for many enterprises × many policies at once.

Pure Python + numpy; no Django. Modules:

- ``hnte``     high-tech enterprise self-assessment (办法 国科发火〔2016〕32号, 指引 国科发火〔2016〕195号)
- ``techsme``  tech-SME evaluation (国科发政〔2017〕115号), scoring tables as data under ``data/``
- ``profile``  the typed enterprise profile shared by both, and its JSON reader
- ``lang``     the eligibility rule language: parser, validator, per-record reference evaluator
- ``vector``   the columnar evaluator of all rules over all entities in one pass
- ``cli``      ``sciencecity hnte assess FILE.json [--json]``

Reasons come back as a stable code with values plus an English message, so a caller can word
them in the user's language.
"""
