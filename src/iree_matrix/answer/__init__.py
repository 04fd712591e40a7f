"""The answer a user acts on, one per function and CPU or GPU identity, and everything that makes it:
what `advise` times (advise_plan), its sittings (sitting: the paired rounds; advise_sitting: a CPU's
arms; gpu_sitting: a run bundle's GPU sittings), each pick's proof (advise_proof, neighbourhood), the
gap to the best peer (gap), the kernel arms (kernel_trials), what advise says and keeps around its
sitting (advise_answer), the document read back as `Advice` (advice, arms, gpu_advice) and the
sittings that arrive from other machines (sittings). The command itself is tasks/advise.py, which
only orders these steps and builds what they time."""
