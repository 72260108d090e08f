"""E-mail: an outbox the scheduler sends over SMTP (or a log line where none is configured), and what needs
a mailbox: verified addresses and password reset by single-use links.

A request only ever enqueues (``outbox.enqueue``); ``outbox.send_due`` runs in the scheduler's
``service.mail_outbox`` job, so a slow or absent mail server never holds a request up. Rooms: ``models``,
``smtp_url`` (the setting), ``texts`` (every message's words), ``links`` (single-use tokens), ``transport``
(SMTP and log senders), ``outbox``, ``verification``, ``reset``, ``erasure``, ``schemas``, ``api``, ``pages``.
"""
