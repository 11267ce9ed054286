"""Domain actions: one function per verb, shared by socket, REST, ingestion and CLI.

Each action validates, writes in one transaction (seq, row, log entry), commits, and only then
sends the event (Zulip's actions pattern).
"""
