"""What validate, coverage and currency say: per-file and bank-wide rules over records' facts,
item-writing lint, near-duplicates, and their text and JSON reports (pure)."""
