"""The writers' room, behind bank.authoring: drafts of new content, CSV import, and readable
diffs between two versions of an item."""
