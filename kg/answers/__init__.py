"""Answers to users' questions: saved queries, entity resolution, show, screening (one name or a batch), rendering."""
