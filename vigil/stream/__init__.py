"""Stream intake: content items arrive on NATS JetStream and ``vigil worker`` processes decide them.

``topology`` makes sure the stream and its durable consumer exist, ``items`` reads one message into
an item or a dead letter's reason, ``worker`` is the loop that fetches, decides, publishes and acks,
``local`` starts a NATS server on this machine (tests, ``vigil cluster up``). docs/stream.md says what
a platform publishes and what it gets back.
"""
