"""The record model: a record and its typed labels, metrics and host (records, metrics/,
host_identity), a cell's configuration and runtime as values (configuration), the JSON Lines log
and its index (results), exceptions made statuses and the one record factory (outcome), the
content-addressed store, how a runtime refuses a module (refusals), medians' intervals (stats).
Above core/system/: a record carries the host's description and the log is written under a lock."""
