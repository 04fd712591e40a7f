"""Answers from results: windows, recommendations and regressions, each exporter's compilers,
compat.json, queries, an `advise` sitting read back as its answers (advice, gpu_advice), the flag
search's verdicts, the roofline, the speed verdicts' calibration, the CPU identity of each figure,
shards merged, publishing, the Pi Zero's `armv6-smoke` session."""
