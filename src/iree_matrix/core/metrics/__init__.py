"""Each stage's metrics as one frozen dataclass (`records.StageMetrics`), a module per stage: what
the stage writes (`written`), declares (`described`, its `metrics`) and every reader reads back
(`record.metric.of(...)`). In the foundation layer, so the answers and the report read them
without importing the stages."""
