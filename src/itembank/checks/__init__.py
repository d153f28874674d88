"""Everything validate, coverage and currency report: per-file and bank-wide rules over records'
facts, item-writing lint, near-duplicates, and the text and JSON reporters (pure)."""
