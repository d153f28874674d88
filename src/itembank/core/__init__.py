"""The shared vocabulary of every room: records' ids and places, strict JSON in and canonical
JSON out, the schemas, findings, errors, the review workflow's states and safe rendering (pure)."""
