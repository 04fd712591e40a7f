"""The answer a user acts on, one per function and CPU or GPU identity, and the `advise` steps that
make it: what `advise` times (advise_plan), its sittings (sitting: the paired rounds; advise_sitting: a
CPU's arms; gpu_sitting: a run bundle's GPU sittings), each pick's proof (advise_proof), what advise
says and keeps around its sitting (advise_answer) and the sittings that arrive from other machines
(sittings). The document a sitting keeps is read back in findings/ (advice, gpu_advice, arms,
kernel_trials, neighbourhood, gap), which the answers' readers below this layer use too. The command
itself is tasks/advise.py, which only orders these steps and builds what they time."""
