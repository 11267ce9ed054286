"""Delivery of the outbox (models/outbox.py): the workers every instance runs, and the
channels (e-mail over SMTP, …) behind one interface."""
