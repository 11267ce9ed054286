"""Domain actions: one function per verb, shared by socket, REST, ingestion and CLI.

Each action validates, writes in one transaction (seq, row, log entry), commits, and only then
sends the event (Zulip's actions pattern). They are the only writers of sequenced events
(tests/test_event_schemas.py checks it); convoy_alerts writes in the transaction of the batch
of fixes (or the silence check) that raised them, and its caller emits after that commit.
"""
