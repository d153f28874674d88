"""The forms room, behind bank.forms: assembly of parallel forms from a blueprint, their
manifests, scoring, and the exporters (QTI, HTML, PDF)."""
