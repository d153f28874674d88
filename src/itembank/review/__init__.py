"""The expert panels' room, behind bank.review: review rules and records, blind answers and the
review queue."""
