"""The expert panels' room: review rules and records, blind answers and the review queue
(bank.review)."""
