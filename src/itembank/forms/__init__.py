"""The forms room: assembly of parallel forms, manifests, scoring and exporters
(bank.forms)."""
