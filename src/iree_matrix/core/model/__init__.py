"""The record model: a record, its labels, metrics and host, the log and its index, outcomes, the
store, refusals and medians' intervals; above core/system/."""
