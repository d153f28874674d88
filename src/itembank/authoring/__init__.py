"""The writers' room: drafts, CSV import and readable diffs between versions (bank.authoring)."""
