"""The directory (issue 14): contacts' search index, their CSV and vCard files, the review
cycle; the plans half adds its modules here. The writes are hub/actions/contacts.py's."""
