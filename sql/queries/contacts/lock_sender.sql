-- Serializes first contact from one sender across processes, so one conversation is opened.
SELECT pg_advisory_xact_lock(hashtextextended($1::text || ':' || $2, 0));
